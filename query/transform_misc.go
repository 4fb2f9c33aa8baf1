package query

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

func tfAbsent(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	out, err := ev.newSeries(ec)
	if err != nil {
		return nil, err
	}
	out.labels = absentLabels(fe.Args[0])
	for i := range out.values {
		if !hasValueAt(tss, i) {
			out.values[i] = 1
		}
	}
	return []*timeseries{out}, nil
}

// tfScalar returns its argument without labels when it is one series, and
// nothing otherwise (MetricsQL's scalar()).
func tfScalar(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	if ne, ok := fe.Args[0].(*metricsql.NumberExpr); ok {
		return ev.number(ec, ne.N)
	}
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	if len(tss) != 1 {
		return nil, nil
	}
	tss[0].labels = nil
	return tss, nil
}

func tfVector(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return ev.argSeries(ec, fe, 0)
}

// perGrid returns one label-less series with f(t) at every step.
func perGrid(ev *evaluator, ec *evalConfig, f func(t int64) float64) ([]*timeseries, error) {
	ts, err := ev.newSeries(ec)
	if err != nil {
		return nil, err
	}
	for i, t := range ec.grid {
		ts.values[i] = f(t)
	}
	return []*timeseries{ts}, nil
}

func tfTime(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	return perGrid(ev, ec, func(t int64) float64 { return float64(t) / 1e3 })
}

func tfNow(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	now := float64(ev.e.opts.Now().UnixNano()) / 1e9
	return perGrid(ev, ec, func(int64) float64 { return now })
}

func tfConst(c float64) func(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
		return ev.number(ec, c)
	}
}

func tfStart(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	return ev.number(ec, float64(ec.start)/1e3)
}

func tfEnd(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	return ev.number(ec, float64(ec.end)/1e3)
}

func tfStep(ev *evaluator, ec *evalConfig, _ *metricsql.FuncExpr) ([]*timeseries, error) {
	return ev.number(ec, float64(ec.step)/1e3)
}

// timeTF builds hour(), month() and friends: f of the values read as Unix
// seconds (UTC), or of the step time without an argument.
func timeTF(f func(time.Time) float64) *transformSpec {
	return &transformSpec{0, 1, func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		var tss []*timeseries
		var err error
		if len(fe.Args) == 0 {
			tss, err = tfTime(ev, ec, fe)
		} else {
			tss, err = ev.argSeries(ec, fe, 0)
		}
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			for i, v := range ts.values {
				if !isNaN(v) && !isInf(v) {
					ts.values[i] = f(time.Unix(0, int64(v*1e9)).UTC())
				} else {
					ts.values[i] = nan
				}
			}
		}
		return fixNames(tss, fe.KeepMetricNames), nil
	}}
}

func daysInMonth(t time.Time) float64 {
	return float64(time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day())
}

// tfSort orders series by their last value.
func tfSort(desc bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		last := func(ts *timeseries) float64 {
			for i := len(ts.values) - 1; i >= 0; i-- {
				if !isNaN(ts.values[i]) {
					return ts.values[i]
				}
			}
			return nan
		}
		slices.SortStableFunc(tss, func(a, b *timeseries) int {
			va, vb := last(a), last(b)
			if isNaN(va) || isNaN(vb) {
				return cmpBool(isNaN(va), isNaN(vb))
			}
			if desc {
				return cmpFloat(vb, va)
			}
			return cmpFloat(va, vb)
		})
		return tss, nil
	}
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// tfSortByLabel orders series by the named labels' values, compared as
// strings or, for the numeric variants, as numbers.
func tfSortByLabel(desc, numeric bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		var names []string
		for i := 1; i < len(fe.Args); i++ {
			s, err := evalStringArg(fe.Args[i], "label name")
			if err != nil {
				return nil, err
			}
			names = append(names, s)
		}
		cmp := func(a, b string) int {
			if numeric {
				fa, ea := strconv.ParseFloat(a, 64)
				fb, eb := strconv.ParseFloat(b, 64)
				if ea == nil && eb == nil {
					return cmpFloat(fa, fb)
				}
			}
			return naturalCompare(a, b)
		}
		slices.SortStableFunc(tss, func(a, b *timeseries) int {
			c := 0
			for _, n := range names {
				if c = cmp(a.labels.Get(n), b.labels.Get(n)); c != 0 {
					break
				}
			}
			if c == 0 {
				c = tsdb.Compare(a.labels, b.labels)
			}
			if desc {
				return -c
			}
			return c
		})
		return tss, nil
	}
}

// naturalCompare compares strings with embedded numbers by their value
// ("a2" < "a10"), as Prometheus' sort_by_label does.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitsPrefix(a), digitsPrefix(b)
		if da > 0 && db > 0 {
			na, _ := strconv.ParseUint(a[:da], 10, 64)
			nb, _ := strconv.ParseUint(b[:db], 10, 64)
			if na != nb {
				return cmpFloat(float64(na), float64(nb))
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return strings.Compare(a[:1], b[:1])
		}
		a, b = a[1:], b[1:]
	}
	return cmpFloat(float64(len(a)), float64(len(b)))
}

func digitsPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' && n < 18 {
		n++
	}
	return n
}

// tfValues builds a transform that rewrites each series' values in place
// with fill; the series keep their labels.
func tfValues(fill func(vs []float64)) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			fill(ts.values)
		}
		return tss, nil
	}
}

// keepLastValue fills each gap with the value before it.
func keepLastValue(vs []float64) {
	last := nan
	for i, v := range vs {
		if isNaN(v) {
			vs[i] = last
		} else {
			last = v
		}
	}
}

// keepNextValue fills each gap with the value after it.
func keepNextValue(vs []float64) {
	next := nan
	for i := len(vs) - 1; i >= 0; i-- {
		if isNaN(vs[i]) {
			vs[i] = next
		} else {
			next = vs[i]
		}
	}
}

// interpolate fills gaps linearly between known values.
func interpolate(vs []float64) {
	prev := -1
	for i, v := range vs {
		if isNaN(v) {
			continue
		}
		if prev >= 0 && i-prev > 1 {
			pv := vs[prev]
			for j := prev + 1; j < i; j++ {
				vs[j] = pv + (v-pv)*float64(j-prev)/float64(i-prev)
			}
		}
		prev = i
	}
}

// removeResets adds back what each counter reset took away.
func removeResets(vs []float64) {
	var c cursor
	for i, v := range vs {
		if !isNaN(v) {
			vs[i] = c.correct(v)
		}
	}
}

// tfRunning computes a running sum, average, minimum or maximum.
func tfRunning(kind string) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			acc, n := nan, 0.0
			for i, v := range ts.values {
				if !isNaN(v) {
					n++
					switch {
					case isNaN(acc):
						acc = v
					case kind == "sum":
						acc += v
					case kind == "avg":
						acc += (v - acc) / n
					case kind == "min":
						acc = math.Min(acc, v)
					case kind == "max":
						acc = math.Max(acc, v)
					}
				}
				ts.values[i] = acc
			}
		}
		return fixNames(tss, fe.KeepMetricNames), nil
	}
}

// tfRange sets every point to f over all the series' points.
func tfRange(f rollupFunc, keep bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			setRange(ts, f(&rollupArgs{values: nonNaN(ts.values)}))
		}
		return fixNames(tss, keep || fe.KeepMetricNames), nil
	}
}

func nonNaN(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !isNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func setRange(ts *timeseries, v float64) {
	for i := range ts.values {
		ts.values[i] = v
	}
}

func tfRangeQuantile(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	phis, err := ev.evalScalarArg(ec, fe.Args[0], "phi")
	if err != nil {
		return nil, err
	}
	tss, err := ev.argSeries(ec, fe, 1)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		setRange(ts, quantileOf(phis[0], nonNaN(ts.values)))
	}
	return tss, nil
}

func tfRangeNormalize(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	var out []*timeseries
	for i := range fe.Args {
		tss, err := ev.argSeries(ec, fe, i)
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			vs := nonNaN(ts.values)
			if len(vs) == 0 {
				continue
			}
			lo, hi := slices.Min(vs), slices.Max(vs)
			for j, v := range ts.values {
				if !isNaN(v) {
					ts.values[j] = (v - lo) / (hi - lo)
				}
			}
			out = append(out, ts)
		}
	}
	return fixNames(out, fe.KeepMetricNames), nil
}

func tfRangeZscore(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		vs := nonNaN(ts.values)
		if len(vs) == 0 {
			continue
		}
		avg, sd := kahanAvg(vs), math.Sqrt(stdvar(vs))
		for j, v := range ts.values {
			if !isNaN(v) {
				ts.values[j] = (v - avg) / sd
			}
		}
	}
	return fixNames(tss, fe.KeepMetricNames), nil
}

func tfSmoothExponential(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	sfs, err := ev.evalScalarArg(ec, fe.Args[1], "sf")
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		acc := nan
		for i, v := range ts.values {
			if isNaN(v) {
				continue
			}
			if isNaN(acc) || isInf(acc) {
				acc = v
			} else {
				sf := math.Max(0, math.Min(1, sfs[i]))
				acc = sf*v + (1-sf)*acc
			}
			ts.values[i] = acc
		}
	}
	return tss, nil
}

func tfLimitOffset(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	lim, err := ev.evalScalarArg(ec, fe.Args[0], "limit")
	if err != nil {
		return nil, err
	}
	off, err := ev.evalScalarArg(ec, fe.Args[1], "offset")
	if err != nil {
		return nil, err
	}
	tss, err := ev.argSeries(ec, fe, 2)
	if err != nil {
		return nil, err
	}
	tss = removeEmpty(tss)
	sortByLabels(tss)
	o, l := int(max(0, off[0])), int(max(0, lim[0]))
	if o >= len(tss) {
		return nil, nil
	}
	tss = tss[o:]
	if l < len(tss) {
		tss = tss[:l]
	}
	return tss, nil
}

func tfDropEmpty(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	return removeEmpty(tss), nil
}
