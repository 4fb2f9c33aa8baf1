package pages

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRules_DefaultRulesWithLastEvaluation(t *testing.T) {
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{})
	body := s.page("/rules")
	mustContain(t, body, `data-group="outpost-hosts"`, `data-group="outpost-self"`, `data-rule="DiskSpaceLow"`,
		`data-rule="MemoryLow"`, `data-rule="HostSilent"`, `data-rule="IngestRejected"`, "not evaluated yet",
		`id="rules-edit-note"`, "are created, tested against stored history and saved here", `id="new-group"`, "POST /-/reload",
		`read-only: edit <code>&lt;defaults&gt;</code>`,
		`id="reload"`, "alerting.defaults: false")
	s.am.Evaluate(t.Context(), s.now)
	body = s.page("/rules")
	mustContain(t, body, `data-type="threshold"`, `data-type="flatline"`, `data-type="prometheus alert"`,
		`<span class="cond warn">warn &gt; 80</span>`, `<span class="cond crit">crit &gt; 90</span>`, "for 5m", "1 of 1",
		`<span class="last-eval">2026-12-01 12:00:00Z</span>`, "every 1m", `class="rule health-ok"`,
		`href="/rules/outpost-hosts/DiskSpaceLow?file=%3Cdefaults%3E"`)
	if strings.Contains(body, "not evaluated yet") {
		t.Error("a group is still not evaluated after a round")
	}
}

func TestRules_RulePage(t *testing.T) {
	s, path := alertSite(t, alertRules)
	body := s.page("/rules/disk/DiskFull?file=" + url.QueryEscape(path))
	mustContain(t, body, `id="rule-name">DiskFull`, `id="rule-chart"`, `id="rule-yaml"`, "- alert: DiskFull",
		"warn: &#34;&gt; 80&#34;", "crit: &#34;&gt; 90&#34;", "clear: &#34;&lt; 75&#34;", "team: &lt;b&gt;ops&lt;/b&gt;",
		`data-state="firing"`, `<span class="st firing">firing 2</span>`, `<span class="sev critical">critical</span>`, "read-only here: edit <code>"+html.EscapeString(path)+"</code>",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "/echarts.min.js")
	if strings.Contains(body, hostile) || strings.Contains(body, "<b>ops</b>") {
		t.Error("a label value was written as markup")
	}
	// The chart carries the warn and crit lines.
	m := regexp.MustCompile(`data-option="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no chart options")
	}
	opt := html.UnescapeString(m[1])
	for _, want := range []string{`"markLine"`, `"yAxis":80`, `"yAxis":90`, `"yAxis":75`, `"name":"warn \u003e 80"`} {
		if !strings.Contains(opt, want) {
			t.Errorf("chart options lack %s: %.400s", want, opt)
		}
	}
	// The rule page without its file finds the rule too; an unknown one is 404.
	mustContain(t, s.page("/rules/disk/DiskFull"), `id="rule-name">DiskFull`)
	if code, body := s.get("/rules/disk/Nope"); code != http.StatusNotFound || !strings.Contains(body, "no loaded rule") {
		t.Errorf("unknown rule = %d", code)
	}
}

// A rule file that stops loading keeps its last good version: the Reload
// button says so and the page shows the error; refused without a form
// token.
func TestRules_ReloadShowsLoadErrors(t *testing.T) {
	s, path := alertSite(t, alertRules)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.am.Run(ctx) }()
	t.Cleanup(func() { // before the harness closes the manager
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	tok := formToken(t, s.page("/rules"))
	if code, _, _ := s.post("/rules/reload", url.Values{"back": {"/rules"}}); code != http.StatusForbidden {
		t.Fatalf("reload without a form token = %d, want 403", code)
	}
	code, loc, _ := s.post("/rules/reload", url.Values{"csrf_token": {tok}, "back": {"/rules"}})
	if code != http.StatusSeeOther || loc != "/rules?done=reload" {
		t.Fatalf("reload = %d %q", code, loc)
	}
	mustContain(t, s.page(loc), "Rules reloaded: every rule file loaded.")

	if err := os.WriteFile(path, []byte(alertRules+"  - alert: Broken\n    expr: 'rate(x[5m]'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, loc, _ = s.post("/rules/reload", url.Values{"csrf_token": {tok}, "back": {"/rules"}})
	if code != http.StatusSeeOther || loc != "/rules?done=reload-failed" {
		t.Fatalf("reload of a broken file = %d %q", code, loc)
	}
	body := s.page(loc)
	mustContain(t, body, "some rule files failed to load", `class="rule-file failed"`, "previous version runs", "Broken",
		`data-rule="DiskFull"`)
	if strings.Contains(body, `data-rule="Broken"`) {
		t.Error("the broken version was loaded")
	}
}
