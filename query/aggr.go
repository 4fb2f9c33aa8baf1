package query

import (
	"math"
	"slices"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// aggrSpec describes one aggregation. Incremental ones (inc set) fold
// series into per-group state as they are computed; the rest (fn) see all
// series of a group at once.
type aggrSpec struct {
	minArgs, maxArgs int
	inc              bool
	fn               aggrFunc
}

// aggrFunc computes one aggregation over the series of one group; params
// are the per-step values of leading numeric arguments, str the leading
// string argument.
type aggrFunc func(ev *evaluator, ec *evalConfig, g *aggrGroup, params [][]float64, str string) ([]*timeseries, error)

// aggrGroup is the series of one output group and the group's labels.
type aggrGroup struct {
	labels tsdb.Labels
	series []*timeseries
}

// aggrSpecs lists the aggregations outpost implements (a lookup table).
var aggrSpecs = map[string]*aggrSpec{
	"sum":            {minArgs: 1, maxArgs: -1, inc: true},
	"min":            {minArgs: 1, maxArgs: -1, inc: true},
	"max":            {minArgs: 1, maxArgs: -1, inc: true},
	"avg":            {minArgs: 1, maxArgs: -1, inc: true},
	"count":          {minArgs: 1, maxArgs: -1, inc: true},
	"group":          {minArgs: 1, maxArgs: -1, inc: true},
	"stddev":         {minArgs: 1, maxArgs: -1, inc: true},
	"stdvar":         {minArgs: 1, maxArgs: -1, inc: true},
	"sum2":           {minArgs: 1, maxArgs: -1, inc: true},
	"geomean":        {minArgs: 1, maxArgs: -1, inc: true},
	"any":            {minArgs: 1, maxArgs: -1, fn: aggrAny},
	"median":         {minArgs: 1, maxArgs: -1, fn: aggrQuantileFixed(0.5)},
	"quantile":       {minArgs: 2, maxArgs: 2, fn: aggrQuantile},
	"quantiles":      {minArgs: 3, maxArgs: -1, fn: aggrQuantiles},
	"mad":            {minArgs: 1, maxArgs: -1, fn: aggrMAD},
	"mode":           {minArgs: 1, maxArgs: -1, fn: aggrMode},
	"distinct":       {minArgs: 1, maxArgs: -1, fn: aggrDistinct},
	"zscore":         {minArgs: 1, maxArgs: -1, fn: aggrZscore},
	"share":          {minArgs: 1, maxArgs: -1, fn: aggrShare},
	"count_values":   {minArgs: 2, maxArgs: 2, fn: aggrCountValues},
	"topk":           {minArgs: 2, maxArgs: 2, fn: aggrTopK(false)},
	"bottomk":        {minArgs: 2, maxArgs: 2, fn: aggrTopK(true)},
	"limitk":         {minArgs: 2, maxArgs: 2, fn: aggrLimitK},
	"topk_min":       {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMin, false)},
	"topk_max":       {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMax, false)},
	"topk_avg":       {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupAvg, false)},
	"topk_median":    {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMedian, false)},
	"topk_last":      {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupLast, false)},
	"bottomk_min":    {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMin, true)},
	"bottomk_max":    {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMax, true)},
	"bottomk_avg":    {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupAvg, true)},
	"bottomk_median": {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupMedian, true)},
	"bottomk_last":   {minArgs: 2, maxArgs: 3, fn: aggrTopKBy(rollupLast, true)},
	"outliersk":      {minArgs: 2, maxArgs: 2, fn: aggrOutliersK},
	"outliers_mad":   {minArgs: 2, maxArgs: 2, fn: aggrOutliersMAD},
	"outliers_iqr":   {minArgs: 1, maxArgs: 1, fn: aggrOutliersIQR},
	"histogram":      {minArgs: 1, maxArgs: -1, fn: aggrHistogram},
}

// evalAggr evaluates an aggregation. When its argument is a selector or a
// rollup over one, series are folded into the groups as the workers
// compute them, so no input series is held whole.
func (ev *evaluator) evalAggr(ec *evalConfig, ae *metricsql.AggrFuncExpr) ([]*timeseries, error) {
	name := lower(ae.Name)
	spec := aggrSpecs[name]
	if spec.inc {
		if tss, ok, err := ev.aggrStreaming(ec, name, ae); ok || err != nil {
			return limitGroups(tss, ae.Limit), err
		}
	}
	var params [][]float64
	var str string
	args := ae.Args
	if !spec.inc {
		n := leadingParams(name, len(args))
		for _, a := range args[:n] {
			if se, ok := a.(*metricsql.StringExpr); ok {
				str = se.S
				continue
			}
			vs, err := ev.evalScalarArg(ec, a, "parameter of "+name)
			if err != nil {
				return nil, err
			}
			if name == "topk" || name == "bottomk" || name == "limitk" || name == "outliersk" {
				if err := checkK(vs); err != nil {
					return nil, err
				}
			}
			params = append(params, vs)
		}
		args = args[n:]
	}
	var in []*timeseries
	for _, a := range args {
		tss, err := ev.eval(ec, a)
		if err != nil {
			return nil, err
		}
		in = append(in, tss...)
	}
	groups := groupSeries(in, ae.Modifier)
	var out []*timeseries
	for _, g := range groups {
		if err := ev.ctx.Err(); err != nil {
			return nil, err
		}
		var res []*timeseries
		var err error
		if spec.inc {
			if err := ev.holdBytes(2, ec.points()); err != nil { // the state's two arrays
				return nil, err
			}
			st := newAggrState(g.labels, ec.points())
			for _, ts := range g.series {
				st.update(name, ts.values)
			}
			res = []*timeseries{st.finish(name)}
		} else {
			res, err = spec.fn(ev, ec, g, params, str)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, res...)
	}
	return limitGroups(out, ae.Limit), nil
}

// leadingParams returns how many leading arguments of aggregation name
// are parameters rather than series.
func leadingParams(name string, nargs int) int {
	switch name {
	case "quantile", "count_values", "topk", "bottomk", "limitk", "outliersk", "outliers_mad":
		return 1
	case "quantiles":
		return nargs - 1
	}
	if len(name) > 5 && (name[:5] == "topk_" || (len(name) > 8 && name[:8] == "bottomk_")) {
		return 1
	}
	return 0
}

// limitGroups applies an aggregation's `limit N` suffix.
func limitGroups(tss []*timeseries, limit int) []*timeseries {
	if limit <= 0 || len(tss) <= limit {
		return tss
	}
	sortByLabels(tss)
	return tss[:limit]
}

// groupSeries splits tss into groups by the by/without modifier, in order
// of first appearance.
func groupSeries(tss []*timeseries, mod metricsql.ModifierExpr) []*aggrGroup {
	idx := make(map[string]*aggrGroup)
	var groups []*aggrGroup
	var key []byte
	for _, ts := range tss {
		ls := groupingLabels(ts.labels, mod)
		key = appendLabelsKey(key[:0], ls)
		g := idx[string(key)]
		if g == nil {
			g = &aggrGroup{labels: ls}
			idx[string(key)] = g
			groups = append(groups, g)
		}
		g.series = append(g.series, ts)
	}
	return groups
}

// groupingLabels returns the labels of the group ls belongs to.
func groupingLabels(ls tsdb.Labels, mod metricsql.ModifierExpr) tsdb.Labels {
	switch lower(mod.Op) {
	case "by":
		return labelsOnly(ls, mod.Args)
	case "without":
		return labelsWithout(ls, append(slices.Clone(mod.Args), tsdb.MetricName)...)
	}
	return tsdb.Labels{}
}

// aggrState accumulates one group of an incremental aggregation.
type aggrState struct {
	labels tsdb.Labels
	v      []float64 // sum, min, max, mean or product per step
	n      []float64 // samples per step
	m2     []float64 // sum of squared deviations (stddev, stdvar)
	c      []float64 // Neumaier compensation of the sum (sum, avg)
	mean   []float64 // overflow-free running mean of finite values (avg)
	inf    []float64 // sum of infinite values (sum, avg)
}

func newAggrState(ls tsdb.Labels, points int) *aggrState {
	return &aggrState{labels: ls, v: make([]float64, points), n: make([]float64, points)}
}

// neumaierAdd adds x to the compensated sum (sum, c).
func neumaierAdd(sum, c, x float64) (float64, float64) {
	t := sum + x
	if math.Abs(sum) >= math.Abs(x) {
		c += (sum - t) + x
	} else {
		c += (x - t) + sum
	}
	return t, c
}

// update folds one series' values into the state.
func (s *aggrState) update(name string, vs []float64) {
	for i, x := range vs {
		if isNaN(x) {
			continue
		}
		n := s.n[i]
		s.n[i]++
		switch name {
		case "sum", "avg":
			if s.c == nil {
				s.c, s.mean, s.inf = make([]float64, len(s.v)), make([]float64, len(s.v)), make([]float64, len(s.v))
			}
			if isInf(x) {
				s.inf[i] += x
				continue
			}
			s.v[i], s.c[i] = neumaierAdd(s.v[i], s.c[i], x)
			s.mean[i] += x/s.n[i] - s.mean[i]/s.n[i]
		case "sum2":
			s.v[i] += x * x
		case "min":
			if n == 0 || x < s.v[i] {
				s.v[i] = x
			}
		case "max":
			if n == 0 || x > s.v[i] {
				s.v[i] = x
			}
		case "geomean":
			if n == 0 {
				s.v[i] = x
			} else {
				s.v[i] *= x
			}
		case "stddev", "stdvar":
			if s.m2 == nil {
				s.m2 = make([]float64, len(s.v))
			}
			d := x - s.v[i]
			s.v[i] += d / s.n[i]
			s.m2[i] += d * (x - s.v[i])
		}
	}
}

// merge folds another worker's state of the same group into s.
func (s *aggrState) merge(name string, o *aggrState) {
	for i, on := range o.n {
		if on == 0 {
			continue
		}
		n := s.n[i]
		if n == 0 {
			s.v[i], s.n[i] = o.v[i], on
			if o.c != nil {
				if s.c == nil {
					s.c, s.mean, s.inf = make([]float64, len(s.v)), make([]float64, len(s.v)), make([]float64, len(s.v))
				}
				s.c[i], s.mean[i], s.inf[i] = o.c[i], o.mean[i], o.inf[i]
			}
			if o.m2 != nil {
				if s.m2 == nil {
					s.m2 = make([]float64, len(s.v))
				}
				s.m2[i] = o.m2[i]
			}
			continue
		}
		s.n[i] = n + on
		switch name {
		case "sum", "avg":
			s.v[i], s.c[i] = neumaierAdd(s.v[i], s.c[i], o.v[i])
			s.c[i] += o.c[i]
			s.inf[i] += o.inf[i]
			s.mean[i] = s.mean[i]*(n/(n+on)) + o.mean[i]*(on/(n+on))
		case "sum2":
			s.v[i] += o.v[i]
		case "min":
			s.v[i] = math.Min(s.v[i], o.v[i])
		case "max":
			s.v[i] = math.Max(s.v[i], o.v[i])
		case "geomean":
			s.v[i] *= o.v[i]
		case "stddev", "stdvar":
			d := o.v[i] - s.v[i]
			tot := n + on
			s.v[i] += d * on / tot
			s.m2[i] += o.m2[i] + d*d*n*on/tot
		}
	}
}

// finish returns the group's result series; it reuses the state's
// storage, so the state is spent afterwards.
func (s *aggrState) finish(name string) *timeseries {
	out := s.v
	for i, n := range s.n {
		if n == 0 {
			out[i] = nan
			continue
		}
		switch name {
		case "sum":
			out[i] = s.v[i]
			switch {
			case s.inf[i] != 0:
				out[i] = s.inf[i]
			case !isInf(out[i]):
				out[i] += s.c[i]
			}
		case "avg":
			switch sum := s.v[i] + s.c[i]; {
			case s.inf[i] != 0:
				out[i] = s.inf[i]
			case !isInf(s.v[i]) && !isInf(sum):
				out[i] = sum / n
			default:
				out[i] = s.mean[i]
			}
		case "count":
			out[i] = n
		case "group":
			out[i] = 1
		case "geomean":
			out[i] = math.Pow(s.v[i], 1/n)
		case "stdvar":
			out[i] = s.m2[i] / n
		case "stddev":
			out[i] = math.Sqrt(s.m2[i] / n)
		default:
			out[i] = s.v[i]
		}
	}
	return &timeseries{labels: s.labels, values: out}
}
