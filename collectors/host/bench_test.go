package host

import (
	"os"
	"testing"
	"time"
)

// BenchmarkCollector_Collect is one collection of this machine's metrics
// (procfs, sysfs, statfs of every mount), the work of each interval;
// after the first, as every collection but the first computes the rates.
//
//	go test -run '^$' -bench Collector_Collect -benchmem -count 6 ./collectors/host/
func BenchmarkCollector_Collect(b *testing.B) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		b.Skip("no procfs on this machine")
	}
	c, err := New(DefaultConfig(), nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	if _, err := c.Collect(now); err != nil {
		b.Logf("first collection: %v", err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		now = now.Add(10 * time.Second)
		pts, _ := c.Collect(now)
		n = len(pts)
	}
	b.ReportMetric(float64(n), "samples/op")
}

// BenchmarkCollector_Collect_Fixture is one collection of the fixture's
// 4-cpu machine (7 processes, 8 mounts, 4 disks, 1 interface), the two
// snapshots in turn: figures that do not depend on this machine. Going
// back from t1 to t0 looks like counters reset, which leaves the rates
// out: samples/op alternates between 238 and 185.
//
//	go test -run '^$' -bench Collector_Collect_Fixture -benchmem -count 6 ./collectors/host/
func BenchmarkCollector_Collect_Fixture(b *testing.B) {
	f := newFixture(b)
	now := fixtureT0
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		now = now.Add(10 * time.Second)
		snap := "t0"
		if i%2 == 0 {
			snap = "t1"
		}
		f.use(snap)
		pts, _ := f.c.Collect(now)
		n = len(pts)
	}
	b.ReportMetric(float64(n), "samples/op")
}
