package alerting

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/receiver"
	"outpost/query"
	"outpost/tsdb"
)

// The backtest tests' data: hosts whose load goes through every level of
// btGroup's rule, 10 s apart, with a little deterministic noise.

// btGroup is the rule group the backtest tests run: levels, hysteresis,
// M of N, for and a repeat interval.
const btGroup = `name: bt
interval: 1m
rules:
  - alert: HighLoad
    expr: load
    for: 2m
    warn: "> 80"
    crit: "> 90"
    clear: "< 70"
    datapoints_to_alarm: 2
    evaluation_periods: 3
    repeat:
      critical: 30m
    labels:
      team: ops
    annotations:
      summary: "load of {{ $labels.host }} is {{ $value }}"
`

// btLevel is one stretch of a host's load: from minute At on, Level.
type btLevel struct {
	At    int
	Level float64
}

// btHosts are the hosts' schedules over six hours.
var btHosts = [][]btLevel{
	// warn, crit, back to warn, then between clear and warn (held by the
	// hysteresis), then fine.
	{{0, 50}, {60, 95}, {150, 85}, {200, 75}, {260, 50}},
	// flapping every 7 minutes: M of N and for at work.
	{{0, 92}, {7, 60}, {14, 92}, {21, 60}, {28, 92}, {35, 60}, {42, 92}, {49, 60}, {56, 92}, {63, 60}},
	// critical for two hours; the silence covers 120 to 180.
	{{0, 50}, {90, 95}, {210, 40}},
}

// btSilence is the window (in minutes from the start) of the silence of
// host h2.
var btSilence = [2]int{120, 180}

// btValue is host h's load at sample i (10 s apart).
func btValue(h, i int) float64 {
	minute := i / 6
	v := 0.0
	for _, l := range btHosts[h] {
		if minute >= l.At {
			v = l.Level
		}
	}
	return v + float64((i*7919+h*104729)%7) - 3
}

// btPoints are the samples of every host in (from, to], 10 s apart from t0.
func btPoints(t0, from, to time.Time) []tsdb.Point {
	var pts []tsdb.Point
	for h := range btHosts {
		ls := tsdb.FromStrings("__name__", "load", "host", fmt.Sprintf("h%d", h))
		for i := 0; ; i++ {
			ts := t0.Add(time.Duration(i) * 10 * time.Second)
			if ts.After(to) {
				break
			}
			if ts.After(from) {
				pts = append(pts, tsdb.Point{Labels: ls, T: ts.UnixMilli(), V: btValue(h, i)})
			}
		}
	}
	return pts
}

// testClock is a clock the test moves.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *testClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }

// openBTStore opens a store in dir on clock now with the engine over it.
func openBTStore(tb testing.TB, dir string, now func() time.Time) (*tsdb.DB, *query.Engine) {
	tb.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = filepath.Join(dir, "data")
	cfg.MaxSeries = 0
	cfg.Retention = 90 * 24 * time.Hour // the benchmark's 30 days
	db, err := tsdb.Open(cfg, tsdb.Options{Now: now, MaintainEvery: time.Hour})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, query.NewEngine(db, query.Options{})
}

// btConfig is the alerting configuration of the tests: one webhook
// receiver that nothing reaches (nothing is delivered), groups by host.
func btConfig(rules ...string) Config {
	cfg := DefaultConfig()
	cfg.Defaults = false
	cfg.Rules = rules
	cfg.EvaluationInterval = time.Minute
	cfg.ExternalURL = "http://outpost.test:8086"
	cfg.Route.Receiver = "hook"
	cfg.Route.GroupBy = []string{"alertname", "host"}
	cfg.Route.GroupWait, cfg.Route.GroupInterval, cfg.Route.RepeatInterval = 30*time.Second, 5*time.Minute, 4*time.Hour
	cfg.Receivers = []receiver.Config{{Name: "hook", WebhookConfigs: []receiver.WebhookConfig{{URL: "http://127.0.0.1:9/hook"}}}}
	return cfg
}

// btSilenceOf is the silence of host h2 starting at t.
func btSilenceOf(t0 time.Time) notify.Silence {
	m, _ := notify.NewMatcher("host", "h2", false, true)
	return notify.Silence{Matchers: []notify.Matcher{m}, StartsAt: t0.Add(time.Duration(btSilence[0]) * time.Minute),
		EndsAt: t0.Add(time.Duration(btSilence[1]) * time.Minute), CreatedBy: "test", Comment: "maintenance of h2"}
}

// mustWrite writes pts or fails.
func mustWrite(tb testing.TB, db *tsdb.DB, pts []tsdb.Point) {
	tb.Helper()
	if len(pts) == 0 {
		return
	}
	if err := db.Write(context.Background(), pts); err != nil {
		tb.Fatal(err)
	}
}
