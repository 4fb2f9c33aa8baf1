package query

// The data set of the differential test against VictoriaMetrics: small,
// deterministic (a seeded PCG), four hours from vdStart. It has gauges,
// counters with resets and jitter, a histogram, gaps, staleness markers,
// regular NaNs, series with 15 s, 30 s and 60 s intervals, and samples
// written late (after the rest was flushed to partitions, and into an epoch
// still in the head).

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"outpost/tsdb"
)

// vdStart is the first sample time: 2026-01-01T00:00:00Z.
var vdStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// vdEnd is the time after the last sample.
var vdEnd = vdStart.Add(4 * time.Hour)

// vdSeries is one series' samples in time order.
type vdSeries struct {
	labels tsdb.Labels
	ts     []int64
	vs     []float64
}

// vdStaleNaN is Prometheus' staleness marker.
var vdStaleNaN = math.Float64frombits(staleNaNBits)

// vdGen builds the data set.
type vdGen struct {
	rng         *rand.Rand
	early, late []vdSeries
}

// vdData returns the samples to write first and those to write later.
func vdData() (early, late []vdSeries) {
	g := &vdGen{rng: rand.New(rand.NewPCG(2026, 1))}
	g.gauges()
	g.counters()
	g.histogram()
	g.irregular()
	g.staleAndLate()
	g.vmHistogram()
	return g.early, g.late
}

// round rounds v to d decimals, so VictoriaMetrics' decimal storage keeps
// it exactly.
func round(v float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(v*p) / p
}

// each calls f for every step-spaced time in [from, to) after vdStart.
func each(from, to, step time.Duration, f func(t int64)) {
	for d := from; d < to; d += step {
		f(vdStart.Add(d).UnixMilli())
	}
}

func (g *vdGen) add(s vdSeries) { g.early = append(g.early, s) }

// gauges: cpu (random walks, 2 decimals, 15 s), mem_bytes (integers,
// 30 s), temp (60 s, negative values), build_info (constant 1).
func (g *vdGen) gauges() {
	for i := range 6 {
		region := []string{"eu", "us"}[i%2]
		s := vdSeries{labels: tsdb.FromStrings("__name__", "cpu", "job", "api", "instance", fmt.Sprintf("i%d", i), "region", region, "mode", "user")}
		v := g.rng.Float64() * 100
		each(0, 4*time.Hour, 15*time.Second, func(t int64) {
			v = min(100, max(0, v+g.rng.NormFloat64()*3))
			s.ts, s.vs = append(s.ts, t), append(s.vs, round(v, 2))
		})
		g.add(s)
		info := vdSeries{labels: tsdb.FromStrings("__name__", "build_info", "job", "api", "instance", fmt.Sprintf("i%d", i), "version", []string{"1.0", "1.1", "2.0"}[i%3])}
		each(0, 4*time.Hour, time.Minute, func(t int64) { info.ts, info.vs = append(info.ts, t), append(info.vs, 1) })
		g.add(info)
	}
	for i := range 3 {
		s := vdSeries{labels: tsdb.FromStrings("__name__", "mem_bytes", "host", fmt.Sprintf("h%d", i+1), "kind", []string{"used", "free", "used"}[i])}
		v := float64(1<<30) * float64(i+1)
		each(0, 4*time.Hour, 30*time.Second, func(t int64) {
			v += float64(g.rng.IntN(2_000_001) - 1_000_000)
			s.ts, s.vs = append(s.ts, t), append(s.vs, v)
		})
		g.add(s)
	}
	for _, sensor := range []string{"a", "b"} {
		s := vdSeries{labels: tsdb.FromStrings("__name__", "temp", "sensor", sensor, "room", "r1")}
		v := -5.0
		each(0, 4*time.Hour, time.Minute, func(t int64) {
			v += g.rng.NormFloat64()
			s.ts, s.vs = append(s.ts, t), append(s.vs, round(v, 1))
		})
		g.add(s)
	}
}

// counters: requests_total per instance, 15 s. i1 resets to zero at 1h,
// i2 restarts at 2h30m at a small value, i3 dips slightly (jitter) at 50m,
// i4 starts at 1h10m from a large value, i5 is constant for an hour.
func (g *vdGen) counters() {
	for i := range 6 {
		s := vdSeries{labels: tsdb.FromStrings("__name__", "requests_total", "job", "api", "instance", fmt.Sprintf("i%d", i), "code", []string{"200", "500"}[i/4])}
		v := float64(g.rng.IntN(100))
		from := time.Duration(0)
		if i == 4 {
			from, v = 70*time.Minute, 50_000
		}
		each(from, 4*time.Hour, 15*time.Second, func(t int64) {
			d := time.UnixMilli(t).Sub(vdStart)
			switch {
			case i == 1 && d == time.Hour:
				v = 0
			case i == 2 && d == 150*time.Minute:
				v = 3
			case i == 3 && d == 50*time.Minute:
				v--
			case i == 5 && d >= time.Hour && d < 2*time.Hour:
			default:
				v += float64(g.rng.IntN(20))
			}
			s.ts, s.vs = append(s.ts, t), append(s.vs, v)
		})
		g.add(s)
	}
}

// histogram: latency_seconds_bucket for two instances, 15 s.
func (g *vdGen) histogram() {
	les := []string{"0.05", "0.1", "0.5", "1", "5", "+Inf"}
	for i := range 2 {
		counts := make([]float64, len(les))
		ss := make([]vdSeries, len(les))
		for k, le := range les {
			ss[k].labels = tsdb.FromStrings("__name__", "latency_seconds_bucket", "job", "api", "instance", fmt.Sprintf("i%d", i), "le", le)
		}
		each(0, 4*time.Hour, 15*time.Second, func(t int64) {
			for range 10 {
				b := min(len(les)-1, int(g.rng.ExpFloat64()*1.5))
				for k := b; k < len(les); k++ {
					counts[k]++
				}
			}
			for k := range ss {
				ss[k].ts, ss[k].vs = append(ss[k].ts, t), append(ss[k].vs, counts[k])
			}
		})
		for _, s := range ss {
			g.add(s)
		}
	}
}

// irregular: gap (30 s with two holes), nanval (15 s with regular NaNs).
func (g *vdGen) irregular() {
	s := vdSeries{labels: tsdb.FromStrings("__name__", "gap", "job", "batch", "instance", "g1")}
	v := 10.0
	each(0, 4*time.Hour, 30*time.Second, func(t int64) {
		d := time.UnixMilli(t).Sub(vdStart)
		if d >= time.Hour && d < 100*time.Minute || d >= 3*time.Hour && d < 185*time.Minute {
			return
		}
		v += float64(g.rng.IntN(5))
		s.ts, s.vs = append(s.ts, t), append(s.vs, v)
	})
	g.add(s)
	n := vdSeries{labels: tsdb.FromStrings("__name__", "nanval", "job", "batch")}
	k := 0
	each(0, 4*time.Hour, 15*time.Second, func(t int64) {
		k++
		val := float64(k % 7)
		if k%13 == 0 {
			val = math.NaN()
		}
		n.ts, n.vs = append(n.ts, t), append(n.vs, val)
	})
	g.add(n)
}

// staleAndLate: flaky{instance="s1"} is stale at 2h and resumes at 2h30m;
// s2 ends with a staleness marker at 3h. late is written in two parts:
// [1h, 2h) after the rest was flushed, [3h30m, 3h40m) into the head.
func (g *vdGen) staleAndLate() {
	for _, inst := range []string{"s1", "s2"} {
		s := vdSeries{labels: tsdb.FromStrings("__name__", "flaky", "job", "batch", "instance", inst)}
		v := 100.0
		each(0, 4*time.Hour, 15*time.Second, func(t int64) {
			d := time.UnixMilli(t).Sub(vdStart)
			switch {
			case inst == "s1" && d == 2*time.Hour, inst == "s2" && d == 3*time.Hour:
				s.ts, s.vs = append(s.ts, t), append(s.vs, vdStaleNaN)
			case inst == "s1" && d > 2*time.Hour && d < 150*time.Minute, inst == "s2" && d > 3*time.Hour:
			default:
				v = round(v+g.rng.NormFloat64(), 3)
				s.ts, s.vs = append(s.ts, t), append(s.vs, v)
			}
		})
		g.add(s)
	}
	ls := tsdb.FromStrings("__name__", "late", "job", "late")
	var early, late1, late2 vdSeries
	early.labels, late1.labels, late2.labels = ls, ls, ls
	each(0, 4*time.Hour, 15*time.Second, func(t int64) {
		d := time.UnixMilli(t).Sub(vdStart)
		v := round(50+40*math.Sin(float64(d)/float64(20*time.Minute)), 3)
		switch {
		case d >= time.Hour && d < 2*time.Hour:
			late1.ts, late1.vs = append(late1.ts, t), append(late1.vs, v)
		case d >= 210*time.Minute && d < 220*time.Minute:
			late2.ts, late2.vs = append(late2.ts, t), append(late2.vs, v)
		default:
			early.ts, early.vs = append(early.ts, t), append(early.vs, v)
		}
	})
	g.add(early)
	g.late = append(g.late, late1, late2)
}

// vmHistogram: resp_size_bucket, a VictoriaMetrics-style histogram
// (vmrange buckets counting their own observations) for two instances,
// 15 s, each bucket series starting with its first observation.
func (g *vdGen) vmHistogram() {
	for i := range 2 {
		counts := map[int]float64{}
		byIdx := map[int]*vdSeries{}
		var order []int
		each(0, 4*time.Hour, 15*time.Second, func(t int64) {
			for range 8 {
				v := round(g.rng.ExpFloat64()*float64(500*(i+1)), 0)
				idx, _ := vmrangeIndex(v)
				counts[idx]++
				if byIdx[idx] == nil {
					byIdx[idx] = &vdSeries{labels: tsdb.FromStrings("__name__", "resp_size_bucket", "job", "vm", "instance", fmt.Sprintf("v%d", i), "vmrange", vmrangeName(idx))}
					order = append(order, idx)
				}
			}
			for _, idx := range order {
				s := byIdx[idx]
				s.ts, s.vs = append(s.ts, t), append(s.vs, counts[idx])
			}
		})
		for _, idx := range order {
			g.add(*byIdx[idx])
		}
	}
}

// vdPoints converts series to store points.
func vdPoints(series []vdSeries) []tsdb.Point {
	var pts []tsdb.Point
	for _, s := range series {
		for i, t := range s.ts {
			pts = append(pts, tsdb.Point{Labels: s.labels, T: t, V: s.vs[i]})
		}
	}
	return pts
}
