package wal

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmarks of Log with group commit. Each op is one acknowledged Log call
// of one record, so ns/op is wall time per record (throughput); latency-ns
// is the mean time one caller waits. The WAL lives in b.TempDir(), or in
// $OUTPOST_WAL_BENCH_DIR to measure another file system (tmpfs makes
// fdatasync free; a real disk is what matters).
//
//	go test -run '^$' -bench BenchmarkWAL -benchtime 2s ./tsdb/wal/
//	OUTPOST_WAL_BENCH_DIR=/work/tmp go test -run '^$' -bench BenchmarkWAL ./tsdb/wal/
func BenchmarkWAL_Log(b *testing.B) {
	cases := []struct {
		name     string
		writers  int
		size     int
		compress bool
	}{
		{"record=64B/writers=1", 1, 64, false},
		{"record=64B/writers=8", 8, 64, false},
		{"record=64KiB/writers=1", 1, 64 << 10, false},
		{"record=64KiB/writers=8", 8, 64 << 10, false},
		{"record=64KiB/writers=8/compress", 8, 64 << 10, true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			w := openBench(b, Options{Compress: bc.compress})
			data := testData(0, bc.size) // compressible text
			if !bc.compress {
				data = testData(1, bc.size)
			}
			b.SetBytes(int64(bc.size))
			b.ReportAllocs()
			syncs0 := w.syncs.Load()
			var waited atomic.Int64 // ns spent inside Log, all callers
			var ops atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range bc.writers {
				wg.Go(func() {
					for ops.Add(1) <= int64(b.N) {
						start := time.Now()
						if _, err := w.Log(context.Background(), Record{Type: 1, Data: data}); err != nil {
							b.Error(err)
							return
						}
						waited.Add(int64(time.Since(start)))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			secs := b.Elapsed().Seconds()
			syncs := w.syncs.Load() - syncs0
			b.ReportMetric(float64(b.N)/secs, "records/s")
			b.ReportMetric(float64(syncs)/secs, "fsyncs/s")
			b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "records/fsync")
			b.ReportMetric(float64(waited.Load())/float64(b.N), "latency-ns")
		})
	}
}

// openBench opens a WAL for a benchmark in $OUTPOST_WAL_BENCH_DIR or a temp dir.
func openBench(b *testing.B, opts Options) *WAL {
	b.Helper()
	dir := b.TempDir()
	if base := os.Getenv("OUTPOST_WAL_BENCH_DIR"); base != "" {
		d, err := os.MkdirTemp(base, "walbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(d) })
		dir = d
	}
	return mustOpen(b, dir, opts)
}

// BenchmarkWAL_Replay measures reading back 64 MiB of 1 KiB records.
//
//	go test -run '^$' -bench BenchmarkWAL_Replay ./tsdb/wal/
func BenchmarkWAL_Replay(b *testing.B) {
	dir := b.TempDir()
	w := mustOpen(b, dir, Options{})
	data := testData(1, 1024)
	recs := make([]Record, 256)
	for i := range recs {
		recs[i] = Record{Type: 1, Data: data}
	}
	for range 256 { // 256 calls of 256 records
		mustLog(b, w, recs...)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	r := mustOpen(b, dir, Options{})
	b.SetBytes(256 * 256 * int64(headerSize+len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := r.Replay(context.Background(), func(int, Record) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 256*256 {
			b.Fatalf("replayed %d records", n)
		}
	}
}
