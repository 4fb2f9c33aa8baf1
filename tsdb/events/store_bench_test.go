//go:build unix

package events

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchEvent is a log event of about 400 bytes; one in 1,000 is an error.
func benchEvent(i int, t time.Time) Event {
	status, reason := "ok", "request served"
	if i%1000 == 0 {
		status, reason = "error", "upstream connect refused"
	}
	body := fmt.Sprintf(`{"@timestamp":%q,"host":"web-%d","source":"nginx","type":"access","status":%q,`+
		`"message":"GET /api/v1/items/%d HTTP/1.1 %s in %d ms","client":{"ip":"10.0.%d.%d","agent":"Mozilla/5.0 (X11; Linux x86_64)"},`+
		`"request_id":"%016x","bytes":%d}`,
		t.Format(time.RFC3339Nano), i%20, status, i, reason, i%997, i%256, i%251, uint64(i)*0x9e3779b97f4a7c15, i%65536)
	return Event{ID: "b-" + strconv.Itoa(i), Time: t, Body: []byte(body)}
}

// BenchmarkEvents_Append appends batches of 1,000 events (one fsync'd
// transaction each) to one day file.
//
//	go test -run '^$' -bench 'Events_Append' -benchtime 100x ./tsdb/events
func BenchmarkEvents_Append(b *testing.B) {
	s := openTest(b, b.TempDir(), Options{IndexFields: []string{"status"}})
	day := testNow.Add(-12 * time.Hour)
	const batch = 1000
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		evs := make([]Event, batch)
		for j := range evs {
			evs[j] = benchEvent(n, day.Add(time.Duration(n)*time.Millisecond))
			n++
		}
		if _, err := s.Append(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkEvents_Search searches one day of EVENTS_BENCH_N events
// (default 200,000; the figure is 1,000,000, which takes about a
// minute to load):
//
//	EVENTS_BENCH_N=1000000 go test -run '^$' -bench 'Events_Search' -benchtime 5x -timeout 30m ./tsdb/events
func BenchmarkEvents_Search(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("EVENTS_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	s := openTest(b, b.TempDir(), Options{IndexFields: []string{"status"}})
	day := testNow.Add(-24 * time.Hour).Truncate(24 * time.Hour)
	step := 24 * time.Hour / time.Duration(n)
	for i := 0; i < n; i += 5000 {
		evs := make([]Event, 0, 5000)
		for j := i; j < min(n, i+5000); j++ {
			evs = append(evs, benchEvent(j, day.Add(time.Duration(j)*step)))
		}
		if _, err := s.Append(b.Context(), evs); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct{ name, q string }{
		{"all_newest_100", "*"},
		{"indexed_rare", "status:error"},               // index: 1 in 1,000
		{"field_rare_scan", "type:access AND refused"}, // every record read, few decoded
		{"field_none", "client.ip:10.9.9.9"},           // every record read, none match
		{"regex_scan", "message:/items.*77777.*/"},     // every record decoded
	} {
		pq, err := ParseQuery(q.q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q.name, func(b *testing.B) {
			var p Page
			cpu0 := cpuTime()
			for b.Loop() {
				if p, err = s.Search(b.Context(), SearchRequest{Query: pq, Limit: 100}); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time per search: on a shared machine ns/op measures
			// the other tenants as much as the search.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(p.Scanned), "scanned")
			b.ReportMetric(float64(len(p.Events)), "found")
		})
	}
}

// cpuTime is the process's user and system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
