package query

import (
	"math"
	"slices"
)

// MetricsQL's outlier aggregations, which return whole input series, and
// histogram, which buckets a group's values per step.

// columnMedians returns the median of the group's values at every step,
// NaN where it has none.
func columnMedians(g *aggrGroup, points int) []float64 {
	meds := make([]float64, points)
	var buf []float64
	for i := range meds {
		buf = g.column(i, buf)
		meds[i] = nan
		if len(buf) > 0 {
			slices.Sort(buf)
			meds[i] = quantileSorted(0.5, buf)
		}
	}
	return meds
}

// aggrOutliersK keeps, at each step, the k series farthest from the
// group's per-step median over the whole range (the sum of squared
// distances). Steps where a series or the median is missing are left out
// of its sum; VictoriaMetrics lets them make the sum NaN, which ranks the
// series last.
func aggrOutliersK(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
	if len(params) != 1 {
		return nil, errorf(ErrBadArgument, "k must be a number")
	}
	ks := params[0]
	if err := checkK(ks); err != nil {
		return nil, err
	}
	meds := columnMedians(g, ec.points())
	type scored struct {
		ts    *timeseries
		score float64
	}
	ss := make([]scored, 0, len(g.series))
	for _, ts := range g.series {
		s, n := 0.0, 0
		for i, v := range ts.values {
			if d := v - meds[i]; !isNaN(d) {
				s += d * d
				n++
			}
		}
		if n == 0 {
			s = nan
		}
		ss = append(ss, scored{ts, s})
	}
	// Farthest first; series without a score last.
	slices.SortStableFunc(ss, func(a, b scored) int {
		switch {
		case isNaN(a.score) || isNaN(b.score):
			return cmpBool(isNaN(a.score), isNaN(b.score))
		}
		return -cmpFloat(a.score, b.score)
	})
	out := make([]*timeseries, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.ts)
	}
	for i, k := range ks {
		kn := int(max(0, min(k, float64(len(out)))))
		for _, ts := range out[kn:] {
			ts.values[i] = nan
		}
	}
	return removeEmpty(out), nil
}

// aggrOutliersMAD keeps the series that at some step lie farther from the
// group's median than tolerance times the median absolute deviation.
func aggrOutliersMAD(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
	if len(params) != 1 {
		return nil, errorf(ErrBadArgument, "tolerance must be a number")
	}
	tol := params[0]
	meds := columnMedians(g, ec.points())
	mads := make([]float64, len(meds))
	var buf []float64
	for i, m := range meds {
		buf = g.column(i, buf)
		for j, v := range buf {
			buf[j] = math.Abs(v - m)
		}
		mads[i] = nan
		if len(buf) > 0 {
			slices.Sort(buf)
			mads[i] = quantileSorted(0.5, buf) * tol[i]
		}
	}
	return keepSeriesIf(g, func(i int, v float64) bool { return math.Abs(v-meds[i]) > mads[i] }), nil
}

// aggrOutliersIQR keeps the series that at some step lie outside the
// group's [q1 - 1.5·IQR, q3 + 1.5·IQR].
func aggrOutliersIQR(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	lo, hi := make([]float64, ec.points()), make([]float64, ec.points())
	var buf []float64
	for i := range lo {
		buf = g.column(i, buf)
		lo[i], hi[i] = iqrBounds(buf)
	}
	return keepSeriesIf(g, func(i int, v float64) bool { return v < lo[i] || v > hi[i] }), nil
}

// iqrBounds sorts vs and returns the outlier bounds q1 - 1.5·IQR and
// q3 + 1.5·IQR; NaN for no values.
func iqrBounds(vs []float64) (lo, hi float64) {
	if len(vs) == 0 {
		return nan, nan
	}
	slices.Sort(vs)
	q1, q3 := quantileSorted(0.25, vs), quantileSorted(0.75, vs)
	iqr := 1.5 * (q3 - q1)
	return q1 - iqr, q3 + iqr
}

// keepSeriesIf returns the group's series for which out holds at some
// step with a value.
func keepSeriesIf(g *aggrGroup, out func(i int, v float64) bool) []*timeseries {
	var res []*timeseries
	for _, ts := range g.series {
		for i, v := range ts.values {
			if !isNaN(v) && out(i, v) {
				res = append(res, ts)
				break
			}
		}
	}
	return res
}

// aggrHistogram buckets the group's values at each step into
// VictoriaMetrics' vmrange buckets and returns them as cumulative le
// buckets with the group's labels (MetricsQL's histogram()).
func aggrHistogram(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	var h vmrHist
	byName := map[string]*timeseries{}
	var order []string
	for i := range ec.points() {
		h.reset()
		for _, ts := range g.series {
			h.add(ts.values[i])
		}
		histogramSeries(g.labels, ec.points(), &h, byName, &order, i)
	}
	if err := ev.hold(len(order), ec.points()); err != nil {
		return nil, err
	}
	tss := make([]*timeseries, 0, len(order))
	for _, name := range order {
		tss = append(tss, byName[name])
	}
	return vmrangeToLE(tss), nil
}
