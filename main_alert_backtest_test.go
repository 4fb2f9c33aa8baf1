package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"outpost/alerting"
	"outpost/alerting/receiver"
	"outpost/query"
	"outpost/tsdb"
)

// backtestGroup is the group of the create -> test -> save story: levels,
// hysteresis, M of N, for, and a repeat per severity.
const backtestGroup = `name: webload
interval: 1m
rules:
  - alert: WebLoad
    expr: webload
    for: 2m
    warn: "> 80"
    crit: "> 90"
    clear: "< 70"
    datapoints_to_alarm: 2
    evaluation_periods: 3
    repeat:
      critical: 20m
    annotations:
      summary: "load of {{ $labels.host }} is {{ $value }}"
`

// webloadLevels are the hosts' loads by minute of a six-hour cycle: a long
// critical stretch falling through warning into the hysteresis band; a
// host flapping every 7 minutes; a host critical for two hours.
var webloadLevels = [][][2]int{
	{{0, 50}, {60, 95}, {150, 85}, {200, 75}, {260, 50}},
	{{0, 92}, {7, 60}, {14, 92}, {21, 60}, {28, 92}, {35, 60}, {42, 92}, {49, 60}, {56, 92}, {63, 60}},
	{{0, 50}, {90, 95}, {210, 40}},
}

// webload is host h's load at sample i (10 s apart), with a little noise.
func webload(h, i int) float64 {
	minute := (i / 6) % 360
	v := 0
	for _, l := range webloadLevels[h] {
		if minute >= l[0] {
			v = l[1]
		}
	}
	return float64(v + (i*7919+h*104729)%7 - 3)
}

// messages returns the notifications accepted so far, in order.
func (w *webhook) messages() []hookMsg {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

// The create -> test -> save story over the real binary: 24 h of
// data ingested over HTTP, a rule group posted to the backtest, whose
// timeline and would-be notifications equal those of the same rule run
// live over a replay of the same data (delivered to a webhook on
// loopback); then saved, reloaded, kept across a restart, exported as
// YAML and for Prometheus (checked by promtool when installed), deleted.
func TestAlerting_BacktestCreateTestSave(t *testing.T) {
	hook := newWebhook(t)
	dataDir := t.TempDir()
	scfg := serverConfig{Extra: alertingConfig(nil, hook.URL, "")}
	s := startServerWith(t, dataDir, scfg)
	defer func() { s.stop() }()

	end := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	t0 := end.Add(-24 * time.Hour)
	var body strings.Builder
	for h := range webloadLevels {
		var vs []float64
		var ts []int64
		for i := 0; !t0.Add(time.Duration(i) * 10 * time.Second).After(end); i++ {
			vs = append(vs, webload(h, i))
			ts = append(ts, t0.Add(time.Duration(i)*10*time.Second).UnixMilli())
		}
		line, _ := json.Marshal(map[string]any{"metric": map[string]string{"__name__": "webload", "host": fmt.Sprintf("web%d", h)}, "values": vs, "timestamps": ts})
		body.Write(line)
		body.WriteByte('\n')
	}
	if code, b, _ := do(t, "POST", s.base+"/api/v1/import", body.String()); code != http.StatusNoContent {
		t.Fatalf("import: %d %s", code, b)
	}

	// Test: the backtest over the 24 h.
	rng := fmt.Sprintf("?start=%d&end=%d", t0.Unix(), end.Unix())
	code, out, _ := do(t, "POST", s.base+"/api/v1/alerting/test"+rng, backtestGroup)
	if code != http.StatusOK {
		t.Fatalf("backtest: %d %s", code, out)
	}
	var env struct {
		Data alerting.BacktestResult `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("backtest answer: %v: %s", err, out)
	}
	res := env.Data
	if res.Steps != 1441 || res.FailedEvaluations != 0 || res.Totals.Firing == 0 || res.Totals.Repeat == 0 || res.Totals.Resolved == 0 {
		t.Fatalf("backtest: %d steps, %d failures %+v, totals %+v", res.Steps, res.FailedEvaluations, res.Errors, res.Totals)
	}
	t.Logf("backtest of 24 h: %d series, %d transitions, %d notifications (%d firing, %d repeat, %d resolved)",
		res.Totals.Series, res.Totals.Transitions, res.Totals.Notifications, res.Totals.Firing, res.Totals.Repeat, res.Totals.Resolved)
	if n := len(hook.messages()); n != 0 {
		t.Fatalf("the backtest sent %d notifications", n)
	}

	// The same rule live, over a replay of the same data, delivering to a
	// webhook on loopback.
	liveTL, liveN := replayLive(t, t0, res.Start, end)
	var gotTL, gotN []string
	for _, se := range res.Series {
		for _, c := range se.Timeline {
			gotTL = append(gotTL, fmt.Sprintf("%s %s %s->%s %s", c.Time.Format(time.RFC3339), se.Labels["host"], c.From, c.To, c.Severity))
		}
	}
	for _, n := range res.Notifications { // in time order, as the webhook got them
		gotN = append(gotN, fmt.Sprintf("%s firing=%d resolved=%d", n.Status, n.Firing, n.Resolved))
	}
	slices.Sort(gotTL)
	if !slices.Equal(gotTL, liveTL) {
		t.Fatalf("timelines differ:\nbacktest:\n%s\nlive:\n%s", strings.Join(gotTL, "\n"), strings.Join(liveTL, "\n"))
	}
	if !slices.Equal(gotN, liveN) {
		t.Fatalf("notifications differ:\nbacktest:\n%s\nlive (delivered):\n%s", strings.Join(gotN, "\n"), strings.Join(liveN, "\n"))
	}

	// Save: stored, loaded at once, listed.
	if code, b, _ := do(t, "PUT", s.base+"/api/v1/alerting/rules/webload", backtestGroup); code != http.StatusCreated {
		t.Fatalf("put: %d %s", code, b)
	}
	if code, b, _ := do(t, "PUT", s.base+"/api/v1/alerting/rules/webload", backtestGroup); code != http.StatusOK {
		t.Fatalf("put again: %d %s", code, b)
	}
	wantLoaded := func(s *server) {
		t.Helper()
		if _, b, _ := do(t, "GET", s.base+"/api/v1/rules", ""); !strings.Contains(b, `"name":"WebLoad"`) {
			t.Fatalf("the saved group is not loaded: %s", b)
		}
	}
	wantLoaded(s)
	if _, b, _ := do(t, "GET", s.base+"/api/v1/alerting/rules", ""); !strings.Contains(b, `"name":"webload"`) || !strings.Contains(b, `"rules":1`) {
		t.Fatalf("list: %s", b)
	}
	_, stored, _ := do(t, "GET", s.base+"/api/v1/alerting/rules/webload", "")

	// It survives a restart and exports as YAML and for Prometheus.
	s.stop()
	s = startServerWith(t, dataDir, scfg)
	wantLoaded(s)
	code, yml, hdr := do(t, "GET", s.base+"/api/v1/alerting/rules/webload/export", "")
	if code != http.StatusOK || yml != stored || !strings.HasPrefix(yml, "groups:\n- name: webload\n") || hdr.Get("Content-Type") != "application/yaml" {
		t.Fatalf("export as YAML: %d %q %v", code, yml, hdr)
	}
	code, prom, _ := do(t, "GET", s.base+"/api/v1/alerting/rules/webload/export?format=prometheus", "")
	if code != http.StatusOK || !strings.Contains(prom, "# Dropped, no Prometheus equivalent:") || !strings.Contains(prom, "expr: (webload) > 90") {
		t.Fatalf("export for Prometheus: %d %s", code, prom)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		path := filepath.Join(t.TempDir(), "webload.yml")
		if err := os.WriteFile(path, []byte(prom), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, err := exec.CommandContext(t.Context(), promtool, "check", "rules", path).CombinedOutput(); err != nil {
			t.Fatalf("promtool check rules: %v\n%s\n%s", err, b, prom)
		}
	} else {
		t.Log("promtool not installed: the Prometheus export is not checked by it")
	}

	// Refusals: a bad group names line and rule; a name mismatch; a
	// backtest too long; a group that does not exist.
	bad := strings.Replace(backtestGroup, "    expr: webload", "    exprs: webload", 1)
	if code, b, _ := do(t, "PUT", s.base+"/api/v1/alerting/rules/webload", bad); code != http.StatusBadRequest ||
		!strings.Contains(b, `body:5:5: group \"webload\", rule \"WebLoad\": unknown field \"exprs\"`) {
		t.Fatalf("bad put: %d %s", code, b)
	}
	if code, b, _ := do(t, "PUT", s.base+"/api/v1/alerting/rules/other", backtestGroup); code != http.StatusBadRequest {
		t.Fatalf("name mismatch: %d %s", code, b)
	}
	long := strings.Replace(backtestGroup, "interval: 1m", "interval: 1s", 1)
	rng3d := fmt.Sprintf("?start=%d&end=%d", end.Add(-72*time.Hour).Unix(), end.Unix())
	if code, b, _ := do(t, "POST", s.base+"/api/v1/alerting/test"+rng3d, long); code != http.StatusUnprocessableEntity || !strings.Contains(b, "over the limit of 100000") {
		t.Fatalf("backtest too long: %d %.300s", code, b)
	}
	if code, b, _ := do(t, "POST", s.base+"/api/v1/alerting/test", bad); code != http.StatusBadRequest {
		t.Fatalf("backtest of a bad group: %d %s", code, b)
	}
	if code, b, _ := do(t, "DELETE", s.base+"/api/v1/alerting/rules/webload", ""); code != http.StatusOK {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, b, _ := do(t, "GET", s.base+"/api/v1/alerting/rules/webload", ""); code != http.StatusNotFound {
		t.Fatalf("get after delete: %d %s", code, b)
	}
	if _, b, _ := do(t, "GET", s.base+"/api/v1/rules", ""); strings.Contains(b, `"name":"WebLoad"`) {
		t.Fatalf("the deleted group still runs: %s", b)
	}
}

// replayLive runs backtestGroup live over the data of the test as it
// arrives: a store on a clock that follows the steps, written minute by
// minute, a Manager evaluating each minute and its dispatcher's timer
// ticking each second as Run's does; then the notifier runs for real and
// delivers the outbox to a webhook on loopback. It returns the timeline
// (sorted) and the notifications the webhook got, in order.
func replayLive(t *testing.T, t0, start, end time.Time) (timeline, notes []string) {
	t.Helper()
	dir := t.TempDir()
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	scfg := tsdb.DefaultConfig()
	scfg.Path = filepath.Join(dir, "data")
	db, err := tsdb.Open(scfg, tsdb.Options{Now: now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	engine := query.NewEngine(db, query.Options{})
	hook := newWebhook(t)
	rules := filepath.Join(dir, "webload.yml")
	_, file, err := alerting.ParseGroup([]byte(backtestGroup), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, file, 0o644); err != nil {
		t.Fatal(err)
	}
	acfg := alerting.DefaultConfig()
	acfg.Defaults, acfg.Rules = false, []string{rules}
	acfg.Route.Receiver = "hook"
	acfg.Route.GroupBy = []string{"alertname", "host"}
	acfg.Route.GroupWait, acfg.Route.GroupInterval, acfg.Route.RepeatInterval = time.Second, time.Second, time.Hour
	acfg.Receivers = []receiver.Config{{Name: "hook", WebhookConfigs: []receiver.WebhookConfig{{URL: hook.URL}}}}
	m, err := alerting.Open(acfg, alerting.Options{Dir: dir, Query: engine.InstantVector, Writer: db, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	next := 0 // the next sample index to write
	for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
		var pts []tsdb.Point
		for ; !t0.Add(time.Duration(next) * 10 * time.Second).After(ts); next++ {
			for h := range webloadLevels {
				ls := tsdb.FromStrings("__name__", "webload", "host", fmt.Sprintf("web%d", h))
				pts = append(pts, tsdb.Point{Labels: ls, T: t0.Add(time.Duration(next) * 10 * time.Second).UnixMilli(), V: webload(h, next)})
			}
		}
		clock.Store(ts.UnixNano())
		if len(pts) > 0 {
			if err := db.Write(t.Context(), pts); err != nil {
				t.Fatal(err)
			}
		}
		m.Evaluate(t.Context(), ts)
		for tick := ts; tick.Before(ts.Add(time.Minute)) && !tick.After(end); tick = tick.Add(time.Second) {
			clock.Store(tick.UnixNano())
			if err := m.Notifier().FlushDue(); err != nil {
				t.Fatal(err)
			}
		}
	}
	evs, err := m.HistoryWhere(start, end, 0, func(e *alerting.Event) bool { return e.Kind == alerting.EventState })
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		timeline = append(timeline, fmt.Sprintf("%s %s %s->%s %s", e.T.Format(time.RFC3339), e.Labels["host"], e.From, e.To, e.Severity))
	}
	slices.Sort(timeline)

	// Deliver what the dispatcher made.
	want := len(m.Notifier().Outbox())
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Notifier().Run(ctx) }()
	for deadline := time.Now().Add(30 * time.Second); len(hook.messages()) < want; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d notifications", len(hook.messages()), want)
		}
	}
	cancel()
	<-done
	for _, msg := range hook.messages() {
		f := 0
		for _, a := range msg.Alerts {
			if a.Status == "firing" {
				f++
			}
		}
		notes = append(notes, fmt.Sprintf("%s firing=%d resolved=%d", msg.Status, f, len(msg.Alerts)-f))
	}
	return timeline, notes
}
