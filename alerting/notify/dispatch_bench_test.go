package notify

import (
	"fmt"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

// benchTree is a realistic tree: severity routes with continue, a team
// split by regex, and a catch-all.
func benchTree(b *testing.B) Config {
	b.Helper()
	return Config{Route: Route{Receiver: "team", GroupBy: []string{"alertname", "cluster"},
		Routes: []Route{
			{Receiver: "pager", Matchers: []string{`severity="critical"`}, Continue: true},
			{Receiver: "db", Matchers: []string{`service=~"db|postgres|mysql"`},
				Routes: []Route{{Receiver: "pager", Matchers: []string{`env="prod"`}}}},
			{Receiver: "web", Matchers: []string{`service=~"web.*"`, `env!="dev"`}},
			{Receiver: "team"},
		}}}
}

func benchAlerts(n int) []receiver.Alert {
	sevs := []string{"warning", "critical"}
	svcs := []string{"web-front", "db", "cache", "mysql", "web-api"}
	out := make([]receiver.Alert, n)
	for i := range out {
		out[i] = alert("alertname", fmt.Sprintf("Rule%d", i%50), "cluster", fmt.Sprintf("c%d", i%4),
			"instance", fmt.Sprintf("host-%d", i), "severity", sevs[i%2], "service", svcs[i%5], "env", "prod")
	}
	return out
}

// BenchmarkDispatcher_Put puts 10,000 firing alerts (one evaluation's
// worth) into their groups, as a steady-state re-put does.
//
//	go test -run '^$' -bench 'Dispatcher_Put' -benchmem ./alerting/notify/
func BenchmarkDispatcher_Put(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	ins := map[string][]receiver.Integration{"team": nil, "pager": nil, "db": nil, "web": nil}
	n, err := Open(db, benchTree(b), Options{Integrations: ins})
	if err != nil {
		b.Fatal(err)
	}
	alerts := benchAlerts(10_000)
	n.Put(alerts...)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n.Put(alerts...)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(alerts)), "ns/alert")
}

// BenchmarkDispatcher_PutNew puts 10,000 alerts into a fresh dispatcher,
// routing each (the first evaluation after a start).
func BenchmarkDispatcher_PutNew(b *testing.B) {
	db := openDB(b, b.TempDir())
	defer db.Close()
	ins := map[string][]receiver.Integration{"team": nil, "pager": nil, "db": nil, "web": nil}
	alerts := benchAlerts(10_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		n, err := Open(db, benchTree(b), Options{Integrations: ins, Now: func() time.Time { return t0 }})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n.Put(alerts...)
	}
}

// BenchmarkRoute_Match matches alerts down benchTree.
//
//	go test -run '^$' -bench 'Route_Match' -benchmem ./alerting/notify/
func BenchmarkRoute_Match(b *testing.B) {
	tree, err := NewTree(benchTree(b).Route)
	if err != nil {
		b.Fatal(err)
	}
	alerts := benchAlerts(1000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tree.Match(alerts[i%len(alerts)].Labels)
		i++
	}
}
