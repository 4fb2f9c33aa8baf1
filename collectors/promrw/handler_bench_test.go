package promrw

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// promRequest is a request as Prometheus sends it: n series of a node
// exporter's shape, one sample each at t.
func promRequest(n int, t int64) []byte {
	ss := make([]series, n)
	for i := range ss {
		ss[i] = series{labels: ls("__name__", fmt.Sprintf("node_cpu_seconds_total_%d", i%50), "cpu", fmt.Sprint(i%8),
			"instance", fmt.Sprintf("host%d:9100", i/400), "job", "node", "mode", "idle"),
			samples: []tsdb.Sample{{T: t, V: float64(i) * 1.5}}}
	}
	return encodeRequest(ss...)
}

// BenchmarkDecode walks a decompressed request of 2,000 series as the
// handler does (check pass, labels, normalize, samples), without a store.
func BenchmarkDecode(b *testing.B) {
	req := promRequest(2000, 1700000000000)
	var scratch tsdb.Labels
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		if err := checkRequest(req); err != nil {
			b.Fatal(err)
		}
		r := NewRequest(req)
		n := 0
		for ts, ok := r.Next(); ok; ts, ok = r.Next() {
			scratch, _, _ = ts.Labels(scratch[:0])
			if _, err := Normalize(scratch); err != nil {
				b.Fatal(err)
			}
			ts.Samples(func(int64, float64) bool { n++; return true })
		}
		if n != 2000 {
			b.Fatal(n)
		}
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkHandler_Write posts requests of 2,000 samples (Prometheus'
// max_samples_per_send in 2.50 and later) to the handler over a real
// store: the same 2,000 series each time, one sample later.
func BenchmarkHandler_Write(b *testing.B) {
	db := openDB(b, nil)
	h := New(db, Config{}, Options{})
	t0 := time.Now().Add(-time.Hour).UnixMilli()
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i] = compress(promRequest(2000, t0+int64(i)*1000))
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/v1/write", strings.NewReader(string(bodies[i%len(bodies)])))
		for k, v := range rwHeaders {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.Write(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		i++
	}
	b.ReportMetric(float64(b.N)*2000/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkHandler_Import posts an export-shaped body of 100 series of
// 1,000 samples each.
func BenchmarkHandler_Import(b *testing.B) {
	db := openDB(b, nil)
	h := New(db, Config{}, Options{})
	t0 := time.Now().Add(-2 * time.Hour).UnixMilli()
	var sb strings.Builder
	for s := range 100 {
		fmt.Fprintf(&sb, `{"metric":{"__name__":"cpu_usage_idle","cpu":"cpu%d","db":"telegraf","host":"web%d"},"values":[`, s%8, s/8)
		for j := range 1000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%g", 90+float64(j%100)/7)
		}
		sb.WriteString(`],"timestamps":[`)
		for j := range 1000 {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprint(&sb, t0+int64(j)*1000)
		}
		sb.WriteString("]}\n")
	}
	body := sb.String()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.Import(rec, httptest.NewRequest("POST", "/api/v1/import", strings.NewReader(body)).WithContext(context.Background()))
		if rec.Code != http.StatusNoContent {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(b.N)*100_000/b.Elapsed().Seconds(), "samples/s")
}
