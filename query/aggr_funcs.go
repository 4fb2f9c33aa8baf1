package query

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"outpost/tsdb"
)

// The aggregations that need every series of a group at once.

// column returns the non-NaN values of the group at step i.
func (g *aggrGroup) column(i int, buf []float64) []float64 {
	buf = buf[:0]
	for _, ts := range g.series {
		if v := ts.values[i]; !isNaN(v) {
			buf = append(buf, v)
		}
	}
	return buf
}

// perStep builds one series with the group's labels from f over each
// step's values; f is not called for empty steps.
func perStep(ev *evaluator, ec *evalConfig, g *aggrGroup, f func(i int, vs []float64) float64) ([]*timeseries, error) {
	out, err := ev.newSeries(ec)
	if err != nil {
		return nil, err
	}
	out.labels = g.labels
	var buf []float64
	for i := range out.values {
		buf = g.column(i, buf)
		if len(buf) > 0 {
			out.values[i] = f(i, buf)
		}
	}
	return []*timeseries{out}, nil
}

func aggrAny(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	for _, ts := range g.series {
		if !ts.isEmpty() {
			return []*timeseries{{labels: ts.labels, values: ts.values}}, nil
		}
	}
	return nil, nil
}

func aggrQuantileFixed(phi float64) aggrFunc {
	return func(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
		return perStep(ev, ec, g, func(_ int, vs []float64) float64 { return quantileOf(phi, vs) })
	}
}

func aggrQuantile(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
	if len(params) != 1 {
		return nil, errorf(ErrBadArgument, "quantile needs a number phi")
	}
	return perStep(ev, ec, g, func(i int, vs []float64) float64 { return quantileOf(params[0][i], vs) })
}

func aggrQuantiles(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, str string) ([]*timeseries, error) {
	if str == "" || len(params) == 0 {
		return nil, errorf(ErrBadArgument, "quantiles needs a label name and phis")
	}
	var out []*timeseries
	for _, phis := range params {
		res, err := perStep(ev, ec, g, func(i int, vs []float64) float64 { return quantileOf(phis[i], vs) })
		if err != nil {
			return nil, err
		}
		res[0].labels = setLabel(g.labels, str, FormatValue(phis[0]))
		out = append(out, res...)
	}
	return out, nil
}

func aggrMAD(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	return perStep(ev, ec, g, func(_ int, vs []float64) float64 { return mad(vs) })
}

func aggrMode(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	return perStep(ev, ec, g, func(_ int, vs []float64) float64 { return rollupMode(&rollupArgs{values: vs, prevValue: nan}) })
}

func aggrDistinct(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	return perStep(ev, ec, g, func(_ int, vs []float64) float64 { return rollupDistinct(&rollupArgs{values: vs}) })
}

// aggrShare returns each series' share of the group's sum per step.
func aggrShare(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	sums := make([]float64, ec.points())
	for _, ts := range g.series {
		for i, v := range ts.values {
			if !isNaN(v) && v > 0 {
				sums[i] += v
			}
		}
	}
	for _, ts := range g.series {
		for i, v := range ts.values {
			if !isNaN(v) {
				ts.values[i] = v / sums[i]
			}
		}
	}
	return g.series, nil
}

// aggrZscore replaces each value by its z-score within the group.
func aggrZscore(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, _ string) ([]*timeseries, error) {
	var buf []float64
	for i := 0; i < ec.points(); i++ {
		buf = g.column(i, buf)
		if len(buf) == 0 {
			continue
		}
		avg, sd := kahanAvg(buf), math.Sqrt(stdvar(buf))
		for _, ts := range g.series {
			if v := ts.values[i]; !isNaN(v) {
				ts.values[i] = (v - avg) / sd
			}
		}
	}
	for _, ts := range g.series {
		ts.labels = dropName(ts.labels)
	}
	return g.series, nil
}

func aggrCountValues(ev *evaluator, ec *evalConfig, g *aggrGroup, _ [][]float64, label string) ([]*timeseries, error) {
	if label == "" || !utf8.ValidString(label) {
		return nil, errorf(ErrBadArgument, "invalid label name %q", label)
	}
	byValue := map[string]*timeseries{}
	var order []string
	for _, ts := range g.series {
		for i, v := range ts.values {
			if isNaN(v) {
				continue
			}
			s := strconv.FormatFloat(v, 'f', -1, 64)
			out := byValue[s]
			if out == nil {
				var err error
				if out, err = ev.newSeries(ec); err != nil {
					return nil, err
				}
				out.labels = setLabel(g.labels, label, s)
				byValue[s] = out
				order = append(order, s)
			}
			if isNaN(out.values[i]) {
				out.values[i] = 0
			}
			out.values[i]++
		}
	}
	res := make([]*timeseries, len(order))
	for i, s := range order {
		res[i] = byValue[s]
	}
	return res, nil
}

// aggrTopK keeps, per step, the k largest (bottom: smallest) values of
// the group; the other series get no value there. Each step keeps a
// sorted list of at most k candidates, so a step costs O(n·k) for small
// k instead of a full sort.
func aggrTopK(bottom bool) aggrFunc {
	return func(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
		if len(params) != 1 {
			return nil, errorf(ErrBadArgument, "k must be a number")
		}
		ks := params[0]
		if err := checkK(ks); err != nil {
			return nil, err
		}
		better := func(a, b float64) bool {
			if bottom {
				return a < b
			}
			return a > b
		}
		keep := make([]bool, len(g.series))
		var top []int
		for i := 0; i < ec.points(); i++ {
			k := int(max(0, min(ks[i], float64(len(g.series)))))
			top = top[:0]
			for j, ts := range g.series {
				v := ts.values[i]
				if isNaN(v) || k == 0 {
					continue
				}
				if len(top) == k && !better(v, g.series[top[k-1]].values[i]) {
					continue
				}
				pos := len(top)
				for pos > 0 && better(v, g.series[top[pos-1]].values[i]) {
					pos--
				}
				if len(top) < k {
					top = append(top, 0)
				}
				copy(top[pos+1:], top[pos:len(top)-1])
				top[pos] = j
			}
			clear(keep)
			for _, j := range top {
				keep[j] = true
			}
			for j, ts := range g.series {
				if !keep[j] {
					ts.values[i] = nan
				}
			}
		}
		out := removeEmpty(slices.Clone(g.series))
		if ec.points() == 1 {
			slices.SortStableFunc(out, func(a, b *timeseries) int {
				va, vb := a.values[0], b.values[0]
				if bottom {
					va, vb = vb, va
				}
				return -cmpFloat(va, vb)
			})
		}
		return out, nil
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func checkK(ks []float64) error {
	for _, k := range ks {
		if isNaN(k) {
			return errorf(ErrBadArgument, "Parameter value is NaN")
		}
	}
	return nil
}

// aggrLimitK keeps the first k series of the group in label order.
func aggrLimitK(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
	if len(params) != 1 {
		return nil, errorf(ErrBadArgument, "k must be a number")
	}
	if err := checkK(params[0]); err != nil {
		return nil, err
	}
	k := int(max(0, params[0][len(params[0])-1]))
	s := slices.Clone(g.series)
	slices.SortFunc(s, func(a, b *timeseries) int { return tsdb.Compare(a.labels, b.labels) })
	if k < len(s) {
		s = s[:k]
	}
	return s, nil
}

// aggrTopKBy keeps the k series whose statistic over the whole range is
// largest (bottom: smallest).
func aggrTopKBy(stat rollupFunc, bottom bool) aggrFunc {
	return func(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, _ string) ([]*timeseries, error) {
		if len(params) != 1 {
			return nil, errorf(ErrBadArgument, "k must be a number")
		}
		k := int(max(0, params[0][0]))
		type scored struct {
			ts *timeseries
			v  float64
		}
		var ss []scored
		for _, ts := range g.series {
			var vs []float64
			for _, v := range ts.values {
				if !isNaN(v) {
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				ss = append(ss, scored{ts, stat(&rollupArgs{values: vs})})
			}
		}
		slices.SortStableFunc(ss, func(a, b scored) int {
			if bottom {
				return cmpFloat(a.v, b.v)
			}
			return -cmpFloat(a.v, b.v)
		})
		out := make([]*timeseries, 0, k)
		for i := 0; i < len(ss) && i < k; i++ {
			out = append(out, ss[i].ts)
		}
		return out, nil
	}
}
