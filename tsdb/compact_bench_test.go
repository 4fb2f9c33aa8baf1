package tsdb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Reproduce with:
//
//	go test -run '^$' -bench 'CompactDay|Select_FlushParts' -benchtime 5x ./tsdb/

// partsBenchTemplate writes a closed store into a temporary directory of
// b: one metric of 1,000 series over 24 h at 10 s (8.64 M samples), every
// epoch flushed in 4 parts whose timestamps interleave (pass k writes
// every fourth step from k), the shape late data and restarts leave. It
// returns the directory and the store's clock.
func partsBenchTemplate(b *testing.B) (string, time.Time) {
	dir := b.TempDir()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := day.Add(25 * time.Hour)
	if err := writePartsBench(dir, day, now); err != nil {
		b.Fatal(err)
	}
	return dir, now
}

func writePartsBench(dir string, day, now time.Time) error {
	db, err := Open(testConfig(dir), Options{Now: func() time.Time { return now }, MaintainEvery: time.Hour})
	if err != nil {
		return err
	}
	ctx := context.Background()
	labels := make([]Labels, 1000)
	for h := range labels {
		labels[h] = FromStrings("__name__", "cpu_usage_user", "hostname", fmt.Sprintf("host_%d", h), "region", fmt.Sprintf("region-%d", h%9))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pts := make([]Point, len(labels))
	for pass := range 4 {
		for s := pass; s < 8640; s += 4 {
			for i, ls := range labels {
				pts[i] = Point{Labels: ls, T: day.UnixMilli() + int64(s)*10_000, V: float64(int(rng.NormFloat64()*100)) / 10}
			}
			if err := db.Write(ctx, pts); err != nil {
				db.Close()
				return err
			}
		}
		if err := db.Flush(ctx); err != nil {
			db.Close()
			return err
		}
	}
	return db.Close()
}

// copyStore copies a closed store directory (index.db, parts/, wal/).
func copyStore(b *testing.B, src string) string {
	dst := b.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
	if err != nil {
		b.Fatal(err)
	}
	return dst
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCompactDay rewrites a day file of 96 flush buckets (24 epochs
// in 4 parts each) into 24; MB/s is of the day file compacted.
func BenchmarkCompactDay(b *testing.B) {
	tmpl, now := partsBenchTemplate(b)
	b.Run("parts=4", func(b *testing.B) {
		var st CompactStats
		var cpu time.Duration // the process' CPU time while compacting: the machine may be shared
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			dir := copyStore(b, tmpl)
			db, err := Open(testConfig(dir), Options{Now: func() time.Time { return now }, MaintainEvery: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			c0 := cpuTime()
			st, err = db.Compact(context.Background())
			cpu += cpuTime() - c0
			b.StopTimer()
			if err != nil || st.Days != 1 || st.BucketsAfter != 24 {
				b.Fatalf("compact: %+v %v", st, err)
			}
			db.Close()
			os.RemoveAll(dir)
			b.StartTimer()
		}
		b.SetBytes(st.BytesBefore)
		b.ReportMetric(float64(st.BytesBefore), "bytes-before")
		b.ReportMetric(float64(st.BytesAfter), "bytes-after")
		b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkDB_Select_FlushParts reads every sample of the template's 1,000
// series from the day file as flushed (4 buckets per epoch, merged at read
// time) and after compaction (1 bucket per epoch).
func BenchmarkDB_Select_FlushParts(b *testing.B) {
	tmpl, now := partsBenchTemplate(b)
	for _, compact := range []bool{false, true} {
		name := "parts"
		if compact {
			name = "compacted"
		}
		b.Run(name, func(b *testing.B) {
			db, err := Open(testConfig(copyStore(b, tmpl)), Options{Now: func() time.Time { return now }, MaintainEvery: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if compact {
				if _, err := db.Compact(ctx); err != nil {
					b.Fatal(err)
				}
			}
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
				if err := ss.Err(); err != nil {
					b.Fatal(err)
				}
			}
			if samples != 8_640_000 {
				b.Fatalf("read %d samples, want 8640000", samples)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
		})
	}
}
