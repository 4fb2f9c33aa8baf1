package query

import (
	"math"
	"testing"
)

// window builds rollupArgs for values at 10 s intervals ending at currT,
// with an optional previous sample 10 s before the first.
func window(prev float64, vs ...float64) *rollupArgs {
	a := &rollupArgs{values: vs, prevValue: prev, realPrev: prev, realNext: nan, window: 60_000}
	a.timestamps = make([]int64, len(vs))
	for i := range vs {
		a.timestamps[i] = int64(i+1) * 10_000
	}
	a.prevT = 0
	a.currT = int64(len(vs)) * 10_000
	return a
}

func TestRollupFuncs(t *testing.T) {
	f := func(name string, rf rollupFunc, a *rollupArgs, want float64) {
		t.Helper()
		got := rf(a)
		if !(got == want || (math.IsNaN(got) && math.IsNaN(want)) || math.Abs(got-want) < 1e-12*math.Abs(want)) {
			t.Errorf("%s(prev=%v, %v) = %v, want %v", name, a.prevValue, a.values, got, want)
		}
	}
	f("rate", rollupDerivFast, window(0, 10, 20, 30), 1)
	f("rate no prev", rollupDerivFast, window(nan, 10, 20, 30), 1)
	f("rate one sample", rollupDerivFast, window(nan, 10), nan)
	f("rate empty with prev", rollupDerivFast, window(5), 0)
	f("increase", rollupDelta, window(5, 10, 20, 30), 25)
	f("increase starting at zero", rollupDelta, window(nan, 1, 2, 3), 3)
	f("increase large start", rollupDelta, window(nan, 1000, 1001, 1002), 2)
	f("irate", rollupIderiv, window(0, 10, 20, 50), 3)
	f("irate one sample with prev", rollupIderiv, window(4, 10), 0.6)
	f("idelta", rollupIdelta, window(0, 10, 20, 50), 30)
	f("changes", rollupChanges, window(1, 1, 2, 2, 3), 2)
	f("changes no prev counts the first", rollupChanges, window(nan, 1, 2), 2)
	f("resets", rollupResets, window(5, 1, 2, 0, 3), 2)
	f("resets empty no prev", rollupResets, window(nan), nan)
	f("avg", rollupAvg, window(nan, 1, 2, 3, 4), 2.5)
	f("avg inf", rollupAvg, window(nan, 1, math.Inf(1)), math.Inf(1))
	f("avg overflow", rollupAvg, window(nan, math.MaxFloat64, math.MaxFloat64), math.MaxFloat64)
	f("sum kahan", rollupSum, window(nan, 1, 1e100, 1, -1e100), 2)
	f("min", rollupMin, window(nan, 3, 1, 2), 1)
	f("max", rollupMax, window(nan, 3, 1, 2), 3)
	f("count", rollupCount, window(nan, 3, 1, 2), 3)
	f("count empty", rollupCount, window(nan), nan)
	f("stddev", rollupStddev, window(nan, 2, 4, 4, 4, 5, 5, 7, 9), 2)
	f("stdvar one", rollupStdvar, window(nan, 2), 0)
	f("median", rollupMedian, window(nan, 5, 1, 3), 3)
	f("quantile", mustQuantile(0.25), window(nan, 1, 2, 3, 4, 5), 2)
	f("mad", rollupMAD, window(nan, 1, 1, 2, 2, 4, 6, 9), 1)
	f("mode", rollupMode, window(nan, 1, 2, 2, 3), 2)
	f("distinct", rollupDistinct, window(nan, 1, 2, 2, 3), 3)
	f("range", rollupRange, window(nan, 1, 5, 3), 4)
	f("last", rollupLast, window(nan, 1, 5, 3), 3)
	f("first", rollupFirst, window(nan, 1, 5, 3), 1)
	f("deriv", rollupDerivSlow, window(nan, 10, 20, 30), 1)
	f("deriv const", rollupDerivSlow, window(nan, 5), 0)
	f("integrate", rollupIntegrate, window(nan, 1, 1, 1), 20)
	f("lag", rollupLag, window(nan, 1, 1), 0)
	f("lifetime", rollupLifetime, window(nan, 1, 1, 1), 20)
	f("tlast", rollupTlast, window(nan, 1, 1, 1), 30)
	f("tmin", rollupTmin, window(nan, 3, 1, 2), 20)
	f("increases", rollupIncreases, window(0, 1, 0, 2), 2)
	f("ascent", rollupAscent, window(0, 1, 0, 2), 3)
	f("descent", rollupDescent, window(0, 1, 0, 2), 1)
	f("present", rollupPresent, window(nan, 7), 1)
	f("zscore", rollupZscore, window(nan, 1, 3), 1)
	f("geomean", rollupGeomean, window(nan, 1, 4), 2)
	f("delta_prometheus", rollupDeltaPrometheus, window(0, 10, 30), 20)
}

func mustQuantile(phi float64) rollupFunc {
	f, err := mkQuantileOverTime(rollupParams{nums: [][]float64{{phi}}})
	if err != nil {
		panic(err)
	}
	return f
}

func TestScrapeInterval(t *testing.T) {
	f := func(ts []int64, want int64) {
		t.Helper()
		if got := scrapeInterval(ts, 300_000); got != want {
			t.Errorf("scrapeInterval(%v) = %d, want %d", ts, got, want)
		}
	}
	f(nil, 300_000)
	f([]int64{0}, 300_000)
	f([]int64{0, 10_000, 20_000, 30_000}, 10_000)
	f([]int64{0, 10_000, 20_000, 80_000}, 20_000)
	if got := maxPrevInterval(10_000); got != 15_000 {
		t.Errorf("maxPrevInterval(10s) = %d, want 15000", got)
	}
	if got := maxPrevInterval(60_000); got != 67_500 {
		t.Errorf("maxPrevInterval(60s) = %d, want 67500", got)
	}
}

// TestRollupRunner_Seek checks that skipping gaps with SeekTo gives the
// same windows as reading every sample.
func TestRollupRunner_Seek(t *testing.T) {
	var ts []int64
	var vs []float64
	for i := range 5000 {
		if i%1000 < 700 {
			ts = append(ts, int64(i)*10_000)
			vs = append(vs, float64(i%13))
		}
	}
	grid := makeGrid(0, 50_000_000, 3_600_000)
	for _, name := range []string{"max_over_time", "count_over_time", "default_rollup", "changes", "last_over_time"} {
		spec := rollupSpecs[name]
		rr := &rollupRunner{spec: spec, outs: []rollupOutput{{f: spec.f}}, grid: grid, window: 60_000, step: 3_600_000}
		got := [][]float64{make([]float64, len(grid))}
		var c cursor
		it := &memIter{}
		it.reset(ts, vs)
		n, err := rr.run(it, got, &c)
		if err != nil {
			t.Fatal(err)
		}
		if n >= len(ts)/2 {
			t.Errorf("%s read %d of %d samples; seeking should skip most", name, n, len(ts))
		}
		noSeek := *spec
		noSeek.noSeek = true
		rr.spec = &noSeek
		want := [][]float64{make([]float64, len(grid))}
		it.reset(ts, vs)
		if _, err := rr.run(it, want, &c); err != nil {
			t.Fatal(err)
		}
		for i := range grid {
			if g, w := got[0][i], want[0][i]; g != w && !(isNaN(g) && isNaN(w)) {
				t.Errorf("%s at step %d: seeking gives %v, reading all %v", name, i, g, w)
			}
		}
	}
}

func TestCursor_CounterResets(t *testing.T) {
	var c cursor
	var got []float64
	for _, v := range []float64{100, 105, 95, 110, 120, 5, 15} {
		got = append(got, c.correct(v))
	}
	// 95 is jitter (a drop under 1/8), 5 a reset.
	want := []float64{100, 105, 105, 120, 130, 135, 145}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("corrected %v, want %v", got, want)
		}
	}
}

func TestAggrState_Merge(t *testing.T) {
	series := [][]float64{{1, nan, 3}, {2, 5, nan}, {4, 6, nan}, {8, nan, nan}}
	for _, name := range []string{"sum", "avg", "min", "max", "count", "stddev", "stdvar", "group", "geomean", "sum2"} {
		whole := newAggrState(nil, 3)
		a, b := newAggrState(nil, 3), newAggrState(nil, 3)
		for i, vs := range series {
			whole.update(name, vs)
			if i%2 == 0 {
				a.update(name, vs)
			} else {
				b.update(name, vs)
			}
		}
		a.merge(name, b)
		w, g := whole.finish(name).values, a.finish(name).values
		for i := range w {
			if !(w[i] == g[i] || (isNaN(w[i]) && isNaN(g[i])) || math.Abs(w[i]-g[i]) < 1e-9) {
				t.Errorf("%s: merged %v, whole %v", name, g, w)
			}
		}
	}
}
