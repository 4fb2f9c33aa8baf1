package influx

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"outpost/tsdb"
)

// Run with:
//
//	go test -run '^$' -bench 'UDPListener' -benchtime 2s ./collectors/influx/
//
// Datagram: the listener's per-datagram path (parse, map, copy into the
// batch, a Writer call per 5,000 points) without the socket, for the
// Telegraf-like mix cut into datagrams as Telegraf's UDP output cuts them
// (udp_payload, default 512 bytes). Loopback: the whole path through a real
// socket, b.N datagrams of 1,400 bytes sent as fast as one sender can;
// dropped% is what the kernel dropped (the sender is faster than any
// reader, so a non-zero figure is expected at full speed).

// countWriter counts the points written; it is safe for concurrent use.
type countWriter struct{ n atomic.Int64 }

func (w *countWriter) Write(_ context.Context, pts []tsdb.Point) error {
	w.n.Add(int64(len(pts)))
	return nil
}

// datagrams cuts body at line ends into pieces of at most payload bytes
// (a longer line is a piece of its own), returning them and their samples.
func datagrams(body []byte, payload int) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		end := 0
		for end < len(body) {
			i := bytes.IndexByte(body[end:], '\n')
			next := len(body)
			if i >= 0 {
				next = end + i + 1
			}
			if end > 0 && next > payload {
				break
			}
			end = next
		}
		out = append(out, body[:end])
		body = body[end:]
	}
	return out
}

func BenchmarkUDPListener_Datagram(b *testing.B) {
	body, samples := telegrafBody(1000)
	for _, payload := range []int{512, 1400, 8192} {
		b.Run(fmt.Sprintf("payload=%d", payload), func(b *testing.B) {
			ds := datagrams(body, payload)
			w := &countWriter{}
			l, err := NewUDP(DefaultConfig(), w, UDPOptions{})
			if err != nil {
				b.Fatal(err)
			}
			p, batch := new(Parser), new(udpBatch)
			add := func(pts []tsdb.Point) bool {
				batch.add(pts)
				if batch.full(DefaultUDPBatchPoints) {
					l.write(context.Background(), batch.pts)
					batch.reset()
				}
				return true
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				for _, d := range ds {
					l.datagram(p, d, add)
				}
			}
			l.write(context.Background(), batch.pts)
			if got := w.n.Load(); got != int64(b.N*samples) {
				b.Fatalf("%d samples written, want %d", got, b.N*samples)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*samples), "ns/sample")
			b.ReportMetric(float64(len(ds)*b.N)/b.Elapsed().Seconds(), "datagrams/s")
		})
	}
}

func BenchmarkUDPListener_Loopback(b *testing.B) {
	body, _ := telegrafBody(1000)
	ds := datagrams(body, 1400)
	per := make([]int, len(ds)) // samples per datagram
	for i, d := range ds {
		pts, err := Parse(d, ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		per[i] = len(pts)
	}
	cfg := DefaultConfig()
	cfg.UDPAddr = "127.0.0.1:0"
	w := &countWriter{}
	l, err := NewUDP(cfg, w, UDPOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	sent, bytesSent := 0, 0
	b.ResetTimer()
	for i := range b.N {
		d := ds[i%len(ds)]
		if _, err := c.Write(d); err != nil {
			b.Fatal(err)
		}
		sent += per[i%len(ds)]
		bytesSent += len(d)
	}
	for last := int64(-1); int64(l.Stats().Connections.Load()) != last; { // the socket drains
		last = int64(l.Stats().Connections.Load())
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // Run writes what was read, then returns
	<-done
	b.StopTimer()
	b.SetBytes(int64(bytesSent / b.N))
	got := w.n.Load()
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(100*float64(int64(sent)-got)/float64(sent), "dropped%")
}
