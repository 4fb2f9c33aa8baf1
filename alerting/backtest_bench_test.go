package alerting

import (
	"fmt"
	"testing"
	"time"

	"outpost/tsdb"
)

// benchGroup is the rule of the backtest benchmarks: levels, hysteresis
// and M of N over one metric.
const benchGroup = `name: bench
interval: 1m
rules:
  - alert: HighCPU
    expr: cpu
    warn: "> 80"
    crit: "> 95"
    clear: "< 70"
    datapoints_to_alarm: 3
    evaluation_periods: 5
`

// benchBacktest stores days of series at 10 s resolution (each series
// busy at 90 for 30 minutes a day, at an hour of its own) and times one
// backtest of benchGroup over all of it. Storing is not timed.
func benchBacktest(b *testing.B, days, series int) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(time.Duration(days) * 24 * time.Hour)
	dir := b.TempDir()
	clk := &testClock{}
	clk.set(end.Add(time.Minute))
	db, engine := openBTStore(b, dir, clk.now)
	labels := make([]tsdb.Labels, series)
	for i := range labels {
		labels[i] = tsdb.FromStrings("__name__", "cpu", "host", fmt.Sprintf("host%04d", i))
	}
	const perStep = 10 * time.Second
	pts := make([]tsdb.Point, 0, series*360)
	for ts := t0; ts.Before(end); {
		pts = pts[:0]
		for hourEnd := ts.Add(time.Hour); ts.Before(hourEnd); ts = ts.Add(perStep) {
			busyHour := 0
			for i, ls := range labels {
				busyHour = i % 24
				v := 50.0
				if ts.Hour() == busyHour && ts.Minute() < 30 {
					v = 90
				}
				pts = append(pts, tsdb.Point{Labels: ls, T: ts.UnixMilli(), V: v + float64(ts.Unix()/10%5)})
			}
		}
		mustWrite(b, db, pts)
	}
	m, err := Open(btConfig(), Options{Dir: dir, Query: engine.InstantVector, Now: clk.now})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	g, file, err := ParseGroup([]byte(benchGroup), "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var res *BacktestResult
	for b.Loop() {
		if res, err = m.Backtest(b.Context(), g, file, t0, end); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(res.Steps), "steps")
	b.ReportMetric(float64(res.Totals.Transitions), "transitions")
	b.ReportMetric(float64(res.Totals.Notifications), "notifications")
	if res.FailedEvaluations > 0 || res.Totals.Firing == 0 {
		b.Fatalf("%d failed evaluations (%+v), %d firing notifications", res.FailedEvaluations, res.Errors, res.Totals.Firing)
	}
}

// BenchmarkBacktest_1d100series is the small case, for quick comparisons:
//
//	go test -run XXX -bench Backtest_1d100series -benchmem ./alerting/
func BenchmarkBacktest_1d100series(b *testing.B) { benchBacktest(b, 1, 100) }

// BenchmarkBacktest_30d1000series is one rule over 30 days of 1,000
// series at 10 s resolution (259 million samples; storing them takes
// minutes and is not timed): 43,201 evaluations. On 2 shared vCPUs
// (2026-12): 1,946 s, 67.6 GB allocated in 374 M allocations, about
// 1 GB resident with the store's head; the time is the instant queries'
// (chunk decoding), once per step.
//
//	go test -run XXX -bench Backtest_30d1000series -benchtime=1x -benchmem -timeout 60m ./alerting/
func BenchmarkBacktest_30d1000series(b *testing.B) { benchBacktest(b, 30, 1000) }
