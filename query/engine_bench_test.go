package query

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"outpost/tsdb"
)

// benchStart is the first sample time of the benchmark data.
var benchStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// loadBenchDB writes series × (hours at 10 s) samples of metric m with
// hostname and region labels, random walks between 0 and 100.
func loadBenchDB(b *testing.B, series int, hours float64) *tsdb.DB {
	b.Helper()
	n := int(hours * 360)
	db := openTestDB(b, benchStart.Add(time.Duration(hours*float64(time.Hour))+time.Minute))
	regions := []string{"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "sa-east-1"}
	rng := rand.New(rand.NewPCG(1, 2))
	vals := make([]float64, series)
	ctrs := make([]float64, series)
	lss := make([]tsdb.Labels, series)
	cls := make([]tsdb.Labels, series)
	for i := range lss {
		host := fmt.Sprintf("host_%d", i)
		lss[i] = tsdb.FromStrings("__name__", "m", "hostname", host, "region", regions[i%len(regions)])
		cls[i] = tsdb.FromStrings("__name__", "c", "hostname", host, "region", regions[i%len(regions)])
		vals[i] = rng.Float64() * 100
	}
	pts := make([]tsdb.Point, 0, 2*series*60)
	for s := 0; s < n; s++ {
		t := benchStart.Add(time.Duration(s) * 10 * time.Second).UnixMilli()
		for i := range lss {
			vals[i] = min(100, max(0, vals[i]+rng.NormFloat64()))
			ctrs[i] += float64(rng.IntN(1000))
			pts = append(pts, tsdb.Point{Labels: lss[i], T: t, V: vals[i]}, tsdb.Point{Labels: cls[i], T: t, V: ctrs[i]})
		}
		if len(pts) >= cap(pts)-2*series {
			writePoints(b, db, pts)
			pts = pts[:0]
		}
	}
	writePoints(b, db, pts)
	if err := db.Flush(b.Context()); err != nil {
		b.Fatalf("flush: %v", err)
	}
	return db
}

// BenchmarkEngine_Range evaluates the lpload-style queries over 1,000
// series × 24 h at 10 s (8.64 M samples per metric), step 60 s.
//
//	go test -run '^$' -bench BenchmarkEngine_Range -benchtime 3x ./query/
func BenchmarkEngine_Range(b *testing.B) {
	db := loadBenchDB(b, 1000, 24)
	e := NewEngine(db, Options{})
	end := benchStart.Add(24*time.Hour - 10*time.Second)
	mux := http.NewServeMux()
	NewAPI(e, db, APIOptions{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, q := range []string{
		`avg by (region) (rate(c[5m]))`,
		`max by (hostname) (m)`,
		`topk(5, avg_over_time(m[10m]))`,
		`count(m > 90)`,
		`sum(count_over_time(m[1h]))`,
	} {
		b.Run("engine/"+q, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Range(b.Context(), q, benchStart, end, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
		})
		// The same through the HTTP API, JSON included, as lpload asks.
		b.Run("api/"+q, func(b *testing.B) {
			b.ReportAllocs()
			form := url.Values{"query": {q}, "start": {strconv.FormatInt(benchStart.Unix(), 10)},
				"end": {strconv.FormatInt(end.Unix(), 10)}, "step": {"60s"}}
			for b.Loop() {
				resp, err := http.PostForm(srv.URL+"/api/v1/query_range", form)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
				b.SetBytes(n)
			}
		})
	}
}

// BenchmarkEngine_Compare evaluates the five queries of
// ../shared/bench/compare.sh on its data shape: 1,000 series × 3 h at 10 s
// of full-precision floats, flushed to partitions, step 60 s.
//
//	go test -run '^$' -bench BenchmarkEngine_Compare -benchtime 20x -cpuprofile /tmp/cpu.out ./query/
func BenchmarkEngine_Compare(b *testing.B) {
	db := loadBenchDB(b, 1000, 3)
	e := NewEngine(db, Options{})
	end := benchStart.Add(3*time.Hour - 10*time.Second)
	for _, q := range []string{
		`avg by (region) (rate(m[5m]))`,
		`max by (hostname) (m)`,
		`topk(5, avg_over_time(m[10m]))`,
		`count(m > 90)`,
		`sum(count_over_time(m[1h]))`,
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
