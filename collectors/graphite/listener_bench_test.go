package graphite

import (
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"outpost/tsdb"
)

// discard is the no-op Writer of the end-to-end benchmark: it measures the
// listener alone, without the store.
type discard struct{ n atomic.Int64 }

func (d *discard) Write(_ context.Context, pts []tsdb.Point) error {
	d.n.Add(int64(len(pts)))
	return nil
}

// BenchmarkListener_TCP sends b.N lines over 1 or 4 TCP connections and
// waits until the listener has handed all of them to the Writer.
//
//	go test ./collectors/graphite -run '^$' -bench Listener_TCP -benchtime 2000000x
func BenchmarkListener_TCP(b *testing.B) {
	var chunk bytes.Buffer
	for _, l := range benchLines(1000) {
		chunk.Write(l)
		chunk.WriteByte('\n')
	}
	perLine := chunk.Len() / 1000
	for _, conns := range []int{1, 4} {
		b.Run(map[int]string{1: "conns1", 4: "conns4"}[conns], func(b *testing.B) {
			w := &discard{}
			cfg := testConfig()
			l, err := New(cfg, w, Options{})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- l.Run(ctx) }()
			defer func() { cancel(); <-done }()
			b.SetBytes(int64(perLine))
			b.ReportAllocs()
			b.ResetTimer()
			began := time.Now()
			var wg sync.WaitGroup
			for c := range conns {
				lines := b.N / conns
				if c == 0 {
					lines += b.N % conns
				}
				wg.Go(func() { sendLines(b, l.Addr().String(), chunk.Bytes(), lines) })
			}
			wg.Wait()
			for w.n.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "samples/s")
		})
	}
}

// sendLines writes n lines, cycling through chunk's 1000 lines, and closes.
func sendLines(b *testing.B, addr string, chunk []byte, n int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	defer c.Close()
	for n > 0 {
		part := chunk
		if n < 1000 {
			cut := 0
			for range n {
				cut += bytes.IndexByte(part[cut:], '\n') + 1
			}
			part = part[:cut]
		}
		if _, err := c.Write(part); err != nil {
			b.Error(err)
			return
		}
		n -= min(n, 1000)
	}
}

// BenchmarkStream_Line measures what a connection does per line once it is
// read: parse (through the series cache), take the point's room from
// graphite.max_inflight_bytes, append it to the batch, and hand full
// batches to a Writer that only counts.
//
//	go test ./collectors/graphite -run '^$' -bench Stream_Line -count 6
func BenchmarkStream_Line(b *testing.B) {
	cfg := DefaultConfig()
	cfg.Addr = ""
	w := &discard{}
	l, err := New(cfg, w, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := l.newStream(context.Background(), "bench")
	lines := benchLines(1000)
	b.SetBytes(int64(len(lines[0]) + 1))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.line(lines[i%len(lines)], testNow)
		i++
	}
	s.flush()
	if got := w.n.Load(); got != int64(i) {
		b.Fatalf("%d points written, want %d", got, i)
	}
}
