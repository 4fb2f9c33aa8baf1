package alerting

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/remediate"
	"outpost/query"
)

// remediationManager opens a Manager whose rules are yml, with one
// escalation receiver (a file) and the given remediation_dir, and runs its
// remediation workers (not its groups: the test runs rounds by hand).
func remediationManager(t *testing.T, yml, scripts string) *testManager {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Defaults, cfg.Rules, cfg.RemediationDir = false, []string{path}, scripts
	cfg.Receivers = append(cfg.Receivers, receiver.Config{Name: "oncall",
		FileConfigs: []receiver.FileConfig{{Path: filepath.Join(dir, "escalations.jsonl")}}})
	cfg.Remediation.EscalateTo = "oncall"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	data := &fakeData{}
	tm := &testManager{t: t, data: data, now: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), dir: dir}
	m, err := Open(cfg, Options{Dir: dir, Query: data.query, Now: func() time.Time { return tm.now }})
	if err != nil {
		t.Fatal(err)
	}
	tm.Manager = m
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { m.remediator.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); m.Close() })
	return tm
}

// remediationEvents waits until alertname's history holds n remediation
// events and returns them, oldest first.
func (tm *testManager) remediationEvents(alertname string, n int) []Event {
	tm.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		evs, err := tm.History(time.Time{}, tm.now.Add(time.Hour), "", alertname, 0)
		if err != nil {
			tm.t.Fatal(err)
		}
		var out []Event
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].Kind == EventRemediation {
				out = append(out, evs[i])
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%s: %d remediation events, want %d: %+v", alertname, len(out), n, evs)
		}
	}
}

// An alert that starts firing is remediated once (not at every round it
// stays firing); the run and the escalation of an alert still firing go
// to its history, the escalation to the receiver's outbox.
func TestManager_Remediation(t *testing.T) {
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "WebappDown.sh"), []byte("#!/bin/sh\necho \"fixing $OUTPOST_ALERT_LABEL_HOST\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tm := remediationManager(t, `
groups:
- name: web
  rules:
  - alert: WebappDown
    expr: webapp_uptime < 1
    remediate: {retries: 0, verify_after: 50ms}
  - alert: Quiet
    expr: quiet < 1
    remediate: false
`, scripts)
	tm.data.set("webapp_uptime < 1", query.Vector{sample(0, "__name__", "webapp_uptime", "host", "web1")})
	tm.data.set("quiet < 1", query.Vector{sample(0, "__name__", "quiet", "host", "web1")})
	tm.round(time.Second)
	tm.round(time.Second) // still firing: not submitted again
	evs := tm.remediationEvents("WebappDown", 3)
	var steps []string
	for _, e := range evs {
		steps = append(steps, e.Remediation.Step+":"+e.Remediation.Outcome)
	}
	if got := strings.Join(steps, " "); got != "run:ok verify:still_firing escalate:sent" {
		t.Fatalf("steps %q", got)
	}
	if r := evs[0].Remediation; r.Output != "fixing web1\n" || *r.ExitStatus != 0 || evs[0].Labels["host"] != "web1" {
		t.Fatalf("run %+v", r)
	}
	if ob := tm.notifier.Outbox(); len(ob) != 1 || ob[0].Receiver != "oncall" || ob[0].ID != evs[2].Remediation.NotificationID {
		t.Fatalf("outbox %+v", ob)
	}
	if evs, _ := tm.History(time.Time{}, tm.now, "", "Quiet", 0); len(evs) != 1 {
		t.Fatalf("Quiet (remediate: false) history %+v", evs)
	}
	st := tm.remediator.Stats()
	if st.Runs[remediate.OutcomeOK] != 1 || st.Escalations[remediate.OutcomeSent] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A rule whose remediate names an exec config that does not exist fails
// to load, naming the file, line and rule.
func TestManager_RemediationUnknownExec(t *testing.T) {
	tm := remediationManager(t, `
groups:
- name: web
  rules:
  - alert: WebappDown
    expr: webapp_uptime < 1
    remediate: restart-webapp
`, "")
	tm.mu.RLock()
	defer tm.mu.RUnlock()
	for p, f := range tm.files {
		if f.err == nil || f.err.Error() != p+`:7: group "web", rule "WebappDown": remediate: no alerting.exec_configs entry named "restart-webapp"` {
			t.Fatalf("load error %v", f.err)
		}
	}
}
