package influx

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"outpost/tsdb"
)

// Run with:
//
//	go test -run '^$' -bench 'Handler' -benchtime 2s ./collectors/influx/
//
// The full request path (body read, gzip, parse, map, batching, response)
// into a Writer that does nothing; MB/s is over the uncompressed body.

// nopWriter accepts everything and keeps nothing.
type nopWriter struct{ n int }

func (w *nopWriter) Write(_ context.Context, pts []tsdb.Point) error {
	w.n += len(pts)
	return nil
}

// statusWriter is a reusable ResponseWriter that keeps only the status.
type statusWriter struct {
	header http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }

func benchHandler(b *testing.B, body []byte, samples int, gzipped bool) {
	b.Helper()
	w := &nopWriter{}
	h := New(w, Options{Now: time.Now})
	payload := body
	if gzipped {
		payload = gz(b, body)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	rw := &statusWriter{header: make(http.Header)}
	for b.Loop() {
		req := httptest.NewRequest("POST", "/write?db=bench", bytes.NewReader(payload))
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		rw.status = 0
		h.Write(rw, req)
		if rw.status != http.StatusNoContent {
			b.Fatalf("status %d", rw.status)
		}
	}
	if w.n != samples*b.N {
		b.Fatalf("wrote %d samples, want %d", w.n, samples*b.N)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
}

// BenchmarkHandler_CPUOnly: one lpload request (5,000 lines, 50,000 samples).
func BenchmarkHandler_CPUOnly(b *testing.B) {
	body, samples := cpuOnlyBody(5000)
	benchHandler(b, body, samples, false)
}

// BenchmarkHandler_CPUOnlyGzip: the same, gzipped as lpload -gzip sends it.
func BenchmarkHandler_CPUOnlyGzip(b *testing.B) {
	body, samples := cpuOnlyBody(5000)
	benchHandler(b, body, samples, true)
}

// BenchmarkHandler_TelegrafGzip: a Telegraf-like body, gzipped as Telegraf
// sends it.
func BenchmarkHandler_TelegrafGzip(b *testing.B) {
	body, samples := telegrafBody(1000)
	benchHandler(b, body, samples-1000, true) // the default policy drops its 1,000 uptime_format
}
