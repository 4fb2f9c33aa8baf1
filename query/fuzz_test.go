package query

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// FuzzQuery parses and evaluates arbitrary query text over a small real
// store. It must never panic: the engine turns evaluator panics into
// "internal error" results, which fail the target. Seeds are every eval
// expression of testdata/*.test.
//
//	go test -run '^$' -fuzz FuzzQuery -fuzztime 30s ./query/
func FuzzQuery(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.test")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.Index(l, " at "); strings.HasPrefix(l, "eval instant") && i > 0 {
				if _, q, ok := strings.Cut(l[i+4:], " "); ok {
					f.Add(q)
				}
			}
		}
	}
	f.Add(`sum by (a) (rate(m{a=~"x|y"}[5m:30s] offset -1m @ 60))`)
	for _, q := range []string{ // the later MetricsQL functions (issue 13)
		`histogram_quantile(0.9, histogram_over_time(m[1m]))`, `count_values_over_time("v", m[1m:15s])`,
		`prometheus_buckets(h)`, `buckets_limit(3, h)`, `histogram_avg(h)`, `histogram_stddev(rate(h[1m]))`,
		`outliersk(1, m)`, `outliers_mad(2, m)`, `outliers_iqr(m)`, `histogram(m)`, `outlier_iqr_over_time(m[1m])`,
		`range_trim_spikes(0.1, m)`, `range_trim_outliers(1, m)`, `range_trim_zscore(1, m)`, `range_linear_regression(m)`,
		`bitmap_and(m, 3)`, `rand(1)`, `rand_normal()`, `timezone_offset("UTC")`, `labels_equal(m, "a", "le")`,
		`label_graphite_group(m, 0, 1)`,
	} {
		f.Add(q)
	}
	t0 := time.Unix(0, 0).UTC()
	db := openTestDB(f, t0.Add(time.Hour))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "m", "a", "x"), t0, 15*time.Second, 1, 2, 0, 5, 6, 7, 1, 3))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "m", "a", "y", "le", "1"), t0, 30*time.Second, 4, 4, 9, 10))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "h", "vmrange", "1.000e+00...1.136e+00"), t0, 30*time.Second, 1, 3, 3, 8))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "h", "vmrange", "4...9"), t0, 30*time.Second, 0, 2, 2, 5))
	e := NewEngine(db, Options{Timeout: 200 * time.Millisecond, MaxSamples: 100_000, MaxPointsPerSeries: 500})
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 512 {
			return
		}
		for _, run := range []func() error{
			func() error { _, err := e.Instant(t.Context(), q, t0.Add(time.Minute)); return err },
			func() error { _, err := e.Range(t.Context(), q, t0, t0.Add(2*time.Minute), 30*time.Second); return err },
		} {
			if err := run(); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("query %q: %v", q, err)
			}
		}
	})
}
