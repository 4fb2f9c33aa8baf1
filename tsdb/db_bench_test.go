package tsdb

// Run: go test -run '^$' -bench 'DB_' -benchmem ./tsdb/

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchPoints returns nHosts x 10 fields of points per step, labelled like
// the lpload cpu-only workload, for steps consecutive 10 s timestamps.
func benchPoints(nHosts, steps int, start int64, fields ...string) [][]Point {
	if len(fields) == 0 {
		fields = []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	labels := make([]Labels, 0, nHosts*len(fields))
	for h := range nHosts {
		for _, f := range fields {
			labels = append(labels, FromStrings("__name__", "cpu_"+f, "hostname", fmt.Sprintf("host_%d", h),
				"region", fmt.Sprintf("region-%d", h%9), "datacenter", fmt.Sprintf("dc-%d", h%27), "rack", fmt.Sprint(h%100),
				"os", "Ubuntu22.04LTS", "arch", "x64", "team", "SF", "service", fmt.Sprint(h%20),
				"service_version", "1", "service_environment", "production", "db", "bench"))
		}
	}
	vals := make([]float64, len(labels))
	out := make([][]Point, steps)
	for s := range steps {
		pts := make([]Point, len(labels))
		for i, ls := range labels {
			vals[i] += rng.NormFloat64()
			pts[i] = Point{Labels: ls, T: start + int64(s)*10_000, V: vals[i]}
		}
		out[s] = pts
	}
	return out
}

// BenchmarkDB_Write measures the whole write path (series lookup, WAL group
// commit with fdatasync, head append) for batches of 5,000 points of
// existing series, the shape of one lpload request.
func BenchmarkDB_Write(b *testing.B) {
	clock := newTestClock(time.Now())
	cfg := testConfig(b.TempDir())
	db, err := Open(cfg, Options{Now: clock.Now, MaintainEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	steps := benchPoints(500, 64, clock.Now().Add(-2*time.Hour).UnixMilli())
	if err := db.Write(ctx, steps[0]); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		pts := steps[1+i%(len(steps)-1)]
		for k := range pts {
			pts[k].T += 640_000 // keep timestamps moving forward
		}
		if err := db.Write(ctx, pts); err != nil {
			b.Fatal(err)
		}
		n += len(pts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/sample")
}

// BenchmarkDB_WriteParallel is BenchmarkDB_Write with 4 concurrent writers,
// as lpload pushes, so group commit shares each fdatasync.
func BenchmarkDB_WriteParallel(b *testing.B) {
	clock := newTestClock(time.Now())
	db, err := Open(testConfig(b.TempDir()), Options{Now: clock.Now, MaintainEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	start := clock.Now().Add(-2 * time.Hour).UnixMilli()
	b.ReportAllocs()
	b.SetParallelism(2) // 2 x GOMAXPROCS(2) = 4 writers
	var seq atomicCounter
	b.RunParallel(func(pb *testing.PB) {
		w := seq.next()
		pts := benchPoints(500, 1, 0)[0]
		for i := range pts {
			pts[i].Labels = append(pts[i].Labels.Copy(), Label{"writer", fmt.Sprint(w)})
		}
		step := int64(0)
		for pb.Next() {
			for k := range pts {
				pts[k].T = start + step*10_000
			}
			step++
			if err := db.Write(ctx, pts); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*5000), "ns/sample")
}

type atomicCounter struct{ n int64 }

func (c *atomicCounter) next() int64 {
	c.n++
	return c.n
}

// selectBenchDB returns a store holding one metric of 1,000 series over
// 24 h at 10 s (8.64 M samples), flushed to a day file.
func selectBenchDB(b *testing.B) *DB {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := newTestClock(day.Add(25 * time.Hour))
	db, err := Open(testConfig(b.TempDir()), Options{Now: clock.Now, MaintainEvery: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, pts := range benchPoints(1000, 8640, day.UnixMilli(), "usage_user") {
		if err := db.Write(ctx, pts); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkDB_Select reads one metric of 1,000 series over 24 h at 10 s
// (8.64 M samples) from flushed partitions, decoding every sample.
func BenchmarkDB_Select(b *testing.B) {
	db := selectBenchDB(b)
	ctx := context.Background()
	m := MustNewMatcher(MatchEqual, MetricName, "cpu_usage_user")
	b.ReportAllocs()
	var samples int
	for b.Loop() {
		ss, err := db.Select(ctx, MinTime, MaxTime, m)
		if err != nil {
			b.Fatal(err)
		}
		samples = 0
		for ss.Next() {
			it := ss.At().Iterator()
			for it.Next() {
				samples++
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
	b.ReportMetric(float64(samples), "samples")
}

// BenchmarkDB_SelectBatches reads the chunks of BenchmarkDB_Select's
// series batch by batch under a budget, decoding nothing: the cost of the
// bounded read alone (sizing, charging, copying, checking CRCs). B/op is
// what a Select allocates; held-B the most its budget held at once, which
// DefaultBatchBytes bounds (besides the sorted list of series).
func BenchmarkDB_SelectBatches(b *testing.B) {
	db := selectBenchDB(b)
	ctx := context.Background()
	m := MustNewMatcher(MatchEqual, MetricName, "cpu_usage_user")
	budget := &testBudget{limit: 1 << 40}
	b.ReportAllocs()
	var series int
	for b.Loop() {
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: MinTime, Maxt: MaxTime, Budget: budget}, []*Matcher{m})
		if err != nil {
			b.Fatal(err)
		}
		series = 0
		for batch := ss.NextBatch(); batch != nil; batch = ss.NextBatch() {
			series += len(batch)
		}
		if err := ss.Err(); err != nil {
			b.Fatal(err)
		}
	}
	if series != 1000 || budget.used != 0 {
		b.Fatalf("read %d series, %d bytes still held; want 1000 and none", series, budget.used)
	}
	b.ReportMetric(float64(budget.peak), "held-B")
}
