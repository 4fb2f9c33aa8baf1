package pages

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/query"
)

var exploreNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// exploreSite is a test site with CPU series of two hosts and one whose
// name is markup.
func exploreSite(t *testing.T, o siteOptions) *testSite {
	t.Helper()
	s := newTestSite(t, exploreNow, o)
	for i, h := range []string{"web1", "web2", "<script>alert(1)</script>"} {
		s.write(s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", h), 360, 10*time.Second,
			func(j int) float64 { return float64(90 - 10*i + j%3) })...)
	}
	return s
}

// explorePage fetches /explore with the given parameters (name, value
// pairs), wanting 200.
func explorePage(t *testing.T, s *testSite, kv ...string) string {
	t.Helper()
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	code, body := s.get("/explore?" + v.Encode())
	if code != http.StatusOK {
		t.Fatalf("GET /explore?%s = %d: %s", v.Encode(), code, body)
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a label value or the query was written as markup")
	}
	return body
}

// chartOption decodes the echarts options of the chart with id.
func chartOption(t *testing.T, body, id string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `" data-option="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no chart %q in the page", id)
	}
	var opt map[string]any
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &opt); err != nil {
		t.Fatalf("chart %q options: %v", id, err)
	}
	return opt
}

// seriesNames returns the names of the series of a chart's options.
func seriesNames(opt map[string]any) []string {
	var out []string
	series, _ := opt["series"].([]any)
	for _, s := range series {
		if m, ok := s.(map[string]any); ok {
			name, _ := m["name"].(string)
			out = append(out, name)
		}
	}
	return out
}

func TestExplore_RangeQuery(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s, "q", `100 - cpu_usage_idle{cpu="cpu-total"}`, "from", "now-30m")
	mustContain(t, body, `id="explore-q"`, `value="100 - cpu_usage_idle{cpu=&#34;cpu-total&#34;}"`, `id="explore-chart"`,
		`id="explore-table"`, `3 series, a point every 10s`, `<span class="lv">"web1"</span>`,
		`<option value="cpu_usage_idle">`, `&lt;script&gt;alert(1)&lt;/script&gt;`, `/ui/assets/explore.js`, `/ui/assets/echarts.min.js`,
		// The range form carries the query on.
		`<input type="hidden" name="q" value="100 - cpu_usage_idle{cpu=&#34;cpu-total&#34;}">`,
		// ... and the query form the range.
		`<input type="hidden" name="from" value="now-30m">`)
	opt := chartOption(t, body, "explore-chart")
	if got := seriesNames(opt); len(got) != 3 || got[2] != "cpu=cpu-total, host=web2" {
		t.Errorf("chart series %q", got)
	}
	// The last value of web1 (i=0): 90 + 359%3 = 92, minus from 100.
	if !strings.Contains(body, `<td class="num">8</td>`) {
		t.Error("the table lacks web1's last value (8)")
	}
}

func TestExplore_PointsPerSeries(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s, "q", "cpu_usage_idle", "from", "now-30d")
	mustContain(t, body, "a point every 1h0m0s")
	series, _ := chartOption(t, body, "explore-chart")["series"].([]any)
	for _, x := range series {
		if data, _ := x.(map[string]any)["data"].([]any); len(data) > MaxPoints {
			t.Errorf("a series of %d points", len(data))
		}
	}
}

func TestExplore_BadQuery(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s, "q", `rate(cpu_usage_idle{host="<script>alert(1)</script>"}[5m]`)
	mustContain(t, body, `id="explore-error"`, `parse error`, `id="explore-caret"`,
		`value="rate(cpu_usage_idle{host=&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;}[5m]"`)
	if strings.Contains(body, `id="explore-chart"`) || strings.Contains(body, `id="explore-table"`) {
		t.Error("a chart or a table for a query that failed")
	}
	// The caret sits under where parsing stopped: the end of the query.
	m := regexp.MustCompile(`(?s)id="explore-caret">(.*?)\n( *)\^</pre>`).FindStringSubmatch(body)
	if m == nil || len(m[2]) != len([]rune(html.UnescapeString(m[1]))) {
		t.Errorf("caret: %q", m)
	}
	body = explorePage(t, s, "q", "nosuchfunction(cpu_usage_idle)")
	mustContain(t, body, `id="explore-error"`, "nosuchfunction", "Check the function&#39;s name")
}

func TestExplore_TooManySamples(t *testing.T) {
	s := exploreSite(t, siteOptions{deps: func(d *Deps) {
		d.Engine = query.NewEngine(d.Storage, query.Options{MaxSamples: 50, Now: d.Now})
	}})
	body := explorePage(t, s, "q", "cpu_usage_idle", "from", "now-1h")
	mustContain(t, body, `id="explore-error"`, "too many samples", "shorten the range")
}

func TestExplore_Empty(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s, "q", "no_such_metric")
	mustContain(t, body, `id="explore-empty"`, "No series")
	body = explorePage(t, s, "q", "no_such_metric", "instant", "1")
	mustContain(t, body, `id="explore-empty"`, "at 2026-12-01 12:00:00Z")
}

func TestExplore_Instant(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s, "q", `cpu_usage_idle{host="web2"}`, "instant", "1")
	mustContain(t, body, `id="explore-instant" checked`, `id="explore-table"`, `<th class="num">value</th>`, `<td class="num">82</td>`,
		`<td>2026-12-01 12:00:00Z</td>`, `<input type="hidden" name="instant" value="1">`)
	if strings.Contains(body, `id="explore-chart"`) {
		t.Error("a chart in instant mode")
	}
	body = explorePage(t, s, "q", "1 + 1", "instant", "1")
	mustContain(t, body, `<span class="m">scalar</span>`, `<td class="num">2</td>`)
	// A string has no range: it is shown as one value.
	body = explorePage(t, s, "q", `"<b>hi</b>"`)
	mustContain(t, body, `id="explore-note"`, `<span class="m">string</span>`, `<td class="num">&lt;b&gt;hi&lt;/b&gt;</td>`)
}

func TestExplore_NoQuery(t *testing.T) {
	s := exploreSite(t, siteOptions{})
	body := explorePage(t, s)
	mustContain(t, body, `id="explore-help"`, `id="explore-metric-list"`, `<a href="/explore?q=cpu_usage_idle">cpu_usage_idle</a>`,
		`1 metric names offered as you type`)
	if strings.Contains(body, "echarts.min.js") {
		t.Error("the page loads echarts with no chart to draw")
	}
}

func TestCaretAt(t *testing.T) {
	f := func(q string, pos int, line, pad string) {
		t.Helper()
		c := caretAt(q, pos)
		if c.Line != line || c.Pad != pad {
			t.Errorf("caretAt(%q, %d) = %q, %q; want %q, %q", q, pos, c.Line, c.Pad, line, pad)
		}
	}
	f("rate(x", 6, "rate(x", "      ")
	f("sum(\n\trate(x)", 9, " rate(x)", "    ")
	f("é(", 3, "é(", "  ")
	f("x", 99, "x", " ")
}
