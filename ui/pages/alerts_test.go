package pages

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/alerting"
	"outpost/alerting/notify"
	"outpost/ui"
)

// alertRules is the rule file of the alert page tests: a disk rule with
// levels, and a rule label whose value is markup.
const alertRules = `
groups:
- name: disk
  interval: 30s
  rules:
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
    clear: "< 75"
    labels:
      team: "<b>ops</b>"
    annotations:
      summary: "{{ $labels.host }} disk is {{ $value }}% full"
      description: "Free space on {{ $labels.host }}."
`

// hostile is a label value that must be shown as text.
const hostile = "<script>alert(1)</script>"

// alertSite is a test site whose rules are yml (in a file of its own
// directory), with two disks written: web1 at 95 % (critical) and a host
// named hostile at 85 % (warning), and one round evaluated.
func alertSite(t *testing.T, yml string, tokens ...ui.Token) (*testSite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "disk.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := alerting.DefaultConfig()
	cfg.Defaults = false
	cfg.Rules = []string{path}
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{alerting: &cfg, tokens: tokens})
	s.write(s.series(labels("__name__", "disk_used_percent", "host", "web1", "path", "/"), 10, 10*time.Second,
		func(int) float64 { return 95 })...)
	s.write(s.series(labels("__name__", "disk_used_percent", "host", hostile, "path", "/"), 10, 10*time.Second,
		func(int) float64 { return 85 })...)
	s.am.Evaluate(t.Context(), s.now)
	return s, path
}

// alertID returns the id of the open alert of host.
func alertID(t *testing.T, s *testSite, host string) string {
	t.Helper()
	for _, a := range s.am.Alerts() {
		if a.Labels["host"] == host {
			return a.ID
		}
	}
	t.Fatalf("no open alert for host %q", host)
	return ""
}

// formToken returns the form token of a page's forms.
var formTokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func formToken(t *testing.T, body string) string {
	t.Helper()
	m := formTokenRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the page has no form token")
	}
	return m[1]
}

// post sends a form without following redirects and returns the status,
// the Location header and the body.
func (s *testSite) post(path string, form url.Values, header ...string) (int, string, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// page fetches path and fails unless it answers 200.
func (s *testSite) page(path string, header ...string) string {
	s.t.Helper()
	code, body := s.get(path, header...)
	if code != http.StatusOK {
		s.t.Fatalf("GET %s = %d: %s", path, code, body)
	}
	return body
}

func TestAlerts_FiringShownWithSeverity(t *testing.T) {
	s, _ := alertSite(t, alertRules)
	body := s.page("/alerts")
	mustContain(t, body, `data-alertname="DiskFull"`, `<span class="sev critical">critical</span>`,
		`data-severity="warning"`, `data-state="firing"`, "web1 disk is 95% full", "Free space on web1.",
		`id="count-firing"`, `<div class="v">2</div>`, "value <b>95</b>", `name="matchers" value="{alertname=&#34;DiskFull&#34;`,
		`class="inline ack"`, `action="/alerts/silences"`, `class="retire"`, "&lt;b&gt;ops&lt;/b&gt;",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "was &gt; 90")
	if strings.Contains(body, hostile) || strings.Contains(body, "<b>ops</b>") {
		t.Error("a label value was written as markup")
	}
	// Critical comes before warning within the group.
	if strings.Index(body, `data-severity="critical"`) > strings.Index(body, `data-severity="warning"`) {
		t.Error("warning listed before critical")
	}
	// Filters: by severity, by label, and a bad label filter is reported.
	body = s.page("/alerts?severity=warning")
	if strings.Contains(body, `data-severity="critical"`) || !strings.Contains(body, `data-severity="warning"`) {
		t.Error("severity=warning shows other severities")
	}
	body = s.page("/alerts?label=" + url.QueryEscape(`host="web1"`))
	if strings.Contains(body, "alert(1)</b>") || !strings.Contains(body, "web1 disk is 95% full") || strings.Count(body, `<article class="alert`) != 1 {
		t.Error(`label=host="web1" does not keep web1's alert alone`)
	}
	mustContain(t, s.page("/alerts?label="+url.QueryEscape(`{host="web1"`)), "label filter:")
	mustContain(t, s.page("/alerts?state=pending"), `id="no-alerts"`, "matches the filter")
}

func TestAlerts_AckNeedsFormToken(t *testing.T) {
	s, _ := alertSite(t, alertRules)
	id := alertID(t, s, "web1")
	tok := formToken(t, s.page("/alerts"))
	ack := "/alerts/" + id + "/ack"

	code, _, body := s.post(ack, url.Values{"comment": {"on it"}})
	if code != http.StatusForbidden || !strings.Contains(body, "csrf_token") {
		t.Fatalf("ack without a form token = %d %q, want 403", code, body)
	}
	if code, _, _ := s.post(ack, url.Values{"csrf_token": {tok + "x"}}); code != http.StatusForbidden {
		t.Fatalf("ack with a bad form token = %d, want 403", code)
	}
	if a := s.am.Alerts(); a[0].Ack != nil || a[1].Ack != nil {
		t.Fatal("a refused ack acknowledged")
	}

	code, loc, body := s.post(ack, url.Values{"csrf_token": {tok}, "comment": {"on it"}, "back": {"/alerts?severity=critical"}})
	if code != http.StatusSeeOther || loc != "/alerts?done=ack&severity=critical" {
		t.Fatalf("ack = %d %q %s", code, loc, body)
	}
	body = s.page(loc)
	mustContain(t, body, `id="action-done"`, `data-acked="true"`, "acknowledged by ui:loopback", "on it",
		`class="inline unack"`, `id="count-acked"`)
	// The ack is in the alert's notes and in the history.
	mustContain(t, s.page("/alerts/history?kind=ack"), `data-kind="ack"`, "ui:loopback")

	// A note, then unack.
	code, loc, _ = s.post("/alerts/"+id+"/note", url.Values{"csrf_token": {tok}, "text": {"disk grows 1 %/h"}, "back": {"/alerts"}})
	if code != http.StatusSeeOther {
		t.Fatalf("note = %d", code)
	}
	mustContain(t, s.page(loc), "disk grows 1 %/h")
	if code, _, _ := s.post("/alerts/"+id+"/unack", url.Values{"csrf_token": {tok}}); code != http.StatusSeeOther {
		t.Fatalf("unack = %d", code)
	}
	if body := s.page("/alerts?label=host%3Dweb1"); strings.Contains(body, `data-acked="true"`) {
		t.Error("still acked after unack")
	}
	// An empty note and an unknown alert are refused with the reason.
	if code, _, body := s.post("/alerts/"+id+"/note", url.Values{"csrf_token": {tok}, "text": {" "}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "the note is empty") || !strings.Contains(body, `id="action-back"`) {
		t.Errorf("empty note = %d %s", code, body)
	}
	if code, _, _ := s.post("/alerts/0000/ack", url.Values{"csrf_token": {tok}}); code != http.StatusNotFound {
		t.Errorf("ack of an unknown alert = %d, want 404", code)
	}
	// A back URL to another site is not followed.
	if _, loc, _ := s.post(ack, url.Values{"csrf_token": {tok}, "back": {"//evil.example/alerts"}}); loc != "/alerts?done=ack" {
		t.Errorf("back to another site: Location %q", loc)
	}
}

func TestAlerts_AdminRoleWithTokens(t *testing.T) {
	s, _ := alertSite(t, alertRules, ui.Token{Token: "reader-token", Role: ui.RoleRead}, ui.Token{Token: "admin-token", Role: ui.RoleAdmin})
	id := alertID(t, s, "web1")
	read, admin := []string{"Authorization", "Bearer reader-token"}, []string{"Authorization", "Bearer admin-token"}

	if code, _ := s.get("/alerts"); code != http.StatusUnauthorized {
		t.Fatalf("GET /alerts without a token = %d, want 401", code)
	}
	body := s.page("/alerts", read...)
	mustContain(t, body, `data-alertname="DiskFull"`)
	for _, f := range []string{"csrf_token", `class="inline ack"`, `class="silence"`, `class="retire"`} {
		if strings.Contains(body, f) {
			t.Errorf("the read role is shown %s", f)
		}
	}
	if body := s.page("/rules", read...); strings.Contains(body, `id="reload"`) || !strings.Contains(body, `data-rule="DiskFull"`) {
		t.Error("the rules page offers the read role the reload button, or lacks the rule")
	}
	mustContain(t, s.page("/rules", admin...), `id="reload"`)
	tok := formToken(t, s.page("/alerts", admin...))
	form := url.Values{"csrf_token": {tok}, "comment": {"mine"}}
	if code, _, _ := s.post("/alerts/"+id+"/ack", form, read...); code != http.StatusForbidden {
		t.Fatalf("ack with the read token = %d, want 403", code)
	}
	code, _, _ := s.post("/alerts/"+id+"/ack", form, admin...)
	if code != http.StatusSeeOther {
		t.Fatalf("ack with the admin token = %d", code)
	}
	a := s.am.Alerts()
	var by string
	for _, v := range a {
		if v.ID == id && v.Ack != nil {
			by = v.Ack.By
		}
	}
	if !strings.HasPrefix(by, "ui:") || by == "ui:loopback" || strings.Contains(by, "admin-token") {
		t.Errorf("acked by %q, want ui: and the credential's digest", by)
	}
}

func TestAlerts_SilenceThenExpire(t *testing.T) {
	s, _ := alertSite(t, alertRules)
	tok := formToken(t, s.page("/alerts"))
	m := `{alertname="DiskFull", host="web1", path="/"}`

	if code, _, body := s.post("/alerts/silences", url.Values{"csrf_token": {tok}, "matchers": {m}, "duration": {"2h"}}); code != http.StatusBadRequest ||
		!strings.Contains(body, "comment") {
		t.Fatalf("silence without a comment = %d %s", code, body)
	}
	if code, _, _ := s.post("/alerts/silences", url.Values{"matchers": {m}, "duration": {"2h"}, "comment": {"x"}}); code != http.StatusForbidden {
		t.Fatalf("silence without a form token = %d", code)
	}
	code, loc, body := s.post("/alerts/silences", url.Values{"csrf_token": {tok}, "matchers": {m}, "duration": {"2h"},
		"comment": {"disk swap " + hostile}, "back": {"/alerts"}})
	if code != http.StatusSeeOther {
		t.Fatalf("silence = %d %s", code, body)
	}
	u, _ := url.Parse(loc)
	sid := u.Query().Get("id")
	// The silence is the embedded Alertmanager's: what amtool lists.
	sil, err := s.am.Notifier().Silences().Get(sid)
	if err != nil || sil.CreatedBy != "ui:loopback" || !sil.EndsAt.Equal(s.now.Add(2*time.Hour)) || len(sil.Matchers) != 3 {
		t.Fatalf("stored silence %+v %v", sil, err)
	}
	body = s.page(loc)
	mustContain(t, body, `id="silence-`+sid+`"`, `data-state="active"`, `data-silenced="true"`, "Silence "+sid+" created.",
		"disk swap &lt;script&gt;", `class="inline expire"`, `id="count-silenced"`)
	if strings.Contains(body, hostile) {
		t.Error("a silence comment was written as markup")
	}

	code, _, _ = s.post("/alerts/silences/"+sid+"/expire", url.Values{"csrf_token": {tok}, "back": {"/alerts"}})
	if code != http.StatusSeeOther {
		t.Fatalf("expire = %d", code)
	}
	if st := s.am.Notifier().Silences(); st.State(mustSilence(t, st, sid)) != notify.SilenceExpired {
		t.Fatal("the silence is not expired")
	}
	body = s.page("/alerts")
	if strings.Contains(body, `data-silenced="true"`) || !strings.Contains(body, `data-state="expired"`) {
		t.Error("after expiry the alert is still silenced, or the silence is not listed as expired")
	}
	if code, _, _ := s.post("/alerts/silences/nope/expire", url.Values{"csrf_token": {tok}}); code != http.StatusNotFound {
		t.Errorf("expire of an unknown silence = %d, want 404", code)
	}
}

func mustSilence(t *testing.T, st *notify.Silences, id string) notify.Silence {
	t.Helper()
	sil, err := st.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return sil
}

func TestAlerts_Retire(t *testing.T) {
	s, _ := alertSite(t, alertRules)
	tok := formToken(t, s.page("/alerts"))
	if code, _, _ := s.post("/alerts/retire", url.Values{"csrf_token": {tok}, "selector": {`{host="web1"}`}}); code != http.StatusBadRequest {
		t.Fatalf("retire without a comment = %d, want 400", code)
	}
	code, loc, _ := s.post("/alerts/retire", url.Values{"csrf_token": {tok}, "selector": {`{host="web1"}`},
		"comment": {"decommissioned"}, "back": {"/alerts"}})
	if code != http.StatusSeeOther || !strings.Contains(loc, "done=retire") || !strings.Contains(loc, "n=1") {
		t.Fatalf("retire = %d %q", code, loc)
	}
	if len(s.am.Alerts()) != 1 {
		t.Fatalf("open alerts after retire: %d, want 1", len(s.am.Alerts()))
	}
	body := s.page(loc)
	mustContain(t, body, "1 open alert(s) closed", `<tr class="ended-alert st-retired"`, "retired: by ui:loopback: decommissioned")
	if i, j := strings.Index(body, `id="alert-board"`), strings.Index(body, `id="ended"`); strings.Contains(body[i:j], "web1 disk") {
		t.Error("the retired alert is still on the board")
	}
	mustContain(t, s.page("/alerts/history?state=retired"), `<span class="st retired">retired</span>`)
}

// The history pages through events that share one time (the test clock
// is fixed) without losing or repeating any.
func TestAlerts_HistoryPages(t *testing.T) {
	s, _ := alertSite(t, alertRules)
	id := alertID(t, s, "web1")
	for i := range 70 {
		if err := s.am.Note(context.Background(), id, "test", "note-"+strconv.Itoa(i)+"."); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	next := "/alerts/history?kind=note"
	for page := 0; next != ""; page++ {
		if page > 5 {
			t.Fatal("too many pages")
		}
		body := s.page(next)
		for _, m := range regexp.MustCompile(`note-\d+\.`).FindAllString(body, -1) {
			if seen[m] {
				t.Fatalf("page %d repeats %s", page, m)
			}
			seen[m] = true
		}
		next = ""
		if m := regexp.MustCompile(`href="([^"]+)" id="history-next"`).FindStringSubmatch(body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	if len(seen) != 70 {
		t.Fatalf("saw %d notes over the pages, want 70", len(seen))
	}
}

// The page answers while alerting is off.
func TestAlerts_Off(t *testing.T) {
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{deps: func(d *Deps) { d.Alerts = nil }})
	for _, p := range []string{"/alerts", "/alerts/history", "/rules", "/rules/g/r"} {
		mustContain(t, s.page(p), `id="alerting-off"`)
	}
}
