package alerting

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/remediate"
)

// liveReplay runs btGroup live over the same data as it arrives: a
// second store written step by step, a Manager evaluating at each step,
// and its dispatcher's timer emulated as Run's (a flush check every
// second). It returns the history's state changes and every notification
// that entered the outbox.
func liveReplay(t *testing.T, t0, start, end time.Time) ([]Event, []notify.Sent) {
	t.Helper()
	dir := t.TempDir()
	clk := &testClock{}
	clk.set(start)
	db, engine := openBTStore(t, dir, clk.now)
	path := filepath.Join(dir, "bt.yml")
	if err := os.WriteFile(path, wrapGroup([]byte(btGroup)), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Open(btConfig(path), Options{Dir: dir, Query: engine.InstantVector, Writer: db, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	sil := btSilenceOf(t0)
	written := t0.Add(-time.Second)
	for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
		mustWrite(t, db, btPoints(t0, written, ts))
		written = ts
		clk.set(ts)
		if ts.Equal(sil.StartsAt) {
			if _, err := m.Notifier().Silences().Set(sil); err != nil {
				t.Fatal(err)
			}
		}
		m.Evaluate(t.Context(), ts)
		for s := ts; s.Before(ts.Add(time.Minute)) && !s.After(end); s = s.Add(time.Second) {
			clk.set(s)
			if err := m.Notifier().FlushDue(); err != nil {
				t.Fatal(err)
			}
		}
	}
	evs, err := m.HistoryWhere(start, end, 0, func(e *Event) bool { return e.Kind == EventState })
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	sent, err := m.Notifier().TakeOutbox()
	if err != nil {
		t.Fatal(err)
	}
	return evs, sent
}

// A backtest over stored history finds the same state changes and the
// same notifications as the rule running live over the same data as it
// arrived: for, M of N, levels, hysteresis, the rule's repeat and a
// silence all at work.
func TestManager_Backtest_MatchesLive(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(6 * time.Hour)
	dir := t.TempDir()
	clk := &testClock{}
	clk.set(end.Add(time.Minute))
	db, engine := openBTStore(t, dir, clk.now)
	mustWrite(t, db, btPoints(t0, t0.Add(-time.Second), end))
	src, err := Open(btConfig(), Options{Dir: dir, Query: engine.InstantVector, Writer: db, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sil := btSilenceOf(t0)
	clk.set(sil.StartsAt) // the silence was made at its start
	if _, err := src.Notifier().Silences().Set(sil); err != nil {
		t.Fatal(err)
	}
	clk.set(end.Add(time.Minute))

	g, file, err := ParseGroup([]byte(btGroup), "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Backtest(t.Context(), g, file, t0.Add(30*time.Second), end)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Start.Equal(t0.Add(time.Minute)) || res.Steps != 360 {
		t.Fatalf("start %s, %d steps: want the first whole minute after the start and 360 steps", res.Start, res.Steps)
	}
	if res.FailedEvaluations != 0 {
		t.Fatalf("failed evaluations: %+v", res.Errors)
	}

	evs, sent := liveReplay(t, t0, res.Start, end)
	var gotTL, wantTL []string
	for _, s := range res.Series {
		for _, c := range s.Timeline {
			gotTL = append(gotTL, fmt.Sprintf("%s %s %s->%s %s %v", c.Time.Format("15:04"), s.Labels["host"], c.From, c.To, c.Severity, c.Value))
		}
	}
	for _, e := range evs {
		wantTL = append(wantTL, fmt.Sprintf("%s %s %s->%s %s %v", e.T.Format("15:04"), e.Labels["host"], e.From, e.To, e.Severity, e.Value))
	}
	slices.Sort(gotTL)
	slices.Sort(wantTL)
	if !slices.Equal(gotTL, wantTL) {
		t.Fatalf("timeline differs from the live run:\nbacktest:\n%s\nlive:\n%s", strings.Join(gotTL, "\n"), strings.Join(wantTL, "\n"))
	}
	var gotN, wantN []string
	for _, n := range res.Notifications {
		gotN = append(gotN, fmt.Sprintf("%s %s %s firing=%d resolved=%d", n.Time.Format("15:04:05"), n.GroupKey, n.Status, n.Firing, n.Resolved))
	}
	for _, s := range sent {
		nt := s.Notification
		f := 0
		for _, a := range nt.Alerts {
			if a.Firing() {
				f++
			}
		}
		wantN = append(wantN, fmt.Sprintf("%s %s %s firing=%d resolved=%d", nt.CreatedAt.Format("15:04:05"), nt.GroupKey, nt.Status, f, len(nt.Alerts)-f))
	}
	if !slices.Equal(gotN, wantN) {
		t.Fatalf("notifications differ from the live run:\nbacktest:\n%s\nlive:\n%s", strings.Join(gotN, "\n"), strings.Join(wantN, "\n"))
	}
	tot := res.Totals
	t.Logf("%d series, %d transitions, %d notifications: %d firing, %d repeat, %d resolved",
		tot.Series, tot.Transitions, tot.Notifications, tot.Firing, tot.Repeat, tot.Resolved)
	if tot.Series != 3 || tot.Firing == 0 || tot.Repeat == 0 || tot.Resolved == 0 {
		t.Fatalf("the data should fire, repeat and resolve on three hosts: %+v", tot)
	}
	// The silence: h2 fires from about 01:32 to 03:30, but nothing about
	// it is sent between 02:00 and 03:00.
	for _, s := range res.Series {
		if s.Labels["host"] != "h2" {
			continue
		}
		for _, n := range s.Notifications {
			if !n.Time.Before(sil.StartsAt) && n.Time.Before(sil.EndsAt) {
				t.Fatalf("h2 notified during its silence: %+v", n)
			}
		}
	}
}

// Past MaxBacktestSteps the backtest refuses before evaluating anything;
// a cancelled request stops it.
func TestManager_Backtest_Bounds(t *testing.T) {
	dir := t.TempDir()
	clk := &testClock{}
	clk.set(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	_, engine := openBTStore(t, dir, clk.now)
	m, err := Open(btConfig(), Options{Dir: dir, Query: engine.InstantVector, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	g, file, err := ParseGroup([]byte(strings.Replace(btGroup, "interval: 1m", "interval: 1s", 1)), "")
	if err != nil {
		t.Fatal(err)
	}
	end := clk.now()
	if _, err := m.Backtest(t.Context(), g, file, end.Add(-48*time.Hour), end); !errors.Is(err, ErrBacktestTooLong) ||
		!strings.Contains(err.Error(), "172801 evaluations, over the limit of 100000") {
		t.Fatalf("48 h at 1 s: %v, want ErrBacktestTooLong with the count", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Backtest(ctx, g, file, end.Add(-time.Hour), end); !errors.Is(err, ctx.Err()) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A backtest runs no remediation: the scratch Manager's remediator is
// never started, so a rule's command does not run however often its
// alert fires in the past.
func TestManager_Backtest_NoRemediation(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(2 * time.Hour)
	dir := t.TempDir()
	clk := &testClock{}
	clk.set(end.Add(time.Minute))
	db, engine := openBTStore(t, dir, clk.now)
	mustWrite(t, db, btPoints(t0, t0.Add(-time.Second), end))
	marker := filepath.Join(dir, "remediated")
	cfg := btConfig()
	cfg.ExecConfigs = []remediate.ExecConfig{{Name: "touch", Command: []string{"/usr/bin/touch", marker}}}
	m, err := Open(cfg, Options{Dir: dir, Query: engine.InstantVector, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	g, file, err := ParseGroup([]byte(btGroup+"    remediate: touch\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Backtest(t.Context(), g, file, t0, end)
	if err != nil {
		t.Fatal(err)
	}
	if res.Totals.Firing == 0 {
		t.Fatalf("nothing fired: %+v", res.Totals)
	}
	time.Sleep(100 * time.Millisecond) // a command started by mistake would have run by now
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the backtest ran the remediation command (stat: %v)", err)
	}
}
