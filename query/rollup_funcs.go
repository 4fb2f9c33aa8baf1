package query

import (
	"math"
	"slices"
)

// The rollup functions below follow MetricsQL's definitions: the previous
// sample before the window counts where it says so, and nothing is
// extrapolated. Each returns NaN for "no value".

func rollupLast(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return a.values[len(a.values)-1]
}

func rollupFirst(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return a.values[0]
}

func rollupCount(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return float64(len(a.values))
}

func rollupPresent(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return 1
}

func rollupSum(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	if s, ok := plainSum(a.values); ok {
		return s
	}
	var s, c float64
	for _, v := range a.values {
		s, c = neumaierAdd(s, c, v)
	}
	if isInf(s) {
		return s
	}
	return s + c
}

// plainSum adds vs naively and reports whether that is accurate: its
// error bound, len·ε·Σ|v|, stays below 1e-12 of the result. Otherwise
// (cancellation, overflow, infinities, NaN) callers use compensated
// summation.
func plainSum(vs []float64) (float64, bool) {
	var s, abs float64
	for _, v := range vs {
		s += v
		abs += math.Abs(v)
	}
	bound := float64(len(vs)) * 0x1p-52 * abs
	return s, !isInf(abs) && !isNaN(abs) && bound <= 1e-12*math.Abs(s)
}

func rollupSum2(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	var s float64
	for _, v := range a.values {
		s += v * v
	}
	return s
}

func rollupAvg(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return kahanAvg(a.values)
}

// kahanAvg averages vs with compensated summation, falling back to an
// overflow-free running mean when the sum overflows.
func kahanAvg(vs []float64) float64 {
	if s, ok := plainSum(vs); ok {
		return s / float64(len(vs))
	}
	var sum, c float64
	for _, v := range vs {
		if isInf(v) {
			return avgWithInf(vs)
		}
		sum, c = neumaierAdd(sum, c, v)
	}
	if !isInf(sum) {
		return (sum + c) / float64(len(vs))
	}
	var mean float64
	for i, v := range vs {
		n := float64(i + 1)
		mean += v/n - mean/n
	}
	return mean
}

// avgWithInf averages values of which some are infinite: ±Inf, or NaN
// when both signs occur.
func avgWithInf(vs []float64) float64 {
	var s float64
	for _, v := range vs {
		if isInf(v) {
			s += v
		}
	}
	return s
}

func rollupMin(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	m := a.values[0]
	for _, v := range a.values[1:] {
		if v < m {
			m = v
		}
	}
	return m
}

func rollupMax(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	m := a.values[0]
	for _, v := range a.values[1:] {
		if v > m {
			m = v
		}
	}
	return m
}

func rollupRange(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return rollupMax(a) - rollupMin(a)
}

func rollupStdvar(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return stdvar(a.values)
}

func rollupStddev(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return math.Sqrt(stdvar(a.values))
}

// stdvar is the population variance of vs (Welford's method).
func stdvar(vs []float64) float64 {
	if len(vs) == 1 {
		return 0
	}
	var mean, q, n float64
	for _, v := range vs {
		n++
		d := v - mean
		mean += d / n
		q += d * (v - mean)
	}
	return q / n
}

// rollupZscore is the z-score of the last value in the window; as in
// MetricsQL it is only given while the series is live: not when the last
// sample lags the step by more than the window's mean interval.
func rollupZscore(a *rollupArgs) float64 {
	si, lag := rollupScrapeInterval(a), rollupLag(a)
	if isNaN(si) || isNaN(lag) || lag > si {
		return nan
	}
	d := a.values[len(a.values)-1] - kahanAvg(a.values)
	if d == 0 {
		return 0
	}
	return d / math.Sqrt(stdvar(a.values))
}

func rollupMedian(a *rollupArgs) float64 { return quantileOf(0.5, a.values) }

// quantileOf returns the phi-quantile of vs, which it does not modify.
func quantileOf(phi float64, vs []float64) float64 {
	if len(vs) == 0 {
		return nan
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return quantileSorted(phi, s)
}

func rollupMAD(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	return mad(a.values)
}

// mad is the median absolute deviation of vs.
func mad(vs []float64) float64 {
	med := quantileOf(0.5, vs)
	ds := make([]float64, len(vs))
	for i, v := range vs {
		ds[i] = math.Abs(v - med)
	}
	return quantileOf(0.5, ds)
}

// rollupMode returns the most frequent value of the window, the smallest
// on ties. As in MetricsQL, the previous sample takes part: it counts as a
// value placed before the sorted window values (joining a run of equal
// leading values), and it is the answer for an empty window.
func rollupMode(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return a.prevValue
	}
	s := slices.Clone(a.values)
	slices.Sort(s)
	best, bestN := nan, 0
	i := 0
	if pv := a.prevValue; !isNaN(pv) {
		for i < len(s) && s[i] == pv {
			i++
		}
		best, bestN = pv, i+1
	}
	for i < len(s) {
		j := i + 1
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = s[i], j-i
		}
		i = j
	}
	return best
}

func rollupGeomean(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	p := 1.0
	for _, v := range a.values {
		p *= v
	}
	return math.Pow(p, 1/float64(len(a.values)))
}

func rollupDistinct(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	s := slices.Clone(a.values)
	slices.Sort(s)
	return float64(len(slices.Compact(s)))
}

// rollupDerivFast is MetricsQL's rate: the change from the previous sample
// (or the first in the window) to the last, per second.
func rollupDerivFast(a *rollupArgs) float64 {
	vs, ts := a.values, a.timestamps
	pv, pt := a.prevValue, a.prevT
	if isNaN(pv) {
		if len(vs) < 2 {
			return nan
		}
		pv, pt = vs[0], ts[0]
	} else if len(vs) == 0 {
		return 0
	}
	dt := float64(ts[len(ts)-1]-pt) / 1e3
	if dt == 0 {
		return nan
	}
	return (vs[len(vs)-1] - pv) / dt
}

// rollupIderiv is irate: the per-second change between the last two samples.
func rollupIderiv(a *rollupArgs) float64 {
	vs, ts := a.values, a.timestamps
	if len(vs) < 2 {
		if len(vs) == 0 || isNaN(a.prevValue) {
			return nan
		}
		return (vs[0] - a.prevValue) / (float64(ts[0]-a.prevT) / 1e3)
	}
	vEnd, tEnd := vs[len(vs)-1], ts[len(ts)-1]
	vs, ts = vs[:len(vs)-1], ts[:len(ts)-1]
	for len(ts) > 0 && ts[len(ts)-1] >= tEnd {
		vs, ts = vs[:len(vs)-1], ts[:len(ts)-1]
	}
	var vStart float64
	var tStart int64
	if len(ts) == 0 {
		if isNaN(a.prevValue) {
			return 0
		}
		vStart, tStart = a.prevValue, a.prevT
	} else {
		vStart, tStart = vs[len(vs)-1], ts[len(ts)-1]
	}
	return (vEnd - vStart) / (float64(tEnd-tStart) / 1e3)
}

// rollupDelta is MetricsQL's delta and increase: last minus the previous
// sample, with its heuristics for series that start inside the window.
func rollupDelta(a *rollupArgs) float64 {
	vs := a.values
	pv := a.prevValue
	if isNaN(pv) {
		if len(vs) == 0 {
			return nan
		}
		if !isNaN(a.realPrev) {
			return vs[len(vs)-1] - a.realPrev
		}
		var d float64
		if len(vs) > 1 {
			d = vs[1] - vs[0]
		} else if !isNaN(a.realNext) {
			d = a.realNext - vs[0]
		}
		if math.Abs(vs[0]) < 10*(math.Abs(d)+1) {
			pv = 0
		} else {
			pv = vs[0]
			vs = vs[1:]
		}
	}
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)-1] - pv
}

// rollupIncreasePure assumes a counter without a previous sample in reach
// started at zero, or kept the value of the last sample before a gap.
func rollupIncreasePure(a *rollupArgs) float64 {
	pv := a.prevValue
	if isNaN(pv) {
		if len(a.values) == 0 {
			return nan
		}
		pv = 0
		if !isNaN(a.realPrev) {
			pv = a.realPrev
		}
	}
	if len(a.values) == 0 {
		return 0
	}
	return a.values[len(a.values)-1] - pv
}

func rollupIdelta(a *rollupArgs) float64 {
	vs := a.values
	if len(vs) == 0 {
		if isNaN(a.prevValue) {
			return nan
		}
		return 0
	}
	last := vs[len(vs)-1]
	if len(vs) == 1 {
		if isNaN(a.prevValue) {
			return last
		}
		return last - a.prevValue
	}
	return last - vs[len(vs)-2]
}

func rollupDeltaPrometheus(a *rollupArgs) float64 {
	if len(a.values) < 2 {
		return nan
	}
	return a.values[len(a.values)-1] - a.values[0]
}

func rollupRatePrometheus(a *rollupArgs) float64 {
	d := rollupDeltaPrometheus(a)
	if isNaN(d) || a.window <= 0 {
		return nan
	}
	return d / (float64(a.window) / 1e3)
}

// linearRegression fits v = intercept + k*(t-at) by least squares over the
// window, t in seconds.
func linearRegression(vs []float64, ts []int64, at int64) (intercept, k float64) {
	if len(vs) == 0 {
		return nan, nan
	}
	if allEqual(vs) {
		return vs[0], 0
	}
	var vSum, tSum, tvSum, ttSum float64
	n := float64(len(vs))
	for i, v := range vs {
		dt := float64(ts[i]-at) / 1e3
		vSum += v
		tSum += dt
		tvSum += dt * v
		ttSum += dt * dt
	}
	if d := ttSum - tSum*tSum/n; math.Abs(d) >= 1e-6 {
		k = (tvSum - tSum*vSum/n) / d
	}
	return vSum/n - k*tSum/n, k
}

func allEqual(vs []float64) bool {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return false
		}
	}
	return true
}

func rollupDerivSlow(a *rollupArgs) float64 {
	_, k := linearRegression(a.values, a.timestamps, a.currT)
	return k
}

func mkPredictLinear(p rollupParams) (rollupFunc, error) {
	if len(p.nums) != 1 {
		return nil, ErrBadArgument
	}
	secs := p.nums[0]
	return func(a *rollupArgs) float64 {
		v, k := linearRegression(a.values, a.timestamps, a.currT)
		if isNaN(v) {
			return nan
		}
		return v + k*secs[a.idx]
	}, nil
}

func rollupChanges(a *rollupArgs) float64 {
	vs := a.values
	pv := a.prevValue
	n := 0
	if isNaN(pv) {
		if len(vs) == 0 {
			return nan
		}
		pv = vs[0]
		vs = vs[1:]
		n++
	}
	for _, v := range vs {
		if v != pv {
			n++
			pv = v
		}
	}
	return float64(n)
}

func rollupChangesPrometheus(a *rollupArgs) float64 {
	vs := a.values
	if len(vs) == 0 {
		return nan
	}
	n := 0
	for i := 1; i < len(vs); i++ {
		if vs[i] != vs[i-1] {
			n++
		}
	}
	return float64(n)
}

func rollupResets(a *rollupArgs) float64 {
	vs := a.values
	if len(vs) == 0 {
		if isNaN(a.prevValue) {
			return nan
		}
		return 0
	}
	pv := a.prevValue
	if isNaN(pv) {
		pv = vs[0]
		vs = vs[1:]
	}
	n := 0
	for _, v := range vs {
		if v < pv {
			n++
		}
		pv = v
	}
	return float64(n)
}
