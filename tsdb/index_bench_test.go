package tsdb

// Reproduce:
//
//	go test -run '^$' -bench 'Index_(GetOrCreate|Postings|LabelValues)' -benchtime 1s ./tsdb
//	go test -run '^$' -bench 'Index_Memory1M' -benchtime 1x -timeout 30m ./tsdb

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// indexBenchGen builds series of 11 labels shaped like a fleet's: 100
// metrics per host, hosts numbered i/100 so a host's series are created
// together, and labels derived from the host or the metric. With unique,
// the "device" label is replaced by an "id" label unique to every series
// (the worst case for the index). It allocates nothing per series.
type indexBenchGen struct {
	unique                     bool
	metrics, teams, jobs, devs []string
	hosts, instances, ids      []string
	regions, dcs, envs, svcs   []string
	versions                   []string
}

func newIndexBenchGen(n int, unique bool) *indexBenchGen {
	g := &indexBenchGen{unique: unique}
	pool := func(k int, f func(i int) string) []string {
		s := make([]string, k)
		for i := range s {
			s[i] = f(i)
		}
		return s
	}
	g.metrics = pool(100, func(i int) string { return "metric_" + strconv.Itoa(i) })
	g.teams = pool(20, func(i int) string { return "team-" + strconv.Itoa(i) })
	g.jobs = pool(10, func(i int) string { return "job-" + strconv.Itoa(i) })
	g.devs = pool(8, func(i int) string { return "dev" + strconv.Itoa(i) })
	nh := (n + 99) / 100
	g.hosts = pool(nh, func(i int) string { return "host-" + strconv.Itoa(i) })
	g.instances = pool(nh, func(i int) string { return "host-" + strconv.Itoa(i) + ":9100" })
	if unique {
		g.ids = pool(n, func(i int) string { return fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15) })
	}
	g.regions = []string{"us-east", "us-west", "us-central", "eu-west", "eu-central", "ap-south", "ap-east", "sa-east"}
	g.dcs = pool(32, func(i int) string { return "dc-" + strconv.Itoa(i) })
	g.envs = []string{"prod", "staging", "dev"}
	g.svcs = pool(200, func(i int) string { return "svc-" + strconv.Itoa(i) })
	g.versions = pool(5, func(i int) string { return "v1." + strconv.Itoa(i) })
	return g
}

// fill writes series i into dst (reusing it) and returns it, sorted.
func (g *indexBenchGen) fill(dst Labels, i int) Labels {
	m, h := i%100, i/100
	dst = append(dst[:0], Label{MetricName, g.metrics[m]}, Label{"dc", g.dcs[h%32]})
	if g.unique {
		dst = append(dst, Label{"env", g.envs[h%3]}, Label{"host", g.hosts[h]}, Label{"id", g.ids[i]})
	} else {
		dst = append(dst, Label{"device", g.devs[(i/7)%8]}, Label{"env", g.envs[h%3]}, Label{"host", g.hosts[h]})
	}
	return append(dst,
		Label{"instance", g.instances[h]},
		Label{"job", g.jobs[m%10]},
		Label{"region", g.regions[h%8]},
		Label{"service", g.svcs[h%200]},
		Label{"team", g.teams[m%20]},
		Label{"version", g.versions[h%5]},
	)
}

// indexBenchIndex returns an index holding n series of gen.
func indexBenchIndex(b *testing.B, n int, unique bool) (*index, *indexBenchGen) {
	b.Helper()
	ix, _ := indexOpenTest(b, 0)
	g := newIndexBenchGen(n, unique)
	var ls Labels
	for i := range n {
		ls = g.fill(ls, i)
		if _, _, err := ix.getOrCreate(ls); err != nil {
			b.Fatal(err)
		}
	}
	return ix, g
}

func BenchmarkIndex_GetOrCreate_Hit(b *testing.B) {
	const n = 100_000
	ix, g := indexBenchIndex(b, n, false)
	series := make([]Labels, n)
	for i := range series {
		series[i] = g.fill(nil, i)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, created, err := ix.getOrCreate(series[i]); created || err != nil {
				b.Fatal(created, err)
			}
			if i++; i == n {
				i = 0
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := int(time.Now().UnixNano() % n)
			for pb.Next() {
				if _, _, err := ix.getOrCreate(series[i]); err != nil {
					b.Error(err)
					return
				}
				if i++; i == n {
					i = 0
				}
			}
		})
	})
}

func BenchmarkIndex_GetOrCreate_Create(b *testing.B) {
	b.ReportAllocs()
	ix, _ := indexOpenTest(b, 0)
	g := newIndexBenchGen(b.N, false)
	var ls Labels
	b.ResetTimer()
	for i := range b.N {
		ls = g.fill(ls, i)
		if _, created, err := ix.getOrCreate(ls); !created || err != nil {
			b.Fatal(created, err)
		}
	}
}

func BenchmarkIndex_Postings(b *testing.B) {
	small, _ := indexOpenTest(b, 0) // 1,000 series x 10 metrics
	regions := []string{"us-east", "us-west", "us-central", "eu-west", "eu-central", "ap-south", "ap-east", "sa-east"}
	for i := range 10_000 {
		ls := FromStrings(MetricName, "x"+strconv.Itoa(i/1000), "host", "h"+strconv.Itoa(i%1000), "region", regions[i%8])
		if _, _, err := small.getOrCreate(ls); err != nil {
			b.Fatal(err)
		}
	}
	large, _ := indexBenchIndex(b, 100_000, false)
	for _, c := range []struct {
		name string
		ix   *index
		ms   []*Matcher
	}{
		{"10k/name+region", small, []*Matcher{MustNewMatcher(MatchEqual, MetricName, "x3"), MustNewMatcher(MatchRegexp, "region", "us-.*")}},
		{"100k/name+region", large, []*Matcher{MustNewMatcher(MatchEqual, MetricName, "metric_7"), MustNewMatcher(MatchRegexp, "region", "us-.*")}},
		{"100k/name+instance", large, []*Matcher{MustNewMatcher(MatchEqual, MetricName, "metric_7"), MustNewMatcher(MatchRegexp, "instance", "host-1.*")}},
		{"100k/name", large, []*Matcher{MustNewMatcher(MatchEqual, MetricName, "metric_7")}},
		{"100k/host-not-empty", large, []*Matcher{MustNewMatcher(MatchNotEqual, "env", "prod")}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var n uint64
			for b.Loop() {
				bm, err := c.ix.postings(c.ms)
				if err != nil {
					b.Fatal(err)
				}
				n = bm.GetCardinality()
			}
			b.ReportMetric(float64(n), "series")
		})
	}
}

func BenchmarkIndex_LabelValues(b *testing.B) {
	ix, _ := indexBenchIndex(b, 100_000, false)
	ids, err := ix.postings([]*Matcher{MustNewMatcher(MatchEqual, MetricName, "metric_7")})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, label string
	}{{"host/all", "host"}, {"host/metric_7", "host"}, {"region/metric_7", "region"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			sel := ids
			if c.name == "host/all" {
				sel = nil
			}
			for b.Loop() {
				if vals := ix.labelValues(c.label, sel); len(vals) == 0 {
					b.Fatal("no values")
				}
			}
		})
	}
}

// indexHeap returns the live heap after a full collection.
func indexHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkIndex_Memory1M builds, persists and reopens an index of 1M series
// of 11 labels and reports the heap it takes per series, with and without
// the symbol table (the interned strings, their table and map).
func BenchmarkIndex_Memory1M(b *testing.B) {
	const n = 1_000_000
	for _, unique := range []bool{false, true} {
		b.Run(map[bool]string{false: "hosts", true: "uniqueid"}[unique], func(b *testing.B) {
			for b.Loop() {
				indexBenchMemory(b, n, unique)
			}
		})
	}
}

func indexBenchMemory(b *testing.B, n int, unique bool) {
	path := filepath.Join(b.TempDir(), "index.db")
	g := newIndexBenchGen(n, unique)
	base := indexHeap()
	ix, err := openIndex(path, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	var ls Labels
	for i := range n {
		ls = g.fill(ls, i)
		if _, _, err := ix.getOrCreate(ls); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "create-ns/series")
	built := indexHeap()
	start = time.Now()
	if err := ix.close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "persist-s")
	b.ReportMetric(float64(built-base)/float64(n), "built-B/series")
	ix = nil
	base = indexHeap()
	start = time.Now()
	ix, err = openIndex(path, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "open-s")
	loaded := indexHeap()
	est := ix.sizeBytes()
	strs := ix.syms.strs[1:]
	runtime.KeepAlive(ix)
	symBase := indexHeap()
	sy := newIndexSymbols()
	for _, s := range strs {
		sy.intern(s)
	}
	symCost := indexHeap() - symBase
	runtime.KeepAlive(&sy)
	b.ReportMetric(float64(loaded-base)/float64(n), "B/series")
	b.ReportMetric(float64(loaded-base-symCost)/float64(n), "nosyms-B/series")
	b.ReportMetric(float64(est)/float64(n), "est-B/series")
	b.ReportMetric(float64(len(strs)), "symbols")
	if err := ix.close(); err != nil {
		b.Fatal(err)
	}
}
