package query

import (
	"strconv"
	"testing"
	"time"

	"outpost/tsdb"
)

// BenchmarkEngine_MetricsQLExtra evaluates the newer MetricsQL functions
// over 1,000 series × 6 h at 10 s, step 60 s: histogram_over_time (a
// vmrange histogram per window), the outlier aggregations (per-step
// medians over all series) and histogram_quantile over vmrange buckets.
//
//	go test -run '^$' -bench BenchmarkEngine_MetricsQLExtra -benchtime 3x ./query/
func BenchmarkEngine_MetricsQLExtra(b *testing.B) {
	db := loadBenchDB(b, 1000, 6)
	e := NewEngine(db, Options{MaxMemoryPerQuery: 512 << 20})
	end := benchStart.Add(6*time.Hour - 10*time.Second)
	for _, q := range []string{
		`histogram_over_time(m[10m])`,
		`histogram_quantile(0.9, sum by (vmrange) (histogram_over_time(m[10m])))`,
		`histogram_quantile(0.9, histogram(m))`,
		`outliersk(5, m)`,
		`outliers_mad(3, m)`,
		`outliers_iqr(m)`,
		`buckets_limit(10, histogram(m))`,
	} {
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Range(b.Context(), q, benchStart, end, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVMRangeToLE converts 1,000 histograms of 20 vmrange buckets
// over 360 steps to le buckets.
func BenchmarkVMRangeToLE(b *testing.B) {
	const hists, buckets, points = 1000, 20, 360
	src := make([]*timeseries, 0, hists*buckets)
	for h := range hists {
		for k := range buckets {
			vs := make([]float64, points)
			for i := range vs {
				vs[i] = float64((h + k + i) % 7)
			}
			src = append(src, &timeseries{labels: labelsFor(h, vmrangeName(100+2*k)), values: vs})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer() // the conversion works in place: give it a fresh copy
		tss := make([]*timeseries, len(src))
		for i, ts := range src {
			tss[i] = &timeseries{labels: ts.labels, values: append([]float64(nil), ts.values...)}
		}
		b.StartTimer()
		if out := vmrangeToLE(tss); len(out) < hists*buckets {
			b.Fatalf("%d series out", len(out))
		}
	}
}

func labelsFor(h int, vmrange string) tsdb.Labels {
	return tsdb.FromStrings("__name__", "h_bucket", "host", "h"+strconv.Itoa(h), "vmrange", vmrange)
}
