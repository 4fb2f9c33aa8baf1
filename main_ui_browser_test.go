package main

// Browser tests of the pages (issue 9): Debian's headless Chromium, driven
// with chromedp, opens every page of the real binary, fed by lpload's
// Telegraf workload and the real collectd daemon, and checks that each
// loads, draws its charts, asks no host but outpost for anything, shows
// HTML label values as text and works at a phone's width; screenshots and
// a table of requests and bytes per page go to the test's artifact
// directory (go test -run TestUI_Browser -artifacts -outputdir DIR .).

import (
	"flag"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// uiPage is one page the browser tests open.
type uiPage struct {
	name      string // for subtests, screenshots and the table
	path      string
	minCharts int    // charts that must draw series (coloured pixels in the plot area) at least
	xss       bool   // the page prints xssValue, which must show as text
	collectd  bool   // the page is the real collectd daemon's host
	self      bool   // the page draws outpost's own ingest series: wait until they span a few steps
	follow    string // a CSS selector: open the first link it finds too, as name+"-first"
}

// uiPages are the pages of issue 9, in the order the browser opens them.
// A page that answers 404 fails its subtest: it is not built yet.
func uiPages() []uiPage {
	return []uiPage{
		{name: "hosts", path: "/hosts", xss: true},
		{name: "host-telegraf", path: "/hosts/" + telegrafHost, minCharts: 3},
		{name: "host-xss", path: "/hosts/" + url.PathEscape(xssValue), minCharts: 1, xss: true},
		{name: "dashboards", path: "/dashboards", follow: `main a[href^="/dashboards/"]`},
		{name: "explore", path: "/explore?q=" + url.QueryEscape("ui_demo_value"), minCharts: 1, xss: true},
		{name: "alerts", path: "/alerts", xss: true},
		{name: "rules", path: "/rules"},
		{name: "status", path: "/status"},
		// Last, so that the daemon and outpost's own ingest series have a
		// few points to draw.
		{name: "host-collectd", path: "/hosts/" + collectdHost + "?from=now-15m", minCharts: 1, collectd: true},
		{name: "overview", path: "/", minCharts: 1, xss: true, self: true},
	}
}

// TestUI_Browser opens every page in headless Chromium and checks what
// issue 9 asks of each; then it uses the ack and silence buttons of the
// alerts page, and is refused without the admin role or the form token.
func TestUI_Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts outpost, collectd and Chromium")
	}
	chromium := needChromium(t)
	needECharts(t)
	outpostBinary(t) // built before the clock starts
	began := time.Now()
	u := startUIServer(t, uiServerOpts{tokens: true, collectd: true, hosts: 5, hours: 2, self: time.Second})
	t.Logf("outpost ready with %d lines from %s, 3 alerts firing, in %v (%s)", u.lines, u.source,
		time.Since(began).Round(time.Millisecond), strings.Join(u.took, ", "))
	b := newBrowser(t, chromium, u.base)
	b.auth(t, uiAdminToken)
	dir := t.ArtifactDir()

	var rows []pageRow
	pages := uiPages()
	for i := 0; i < len(pages); i++ {
		pg := pages[i]
		t.Run(pg.name, func(t *testing.T) {
			if pg.collectd && !u.collectd {
				missingDep(t, "%s", u.noCollectd)
			}
			if pg.self {
				u.waitSelf(t, 25)
			}
			row, next := b.visit(t, pg, dir, len(rows))
			rows = append(rows, row)
			if pg.follow != "" && next != "" {
				pages = slices.Insert(pages, i+1, uiPage{name: pg.name + "-first", path: next})
			}
		})
	}
	writePageTable(t, dir, rows)

	t.Run("ack_silence", func(t *testing.T) { testAckSilence(t, b, u) })
	t.Run("rule_editor", func(t *testing.T) { testRuleEditor(t, b, u, dir) })

	if d := b.log.allDialogs(); len(d) > 0 {
		t.Errorf("dialogs opened (a label value ran as script?): %q", d)
	}
	kept := "removed after the test: keep them with go test -run TestUI_Browser -artifacts -outputdir DIR ."
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		kept = "kept"
	}
	t.Logf("browser test: %v in all; screenshots and requests.txt in %s (%s)", time.Since(began).Round(time.Millisecond), dir, kept)
}

// pageRow is one line of the table of requests and bytes per page.
type pageRow struct {
	name, path    string
	status        int64
	requests      int
	bytes         float64
	hosts         map[string]int
	charts, drawn int
}

// chartStat is what one .chart element holds once drawn.
type chartStat struct {
	ID       string  `json:"id"`
	Canvases int     `json:"canvases"`
	Painted  int     `json:"painted"` // pixels that are not transparent
	Series   int     `json:"series"`  // opaque pixels of a saturated colour inside the plot area: lines, not axes, text or legend
	Width    float64 `json:"width"`   // of the widest canvas, in CSS pixels
}

// chartStatsJS reads every .chart's canvases back with getImageData. The
// plot area is the chart's grid as echarts laid it out (the whole canvas
// for a chart without one).
const chartStatsJS = `[...document.querySelectorAll('.chart')].map(el => {
  const s = {id: el.id, canvases: 0, painted: 0, series: 0, width: 0};
  let grid = null;
  try { grid = echarts.getInstanceByDom(el).getModel().getComponent('grid').coordinateSystem.getRect(); } catch (e) {}
  for (const c of el.querySelectorAll('canvas')) {
    s.canvases++;
    const w = c.getBoundingClientRect().width;
    s.width = Math.max(s.width, w);
    if (!c.width || !c.height || !w) continue;
    const k = c.width / w;
    const r = grid ? {x0: grid.x * k, y0: grid.y * k, x1: (grid.x + grid.width) * k, y1: (grid.y + grid.height) * k} : {x0: 0, y0: 0, x1: c.width, y1: c.height};
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i+3] === 0) continue;
      s.painted++;
      const x = (i / 4) % c.width, y = Math.floor(i / 4 / c.width);
      if (x >= r.x0 && x <= r.x1 && y >= r.y0 && y <= r.y1 && d[i+3] > 128 &&
          Math.max(d[i], d[i+1], d[i+2]) - Math.min(d[i], d[i+1], d[i+2]) > 50) s.series++;
    }
  }
  return s;
})`

// Thresholds of a drawn chart: echarts' axes and labels alone paint
// thousands of pixels; a series line over the plot area a few hundred
// coloured ones, a short one tens.
const (
	minPainted = 500
	minSeries  = 50
)

// visit opens one page and checks it; it returns the page's row and, when
// pg.follow finds a link, the link's path.
func (b *browser) visit(t *testing.T, pg uiPage, dir string, n int) (pageRow, string) {
	b.viewport(t, 1280, false)
	b.log.take() // what came before belongs to no page
	row := pageRow{name: pg.name, path: pg.path}
	var phases []string
	last := time.Now()
	mark := func(what string) {
		phases = append(phases, fmt.Sprintf("%s %v", what, time.Since(last).Round(time.Millisecond)))
		last = time.Now()
	}
	resp := b.open(t, pg.path)
	mark("load")
	row.status = resp.Status
	shot := func(suffix string) {
		img := tabRun(t, b, 20*time.Second, "screenshot", chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d-%s-%s.png", n, pg.name, suffix)), img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if resp.Status != 200 {
		text := tabEval[string](t, b, `document.body ? document.body.innerText.slice(0, 300) : ""`)
		shot("1280")
		if resp.Status == 404 {
			t.Errorf("GET %s: 404 (the page is not built yet?): %s", pg.path, text)
		} else {
			t.Errorf("GET %s: HTTP %d: %s", pg.path, resp.Status, text)
		}
		b.finish(t, &row)
		return row, ""
	}

	// Charts: every .chart gets a canvas with pixels drawn.
	allPainted := fmt.Sprintf(`(%s).every(s => s.canvases > 0 && s.painted >= %d)`, chartStatsJS, minPainted)
	tabPoll(t, b, 10*time.Second, allPainted)
	mark("charts")
	stats := tabEval[[]chartStat](t, b, chartStatsJS)
	row.charts = len(stats)
	for _, s := range stats {
		switch {
		case s.Canvases == 0:
			t.Errorf("chart #%s has no canvas: echarts did not draw it", s.ID)
		case s.Painted < minPainted:
			t.Errorf("chart #%s: %d pixels painted, want at least %d", s.ID, s.Painted, minPainted)
		}
		if s.Series >= minSeries {
			row.drawn++
		}
	}
	if row.drawn < pg.minCharts {
		t.Errorf("%d of %d charts draw series (%d coloured pixels or more in the plot area), want at least %d: %+v", row.drawn, len(stats), minSeries, pg.minCharts, stats)
	}
	if msgs := tabEval[[]string](t, b, `[...document.querySelectorAll('.chart .chart-msg')].map(e => e.textContent)`); len(msgs) > 0 {
		t.Errorf("charts still show their message: %q", msgs)
	}

	// A label value that is HTML shows as text, and no script holds it.
	if pg.xss {
		visible := tabEval[bool](t, b, fmt.Sprintf(`document.body.innerText.includes(%q)`, xssValue))
		if !visible {
			t.Errorf("the label value %s is not visible as text on %s", xssValue, pg.path)
		}
	}
	if n := tabEval[int](t, b, `[...document.scripts].filter(s => s.textContent.includes('alert(1)') || (!s.src && (!s.type || /javascript|module/.test(s.type)))).length`); n > 0 {
		t.Errorf("%d inline or injected script elements on %s", n, pg.path)
	}
	shot("1280")
	mark("checks+shot")

	// At a phone's width: no sideways scrolling, charts resized.
	b.viewport(t, 400, true)
	fits := `document.documentElement.scrollWidth <= 401 && [...document.querySelectorAll('.chart canvas')].every(c => c.getBoundingClientRect().width <= 400)`
	if !tabPoll(t, b, 3*time.Second, fits) {
		wide := tabEval[[]string](t, b, `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 401).slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : '') + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')`)
		t.Errorf("at 400 px wide the page is %d px wide; past the edge: %q",
			tabEval[int](t, b, `document.documentElement.scrollWidth`), wide)
	}
	shot("400")
	mark("phone+shot")
	b.viewport(t, 1280, false)

	next := ""
	if pg.follow != "" {
		next = tabEval[string](t, b, fmt.Sprintf(`(document.querySelector(%q) || {}).pathname || ""`, pg.follow))
		if next != "" {
			next += tabEval[string](t, b, fmt.Sprintf(`document.querySelector(%q).search`, pg.follow))
		}
	}
	b.finish(t, &row)
	t.Logf("took %s", strings.Join(phases, ", "))
	return row, next
}

// finish checks the page's requests (all to outpost), console and dialogs,
// and fills in row's request figures. data: and blob: URLs (Chromium's own
// icons, such as the calendar of a date field) are listed but are not
// requests.
func (b *browser) finish(t *testing.T, row *pageRow) {
	t.Helper()
	own := strings.TrimPrefix(b.base, "http://")
	reqs, problems, dialogs := b.log.take()
	row.hosts = map[string]int{}
	for _, r := range reqs {
		row.hosts[r.host]++
		if r.local {
			continue
		}
		row.requests++
		row.bytes += r.bytes
		if r.host != own {
			t.Errorf("a request to another host than outpost (%s): %s %s", own, r.method, r.url)
		}
		if r.failed != "" && row.status == 200 {
			t.Errorf("request failed: %s %s: %s", r.method, r.url, r.failed)
		} else if r.status >= 400 && r.typ != network.ResourceTypeDocument {
			t.Errorf("request answered %d: %s %s%s", r.status, r.method, r.url, hint(r))
		}
	}
	if row.status == 200 {
		for _, p := range problems {
			if !strings.Contains(p, "/favicon.ico") { // reported above with its hint
				t.Errorf("console: %s", p)
			}
		}
	}
	if len(dialogs) > 0 {
		t.Errorf("dialogs opened: %q", dialogs)
	}
	t.Logf("%s: HTTP %d, %d requests, %.0f bytes, %d charts (%d with series), hosts %v",
		row.path, row.status, row.requests, row.bytes, row.charts, row.drawn, row.hosts)
}

// hint says what to do about a refused request the pages make.
func hint(r *tabReq) string {
	if strings.HasSuffix(r.url, "/favicon.ico") {
		return ` (browsers ask every site for /favicon.ico unless the page names an icon, and log the 404 as an error: ` +
			`give the layout <link rel="icon" href="data:,"> or serve one)`
	}
	return ""
}

// writePageTable logs the requests and bytes per page and writes them to
// requests.txt in dir.
func writePageTable(t *testing.T, dir string, rows []pageRow) {
	t.Helper()
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\tstatus\trequests\tbytes\tcharts\twith series\thosts\t")
	for _, r := range rows {
		var hosts []string
		for _, h := range slices.Sorted(maps.Keys(r.hosts)) {
			hosts = append(hosts, fmt.Sprintf("%s×%d", h, r.hosts[h]))
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%d\t%d\t%s\t\n", r.path, r.status, r.requests, r.bytes, r.charts, r.drawn, strings.Join(hosts, " "))
	}
	tw.Flush()
	t.Logf("requests and bytes per page (cache off, bytes as received, headers included):\n%s", sb.String())
	if err := os.WriteFile(filepath.Join(dir, "requests.txt"), []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
