package query

import (
	"math"
)

// MetricsQL's additional rollups: counts, times, comparisons and the
// multi-output rollup() family.

func rollupIncreases(a *rollupArgs) float64 {
	return countMoves(a, func(d float64) bool { return d > 0 })
}

func rollupDecreases(a *rollupArgs) float64 {
	return countMoves(a, func(d float64) bool { return d < 0 })
}

func countMoves(a *rollupArgs, ok func(d float64) bool) float64 {
	vs := a.values
	if len(vs) == 0 {
		if isNaN(a.prevValue) {
			return nan
		}
		return 0
	}
	pv := a.prevValue
	if isNaN(pv) {
		pv, vs = vs[0], vs[1:]
	}
	n := 0
	for _, v := range vs {
		if ok(v - pv) {
			n++
		}
		pv = v
	}
	return float64(n)
}

func rollupAscent(a *rollupArgs) float64 { return sumMoves(a, 1) }

func rollupDescent(a *rollupArgs) float64 { return sumMoves(a, -1) }

func sumMoves(a *rollupArgs, sign float64) float64 {
	vs := a.values
	pv := a.prevValue
	if isNaN(pv) {
		if len(vs) == 0 {
			return nan
		}
		pv, vs = vs[0], vs[1:]
	}
	var s float64
	for _, v := range vs {
		if d := (v - pv) * sign; d > 0 {
			s += d
		}
		pv = v
	}
	return s
}

// rollupIntegrate integrates the samples over the window by steps: each
// value holds until the next sample. The previous sample's value counts
// from the window start (as VictoriaMetrics 1.79.5 computes it).
func rollupIntegrate(a *rollupArgs) float64 {
	vs, ts := a.values, a.timestamps
	pv, pt := a.prevValue, max(a.prevT, a.currT-a.window)
	if isNaN(pv) {
		if len(vs) == 0 {
			return nan
		}
		pv, pt = vs[0], ts[0]
		vs, ts = vs[1:], ts[1:]
	}
	var s float64
	for i, v := range vs {
		s += pv * float64(ts[i]-pt) / 1e3
		pv, pt = v, ts[i]
	}
	return s + pv*float64(a.currT-pt)/1e3
}

func rollupLag(a *rollupArgs) float64 {
	if len(a.timestamps) == 0 {
		if isNaN(a.prevValue) {
			return nan
		}
		return float64(a.currT-a.prevT) / 1e3
	}
	return float64(a.currT-a.timestamps[len(a.timestamps)-1]) / 1e3
}

func rollupLifetime(a *rollupArgs) float64 {
	ts := a.timestamps
	if isNaN(a.prevValue) {
		if len(ts) < 2 {
			return nan
		}
		return float64(ts[len(ts)-1]-ts[0]) / 1e3
	}
	if len(ts) == 0 {
		return nan
	}
	return float64(ts[len(ts)-1]-a.prevT) / 1e3
}

func rollupScrapeInterval(a *rollupArgs) float64 {
	ts := a.timestamps
	if isNaN(a.prevValue) {
		if len(ts) < 2 {
			return nan
		}
		return float64(ts[len(ts)-1]-ts[0]) / 1e3 / float64(len(ts)-1)
	}
	if len(ts) == 0 {
		return nan
	}
	return float64(ts[len(ts)-1]-a.prevT) / 1e3 / float64(len(ts))
}

func rollupTlast(a *rollupArgs) float64 {
	if len(a.timestamps) == 0 {
		return nan
	}
	return float64(a.timestamps[len(a.timestamps)-1]) / 1e3
}

func rollupTfirst(a *rollupArgs) float64 {
	if len(a.timestamps) == 0 {
		return nan
	}
	return float64(a.timestamps[0]) / 1e3
}

// rollupTmin returns the time of the minimum, the last one on ties (as
// MetricsQL does); rollupTmax likewise.
func rollupTmin(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	m, t := a.values[0], a.timestamps[0]
	for i, v := range a.values {
		if v <= m {
			m, t = v, a.timestamps[i]
		}
	}
	return float64(t) / 1e3
}

func rollupTmax(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	m, t := a.values[0], a.timestamps[0]
	for i, v := range a.values {
		if v >= m {
			m, t = v, a.timestamps[i]
		}
	}
	return float64(t) / 1e3
}

func rollupTlastChange(a *rollupArgs) float64 {
	vs, ts := a.values, a.timestamps
	if len(vs) == 0 {
		return nan
	}
	last := vs[len(vs)-1]
	for i := len(vs) - 2; i >= 0; i-- {
		if vs[i] != last {
			return float64(ts[i+1]) / 1e3
		}
	}
	if !isNaN(a.prevValue) && a.prevValue == last {
		return nan
	}
	return float64(ts[0]) / 1e3
}

func rollupStaleSamples(a *rollupArgs) float64 {
	if len(a.values) == 0 {
		return nan
	}
	n := 0
	for _, v := range a.values {
		if isStaleNaN(v) {
			n++
		}
	}
	return float64(n)
}

func rollupRateOverSum(a *rollupArgs) float64 {
	if len(a.values) == 0 || a.window <= 0 {
		return nan
	}
	return rollupSum(a) / (float64(a.window) / 1e3)
}

func mkQuantileOverTime(p rollupParams) (rollupFunc, error) {
	if len(p.nums) != 1 {
		return nil, errorf(ErrBadArgument, "quantile_over_time needs a number phi")
	}
	phis := p.nums[0]
	return func(a *rollupArgs) float64 { return quantileOf(phis[a.idx], a.values) }, nil
}

func multiQuantilesOverTime(p rollupParams) ([]rollupOutput, error) {
	if len(p.strs) != 1 || len(p.nums) == 0 {
		return nil, errorf(ErrBadArgument, "quantiles_over_time needs a label name and phis")
	}
	outs := make([]rollupOutput, len(p.nums))
	for i, phis := range p.nums {
		outs[i] = rollupOutput{label: p.strs[0], value: FormatValue(phis[0]), f: func(a *rollupArgs) float64 {
			return quantileOf(phis[a.idx], a.values)
		}}
	}
	return outs, nil
}

func mkHoltWinters(p rollupParams) (rollupFunc, error) {
	if len(p.nums) != 2 {
		return nil, errorf(ErrBadArgument, "holt_winters needs sf and tf")
	}
	sfs, tfs := p.nums[0], p.nums[1]
	return func(a *rollupArgs) float64 {
		vs := a.values
		if len(vs) == 0 {
			return a.prevValue
		}
		sf, tf := sfs[a.idx], tfs[a.idx]
		if sf < 0 || sf > 1 || tf < 0 || tf > 1 {
			return nan
		}
		s0 := a.prevValue
		if isNaN(s0) {
			s0, vs = vs[0], vs[1:]
			if len(vs) == 0 {
				return s0
			}
		}
		b0 := vs[0] - s0
		for _, v := range vs {
			s1 := sf*v + (1-sf)*(s0+b0)
			b0 = tf*(s1-s0) + (1-tf)*b0
			s0 = s1
		}
		return s0
	}, nil
}

func mkHoeffding(sign float64) func(p rollupParams) (rollupFunc, error) {
	return func(p rollupParams) (rollupFunc, error) {
		if len(p.nums) != 1 {
			return nil, errorf(ErrBadArgument, "hoeffding bound needs phi")
		}
		phis := p.nums[0]
		return func(a *rollupArgs) float64 {
			n := len(a.values)
			if n == 0 {
				return nan
			}
			if n == 1 {
				return a.values[0]
			}
			avg := kahanAvg(a.values)
			r := rollupMax(a) - rollupMin(a)
			phi := phis[a.idx]
			if r <= 0 || phi <= 0 {
				return avg
			}
			if phi >= 1 {
				return avg + sign*math.Inf(1)
			}
			return avg + sign*r*math.Sqrt(math.Log(1/(1-phi))/(2*float64(n)))
		}, nil
	}
}

func mkDurationOverTime(p rollupParams) (rollupFunc, error) {
	if len(p.nums) != 1 {
		return nil, errorf(ErrBadArgument, "duration_over_time needs max_interval")
	}
	maxs := p.nums[0]
	return func(a *rollupArgs) float64 {
		ts := a.timestamps
		if len(ts) == 0 {
			return nan
		}
		maxI := int64(maxs[a.idx] * 1000)
		var d int64
		for i := 1; i < len(ts); i++ {
			if dt := ts[i] - ts[i-1]; dt <= maxI {
				d += dt
			}
		}
		return float64(d) / 1e3
	}, nil
}

func mkCountCmp(cmp func(v, x float64) bool, share bool) func(p rollupParams) (rollupFunc, error) {
	return func(p rollupParams) (rollupFunc, error) {
		if len(p.nums) != 1 {
			return nil, errorf(ErrBadArgument, "needs a threshold")
		}
		xs := p.nums[0]
		return func(a *rollupArgs) float64 {
			if len(a.values) == 0 {
				return nan
			}
			n := 0
			for _, v := range a.values {
				if cmp(v, xs[a.idx]) {
					n++
				}
			}
			if share {
				return float64(n) / float64(len(a.values))
			}
			return float64(n)
		}, nil
	}
}

func mkSumCmp(cmp func(v, x float64) bool) func(p rollupParams) (rollupFunc, error) {
	return func(p rollupParams) (rollupFunc, error) {
		if len(p.nums) != 1 {
			return nil, errorf(ErrBadArgument, "needs a threshold")
		}
		xs := p.nums[0]
		return func(a *rollupArgs) float64 {
			if len(a.values) == 0 {
				return nan
			}
			var s float64
			for _, v := range a.values {
				if cmp(v, xs[a.idx]) {
					s += v
				}
			}
			return s
		}, nil
	}
}

// multiRollup builds rollup() and the rollup_<x>() family (whose values
// the cursor has already turned into deltas, rates or intervals, see
// preKind): outputs min, max and avg, or the one its string argument names.
func multiRollup(p rollupParams) ([]rollupOutput, error) {
	all := []rollupOutput{
		{label: "rollup", value: "min", f: rollupMin},
		{label: "rollup", value: "max", f: rollupMax},
		{label: "rollup", value: "avg", f: rollupAvg},
	}
	return pickOutput(all, p)
}

// pickOutput keeps the output named by the optional string argument.
func pickOutput(all []rollupOutput, p rollupParams) ([]rollupOutput, error) {
	if len(p.nums) > 0 {
		return nil, errorf(ErrBadArgument, "the optional argument must be a string")
	}
	if len(p.strs) == 0 {
		return all, nil
	}
	for _, o := range all {
		if o.value == p.strs[0] {
			return []rollupOutput{o}, nil
		}
	}
	return nil, errorf(ErrBadArgument, "unknown rollup output %q", p.strs[0])
}

// multiCandlestick builds rollup_candlestick as MetricsQL defines it: the
// window's samples before the step time, plus the previous sample when it
// lies exactly at the window's start.
func multiCandlestick(p rollupParams) ([]rollupOutput, error) {
	all := []rollupOutput{
		{label: "rollup", value: "open", f: func(a *rollupArgs) float64 {
			if first := candleFirst(a); !isNaN(first) {
				return first
			}
			if vs := candleValues(a); len(vs) > 0 {
				return vs[0]
			}
			return nan
		}},
		{label: "rollup", value: "close", f: func(a *rollupArgs) float64 {
			if vs := candleValues(a); len(vs) > 0 {
				return vs[len(vs)-1]
			}
			return candleFirst(a)
		}},
		{label: "rollup", value: "low", f: func(a *rollupArgs) float64 { return candleExtreme(a, -1) }},
		{label: "rollup", value: "high", f: func(a *rollupArgs) float64 { return candleExtreme(a, 1) }},
	}
	return pickOutput(all, p)
}

// candleValues returns the window's values with timestamps before the
// step time.
func candleValues(a *rollupArgs) []float64 {
	n := len(a.timestamps)
	for n > 0 && a.timestamps[n-1] >= a.currT {
		n--
	}
	return a.values[:n]
}

// candleFirst returns the previous sample if it lies at the window start.
func candleFirst(a *rollupArgs) float64 {
	if a.prevT+a.window >= a.currT {
		return a.prevValue
	}
	return nan
}

// candleExtreme returns the maximum (sign 1) or minimum (sign -1) of the
// candle's values.
func candleExtreme(a *rollupArgs, sign float64) float64 {
	m := candleFirst(a)
	for _, v := range candleValues(a) {
		if isNaN(m) || (v-m)*sign > 0 {
			m = v
		}
	}
	return m
}
