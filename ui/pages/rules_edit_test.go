package pages

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/alerting"
	"outpost/alerting/receiver"
	"outpost/ui"
)

// editGroup is the group the editor tests write: disk over 80 % warns,
// over 90 % is critical, and it clears under 75 %.
const editGroup = `name: disk-edit
interval: 1m
rules:
- alert: DiskEdit
  expr: disk_used_percent
  warn: "> 80"
  crit: "> 90"
  clear: "< 75"
  labels:
    team: <b>ops</b>
`

// editSite is a test site with a webhook receiver (never called: the
// backtest sends nothing), no rules but an empty configured file, and a
// day of disk data: web1 at 95 % from 06:00 to 08:00 and the host named
// hostile at 85 % from 10:00 to 11:00, both at 50 % otherwise. Its
// manager runs, so that Save and Delete can reload.
func editSite(t *testing.T, tokens ...ui.Token) *testSite {
	t.Helper()
	path := filepath.Join(t.TempDir(), "conf.yml")
	if err := os.WriteFile(path, []byte("groups:\n- name: conf\n  rules:\n  - alert: Conf\n    expr: vector(1) < 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := alerting.DefaultConfig()
	cfg.Defaults = false
	cfg.Rules = []string{path}
	cfg.Route.Receiver = "hook"
	cfg.Route.GroupBy = []string{"alertname", "host"}
	cfg.Route.GroupWait, cfg.Route.GroupInterval, cfg.Route.RepeatInterval = 30*time.Second, 5*time.Minute, 4*time.Hour
	cfg.Receivers = []receiver.Config{{Name: "hook", WebhookConfigs: []receiver.WebhookConfig{{URL: "http://127.0.0.1:9/hook"}}}}
	now := time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC)
	s := newTestSite(t, now, siteOptions{alerting: &cfg, tokens: tokens})
	in := func(i int, from, to int) bool { return i >= from*60 && i < to*60 }
	s.write(s.series(labels("__name__", "disk_used_percent", "host", "web1", "path", "/"), 23*60+1, time.Minute,
		func(i int) float64 {
			if in(i, 6, 8) {
				return 95
			}
			return 50
		})...)
	s.write(s.series(labels("__name__", "disk_used_percent", "host", hostile, "path", "/"), 23*60+1, time.Minute,
		func(i int) float64 {
			if in(i, 10, 11) {
				return 85
			}
			return 50
		})...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.am.Run(ctx) }()
	t.Cleanup(func() { // before the harness closes the manager
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

// Test runs the group over the day and shows the totals, a chart per
// alert series with the threshold lines and its state timeline, and the
// would-be notifications; nothing is stored.
func TestRuleEditor_TestShowsNotifications(t *testing.T) {
	s := editSite(t)
	body := s.page("/rules/edit")
	mustContain(t, body, `id="rule-editor"`, "name: my-rules", `id="test-button"`, `id="save-button"`, `value="now-24h"`)
	tok := formToken(t, body)
	code, _, body := s.post("/rules/edit?from=now-24h", url.Values{"csrf_token": {tok}, "action": {"test"}, "yaml": {editGroup}})
	if code != http.StatusOK {
		t.Fatalf("test = %d: %.600s", code, body)
	}
	mustContain(t, body, `id="test-result"`, `class="t-series">2<`, `data-alertname="DiskEdit"`,
		`id="test-chart-0"`, `id="test-states-0"`, `id="test-chart-1"`, `class="notification kind-firing"`,
		`class="notification kind-resolved"`, "2026-12-01 06:0", "2026-12-01 10:0", `<span class="sev critical">critical</span>`,
		`<span class="sev warning">warning</span>`, "hook", "&lt;script&gt;alert(1)&lt;/script&gt;", "team=<b>&lt;b&gt;ops&lt;/b&gt;</b>",
		// the YAML stays in the textarea, escaped
		"team: &lt;b&gt;ops&lt;/b&gt;")
	if strings.Contains(body, hostile) || strings.Contains(body, "<b>ops</b>") {
		t.Error("a label value was written as markup")
	}
	if n := strings.Count(body, `class="notification kind-`); n < 4 {
		t.Errorf("%d notification rows, want at least 4 (firing and resolved of each host)", n)
	}
	// The chart carries the thresholds; the timeline the states.
	opts := regexp.MustCompile(`id="test-(chart|states)-0" data-option="([^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(opts) != 2 {
		t.Fatalf("want a chart and a timeline for the first series, got %d", len(opts))
	}
	line, states := html.UnescapeString(opts[0][2]), html.UnescapeString(opts[1][2])
	for _, want := range []string{`"markLine"`, `"yAxis":80`, `"yAxis":90`, `"yAxis":75`} {
		if !strings.Contains(line, want) {
			t.Errorf("chart lacks %s", want)
		}
	}
	for _, want := range []string{`"outpost:state"`, `"name":"ok"`} {
		if !strings.Contains(states, want) {
			t.Errorf("timeline lacks %s: %.300s", want, states)
		}
	}
	if !strings.Contains(states, `"name":"critical"`) && !strings.Contains(states, `"name":"warning"`) {
		t.Errorf("timeline has no firing stretch: %.400s", states)
	}
	if names, err := s.am.RuleStore().Names(); err != nil || len(names) != 0 {
		t.Errorf("Test stored something: %v %v", names, err)
	}
}

// A group that does not parse is shown with the line and rule at fault,
// the YAML kept (escaped) in the textarea; nothing runs or is stored.
func TestRuleEditor_ParseErrorKeepsYAML(t *testing.T) {
	s := editSite(t)
	tok := formToken(t, s.page("/rules/edit"))
	bad := "name: bad\nrules:\n- alert: Broken</textarea><script>alert(1)</script>\n  expr: 'rate(x[5m]'\n"
	for _, action := range []string{"test", "save"} {
		code, _, body := s.post("/rules/edit", url.Values{"csrf_token": {tok}, "action": {action}, "yaml": {bad}})
		if code != http.StatusBadRequest {
			t.Fatalf("%s of a bad group = %d", action, code)
		}
		mustContain(t, body, `class="banner err problem"`, "line 4:3: group &#34;bad&#34;", "Broken&lt;/textarea&gt;&lt;script&gt;",
			"- alert: Broken&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
		if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, `id="test-result"`) {
			t.Errorf("%s: markup or a result on the page", action)
		}
	}
	if names, _ := s.am.RuleStore().Names(); len(names) != 0 {
		t.Errorf("a bad group was stored: %v", names)
	}
}

// Save stores the group (through the API's validation), reloads, and the
// rules page lists it with an Edit link; its editor shows the stored YAML;
// a second new group of the same name is refused; Delete removes it.
func TestRuleEditor_SaveEditDelete(t *testing.T) {
	s := editSite(t)
	tok := formToken(t, s.page("/rules/edit"))
	code, loc, body := s.post("/rules/edit", url.Values{"csrf_token": {tok}, "action": {"save"}, "yaml": {editGroup}})
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/rules?done=saved&group=disk-edit#group-") {
		t.Fatalf("save = %d %q: %.500s", code, loc, body)
	}
	stored, err := s.am.RuleStore().Get("disk-edit")
	if err != nil || !strings.Contains(string(stored), "alert: DiskEdit") {
		t.Fatalf("stored group = %q, %v", stored, err)
	}
	body = s.page(loc)
	mustContain(t, body, "Rule group disk-edit saved and loaded.", `data-group="disk-edit"`, `data-rule="DiskEdit"`,
		`class="edit-group"`, `href="/rules/edit?group=disk-edit"`, `id="new-group"`, `data-group="conf"`, "read-only: edit <code>")
	anchor := loc[strings.Index(loc, "#")+1:]
	mustContain(t, body, `id="`+anchor+`"`)

	body = s.page("/rules/edit?group=disk-edit")
	mustContain(t, body, "Rule group disk-edit", `name="group" value="disk-edit"`, "alert: DiskEdit", `id="delete-group"`)
	// Not the API's group: a configured file's says which file to edit.
	code, body = s.get("/rules/edit?group=conf")
	if code != http.StatusNotFound || !strings.Contains(body, `id="read-only"`) || !strings.Contains(body, "conf.yml") {
		t.Errorf("editor of a configured group = %d: %.400s", code, body)
	}
	// A new group may not take a stored group's name, nor a configured one's.
	for _, name := range []string{"disk-edit", "conf"} {
		yml := strings.Replace(editGroup, "name: disk-edit", "name: "+name, 1)
		if code, _, body := s.post("/rules/edit", url.Values{"csrf_token": {tok}, "action": {"save"}, "yaml": {yml}}); code != http.StatusConflict {
			t.Errorf("new group named %s = %d: %.300s", name, code, body)
		}
	}
	// Editing keeps the name: a renamed body is refused, as the API does.
	renamed := strings.Replace(editGroup, "name: disk-edit", "name: other", 1)
	if code, _, body := s.post("/rules/edit", url.Values{"csrf_token": {tok}, "action": {"save"}, "group": {"disk-edit"}, "yaml": {renamed}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "in the URL") {
		t.Errorf("renamed save = %d: %.300s", code, body)
	}
	code, loc, _ = s.post("/rules/delete", url.Values{"csrf_token": {tok}, "group": {"disk-edit"}, "back": {"/rules"}})
	if code != http.StatusSeeOther || loc != "/rules?done=deleted&group=disk-edit" {
		t.Fatalf("delete = %d %q", code, loc)
	}
	body = s.page(loc)
	mustContain(t, body, "Rule group disk-edit deleted")
	if strings.Contains(body, `data-group="disk-edit"`) {
		t.Error("the deleted group is still loaded")
	}
	if code, _, _ := s.post("/rules/delete", url.Values{"csrf_token": {tok}, "group": {"disk-edit"}}); code != http.StatusNotFound {
		t.Errorf("delete of a missing group = %d", code)
	}
}

// Test and Save need the form token and the admin role; a reader sees the
// YAML but no buttons.
func TestRuleEditor_RefusedWithoutTokenOrAdmin(t *testing.T) {
	s := editSite(t, ui.Token{Token: "reader-token", Role: ui.RoleRead}, ui.Token{Token: "admin-token", Role: ui.RoleAdmin})
	read, admin := []string{"Authorization", "Bearer reader-token"}, []string{"Authorization", "Bearer admin-token"}
	body := s.page("/rules/edit", read...)
	mustContain(t, body, `id="need-admin"`)
	if strings.Contains(body, `id="save-button"`) || strings.Contains(body, "csrf_token") {
		t.Error("a reader is offered the Save button")
	}
	if strings.Contains(s.page("/rules", read...), `id="new-group"`) {
		t.Error("a reader is offered New rule group")
	}
	tok := formToken(t, s.page("/rules/edit", admin...))
	form := url.Values{"csrf_token": {tok}, "action": {"save"}, "yaml": {editGroup}}
	if code, _, _ := s.post("/rules/edit", form, read...); code != http.StatusForbidden {
		t.Errorf("save with a read token = %d, want 403", code)
	}
	noTok := url.Values{"action": {"save"}, "yaml": {editGroup}}
	if code, _, body := s.post("/rules/edit", noTok, admin...); code != http.StatusForbidden || !strings.Contains(body, "csrf_token") {
		t.Errorf("save without the form token = %d: %s", code, body)
	}
	bad := url.Values{"csrf_token": {tok + "x"}, "action": {"test"}, "yaml": {editGroup}}
	if code, _, _ := s.post("/rules/edit", bad, admin...); code != http.StatusForbidden {
		t.Errorf("test with an altered form token = %d, want 403", code)
	}
	if code, _, _ := s.post("/rules/delete", url.Values{"csrf_token": {tok}, "group": {"x"}}, read...); code != http.StatusForbidden {
		t.Errorf("delete with a read token = %d, want 403", code)
	}
	if names, _ := s.am.RuleStore().Names(); len(names) != 0 {
		t.Errorf("a refused save stored %v", names)
	}
	code, loc, _ := s.post("/rules/edit", form, admin...)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/rules?done=saved") {
		t.Errorf("save with the admin token = %d %q", code, loc)
	}
}
