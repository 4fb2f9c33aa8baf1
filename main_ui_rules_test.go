package main

// The rule editor in the browser (issue 9's Rules, issue 11's create ->
// test -> save): as admin, write a rule group over the fixture's
// Telegraf CPU data, Test it (the page draws a chart per alert series with
// its thresholds and state timeline, and lists the would-be
// notifications), Save it, and find it loaded on /rules.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uiEditGroup is the group the browser writes: the fixture's hosts are
// 25 ± 10 % busy over two hours, so each crosses the warn and crit lines.
const uiEditGroup = `name: ui-edit
interval: 1m
rules:
- alert: UIEditCPU
  expr: 100 - cpu_usage_idle{cpu="cpu-total"}
  warn: "> 30"
  crit: "> 34"
  clear: "< 28"
  annotations:
    summary: "CPU busy on {{ $labels.host }}"
`

// testRuleEditor drives the editor in b as admin; screenshots go to dir.
func testRuleEditor(t *testing.T, b *browser, u *uiServer, dir string) {
	b.viewport(t, 1280, false)
	b.log.take()
	path := "/rules/edit?from=now-3h"
	if resp := b.open(t, path); resp.Status != 200 {
		t.Fatalf("GET %s: HTTP %d", path, resp.Status)
	}
	yml, _ := json.Marshal(uiEditGroup)
	tabEval[bool](t, b, fmt.Sprintf(`(document.getElementById('rule-yaml-input').value = %s, true)`, yml))
	submit := func(button string) (int64, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
		defer cancel()
		resp, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](
			fmt.Sprintf(`document.getElementById(%q).click()`, button)))
		if err != nil {
			t.Fatalf("press %s: %v", button, err)
		}
		p := resp.URL
		if pu, err := url.Parse(resp.URL); err == nil {
			p = pu.Path
		}
		return resp.Status, p
	}

	// Test: totals, charts drawn, notifications listed, the YAML kept.
	if status, p := submit("test-button"); status != 200 || p != "/rules/edit" {
		t.Fatalf("Test answered HTTP %d at %s: %s", status, p, tabEval[string](t, b, `document.body.innerText.slice(0, 400)`))
	}
	if msgs := tabEval[[]string](t, b, `[...document.querySelectorAll('.banner.err')].map(e => e.textContent)`); len(msgs) > 0 {
		t.Fatalf("Test shows errors: %q", msgs)
	}
	if kept := tabEval[string](t, b, `document.getElementById('rule-yaml-input').value`); kept != uiEditGroup {
		t.Errorf("the textarea holds %q after Test, want the group written", kept)
	}
	series := tabEval[int](t, b, `+document.querySelector('#test-totals .t-series').textContent`)
	notes := tabEval[int](t, b, `document.querySelectorAll('#test-notifications tr.notification').length`)
	firing := tabEval[int](t, b, `document.querySelectorAll('#test-notifications tr.kind-firing').length`)
	if series < 1 || notes < 1 || firing < 1 {
		t.Errorf("Test found %d alert series and %d notification rows (%d firing): want some of each", series, notes, firing)
	}
	allPainted := fmt.Sprintf(`(%s).every(s => s.canvases > 0 && s.painted >= %d)`, chartStatsJS, minPainted)
	tabPoll(t, b, 10*time.Second, allPainted)
	stats := tabEval[[]chartStat](t, b, chartStatsJS)
	lines, timelines := 0, 0
	for _, s := range stats {
		switch {
		case s.Canvases == 0:
			t.Errorf("chart #%s has no canvas", s.ID)
		case s.Painted < minPainted:
			t.Errorf("chart #%s: %d pixels painted, want at least %d", s.ID, s.Painted, minPainted)
		case s.Series < minSeries:
			t.Errorf("chart #%s draws no series (%d coloured pixels in the plot area)", s.ID, s.Series)
		case strings.HasPrefix(s.ID, "test-chart-"):
			lines++
		case strings.HasPrefix(s.ID, "test-states-"):
			timelines++
		}
	}
	if lines < 1 || timelines < 1 || lines != timelines {
		t.Errorf("%d expression charts and %d state timelines drawn, want one of each per series: %+v", lines, timelines, stats)
	}
	img := tabRun(t, b, 20*time.Second, "screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, "90-rule-editor-test.png"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	// At a phone's width: no sideways scrolling, charts resized.
	b.viewport(t, 400, true)
	fits := `document.documentElement.scrollWidth <= 401 && [...document.querySelectorAll('.chart canvas')].every(c => c.getBoundingClientRect().width <= 400)`
	if !tabPoll(t, b, 3*time.Second, fits) {
		t.Errorf("at 400 px wide the editor is %d px wide", tabEval[int](t, b, `document.documentElement.scrollWidth`))
	}
	// (the viewport only: the whole page at this width is too tall to capture)
	tabRun(t, b, 10*time.Second, "scroll", chromedp.Evaluate[chromedp.Void](`document.getElementById('test-result').scrollIntoView()`))
	img = tabRun(t, b, 20*time.Second, "screenshot", chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, "90-rule-editor-test-400.png"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	b.viewport(t, 1280, false)
	t.Logf("Test: %d alert series, %d notification rows (%d firing), %d charts drawn", series, notes, firing, len(stats))

	// Save: stored, reloaded, listed on /rules with an Edit link.
	status, p := submit("save-button")
	text := tabEval[string](t, b, `document.body.innerText`)
	if status != 200 || p != "/rules" || !strings.Contains(text, "Rule group ui-edit saved and loaded.") {
		t.Fatalf("Save ended on HTTP %d at %s: %.400s", status, p, text)
	}
	if !tabEval[bool](t, b, `!!document.querySelector('[data-group="ui-edit"] [data-rule="UIEditCPU"]') && !!document.querySelector('[data-group="ui-edit"] a.edit-group')`) {
		t.Error("/rules does not list the saved group with its rule and an Edit link")
	}
	if code, body, _ := u.get(t, uiReadToken, "/api/v1/alerting/rules/ui-edit"); code != 200 || !strings.Contains(body, "UIEditCPU") {
		t.Errorf("GET /api/v1/alerting/rules/ui-edit = %d: %.200s", code, body)
	}
	reqs, problems, dialogs := b.log.take()
	own := strings.TrimPrefix(b.base, "http://")
	for _, r := range reqs {
		if !r.local && r.host != own {
			t.Errorf("a request to another host than outpost: %s %s", r.method, r.url)
		}
	}
	if len(problems) > 0 || len(dialogs) > 0 {
		t.Errorf("console problems %q, dialogs %q", problems, dialogs)
	}
}
