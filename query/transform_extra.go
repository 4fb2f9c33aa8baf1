package query

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // timezone_offset names zones on machines without a zoneinfo database

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// The rest of MetricsQL's transforms: bitmaps, random numbers, time zones,
// range trimming and regression, and two label filters.

// tfBitmap applies a bitwise operation between each value and the mask,
// both taken as unsigned 64-bit integers.
func tfBitmap(op func(a, b uint64) uint64) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		tss, err := ev.argSeries(ec, fe, 0)
		if err != nil {
			return nil, err
		}
		masks, err := ev.evalScalarArg(ec, fe.Args[1], "mask")
		if err != nil {
			return nil, err
		}
		for _, ts := range tss {
			for i, v := range ts.values {
				if isNaN(v) || isNaN(masks[i]) {
					ts.values[i] = nan
					continue
				}
				ts.values[i] = float64(op(uint64(v), uint64(masks[i])))
			}
		}
		return fixNames(tss, fe.KeepMetricNames), nil
	}
}

// tfRand returns one label-less series of random numbers from draw, seeded
// by the optional argument (the same seed gives the same numbers) or by
// the clock.
func tfRand(draw func(r *rand.Rand) float64) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		seed := uint64(time.Now().UnixNano())
		if len(fe.Args) == 1 {
			seeds, err := ev.evalScalarArg(ec, fe.Args[0], "seed")
			if err != nil {
				return nil, err
			}
			if isNaN(seeds[0]) {
				return nil, errorf(ErrBadArgument, "seed is NaN")
			}
			seed = uint64(int64(seeds[0]))
		}
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		ts, err := ev.newSeries(ec)
		if err != nil {
			return nil, err
		}
		for i := range ts.values {
			ts.values[i] = draw(r)
		}
		return []*timeseries{ts}, nil
	}
}

// tfTimezoneOffset returns the offset of the named IANA time zone from
// UTC, in seconds, at each step.
func tfTimezoneOffset(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	name, err := evalStringArg(fe.Args[0], "time zone")
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errorf(ErrBadArgument, "unknown time zone %q", name)
	}
	return perGrid(ev, ec, func(t int64) float64 {
		_, off := time.Unix(floorDiv(t, 1000), 0).In(loc).Zone()
		return float64(off)
	})
}

// tfRangeTrim builds range_trim_*: drop returns, from a series' values on
// the range (NaN-free, sorted) and the parameter, whether a value is
// dropped. Metric names are kept.
func tfRangeTrim(what string, drop func(vs []float64, p float64) func(v float64) bool) func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	return func(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
		ps, err := ev.evalScalarArg(ec, fe.Args[0], what)
		if err != nil {
			return nil, err
		}
		tss, err := ev.argSeries(ec, fe, 1)
		if err != nil {
			return nil, err
		}
		var buf []float64
		for _, ts := range tss {
			buf = append(buf[:0], ts.values...)
			buf = slices.DeleteFunc(buf, isNaN)
			if len(buf) == 0 {
				continue
			}
			slices.Sort(buf)
			out := drop(buf, ps[0])
			for i, v := range ts.values {
				if !isNaN(v) && out(v) {
					ts.values[i] = nan
				}
			}
		}
		return tss, nil
	}
}

// trimSpikes drops the phi share of values, half at each end.
func trimSpikes(vs []float64, phi float64) func(v float64) bool {
	lo, hi := quantileSorted(phi/2, vs), quantileSorted(1-phi/2, vs)
	return func(v float64) bool { return v < lo || v > hi }
}

// trimOutliers drops values farther from the median than k median
// absolute deviations.
func trimOutliers(vs []float64, k float64) func(v float64) bool {
	med, d := quantileSorted(0.5, vs), k*mad(vs)
	return func(v float64) bool { return math.Abs(v-med) > d }
}

// trimZscore drops values whose z-score on the range exceeds |z|.
func trimZscore(vs []float64, z float64) func(v float64) bool {
	avg, sd := kahanAvg(vs), math.Sqrt(stdvar(vs))
	z = math.Abs(z)
	return func(v float64) bool { return math.Abs(v-avg)/sd > z }
}

// tfRangeLinearRegression replaces each series by its least-squares line
// over the range, evaluated at every step.
func tfRangeLinearRegression(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	var vs []float64
	var ts []int64
	for _, s := range tss {
		vs, ts = vs[:0], ts[:0]
		for i, v := range s.values {
			if !isNaN(v) {
				vs, ts = append(vs, v), append(ts, ec.grid[i])
			}
		}
		if len(vs) == 0 {
			continue
		}
		b, k := linearRegression(vs, ts, ec.grid[0])
		for i, t := range ec.grid {
			s.values[i] = b + k*float64(t-ec.grid[0])/1e3
		}
	}
	return tss, nil
}

// tfLabelsEqual keeps the series whose named labels all have the same
// value (a missing label counts as empty).
func tfLabelsEqual(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	names, err := stringArgs(fe, 1)
	if err != nil {
		return nil, err
	}
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(tss, func(ts *timeseries) bool {
		first := ts.labels.Get(names[0])
		for _, n := range names[1:] {
			if ts.labels.Get(n) != first {
				return true
			}
		}
		return false
	}), nil
}

// tfLabelGraphiteGroup renames each series to the listed dot-separated
// parts of its Graphite-style metric name, joined by dots (an index out
// of range gives an empty part).
func tfLabelGraphiteGroup(ev *evaluator, ec *evalConfig, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	idxs := make([]int, 0, len(fe.Args)-1)
	for i, a := range fe.Args[1:] {
		ne, ok := a.(*metricsql.NumberExpr)
		if !ok || ne.N != math.Trunc(ne.N) {
			return nil, errorf(ErrBadArgument, "group number %d must be an integer literal, got %s", i+1, a.AppendString(nil))
		}
		idxs = append(idxs, int(ne.N))
	}
	tss, err := ev.argSeries(ec, fe, 0)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	for _, ts := range tss {
		parts := strings.Split(ts.labels.Get(tsdb.MetricName), ".")
		b.Reset()
		for j, k := range idxs {
			if k >= 0 && k < len(parts) {
				b.WriteString(parts[k])
			}
			if j < len(idxs)-1 {
				b.WriteByte('.')
			}
		}
		ts.labels = setLabel(ts.labels, tsdb.MetricName, b.String())
	}
	return tss, nil
}
