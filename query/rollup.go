package query

import (
	"fmt"
	"slices"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// evalRollupFunc evaluates a call of a rollup function such as
// rate(m[5m]) or quantile_over_time(0.9, m[1h]).
func (ev *evaluator) evalRollupFunc(ec *evalConfig, name string, fe *metricsql.FuncExpr) ([]*timeseries, error) {
	idx := metricsql.GetRollupArgIdx(fe)
	if idx < 0 || idx >= len(fe.Args) {
		return nil, fmt.Errorf("%w: function %q needs a range argument", ErrArgCount, fe.Name)
	}
	re := asRollupExpr(fe.Args[idx])
	return ev.evalRollup(ec, name, fe, re)
}

// asRollupExpr turns a rollup function's argument into a RollupExpr: a
// selector gets an implicit window, any other expression becomes an
// implicit subquery (MetricsQL's `[1i:1i]` conversion).
func asRollupExpr(arg metricsql.Expr) *metricsql.RollupExpr {
	if re, ok := arg.(*metricsql.RollupExpr); ok {
		return re
	}
	return &metricsql.RollupExpr{Expr: arg}
}

// evalRollup evaluates rollup name over re on ec's grid; fe is the call,
// nil for the implicit default_rollup of a bare selector.
func (ev *evaluator) evalRollup(ec *evalConfig, name string, fe *metricsql.FuncExpr, re *metricsql.RollupExpr) ([]*timeseries, error) {
	if re.At != nil {
		at := re.At
		inner := *re
		inner.At = nil
		return ev.withAt(ec, at, func(one *evalConfig) ([]*timeseries, error) {
			return ev.evalRollup(one, name, fe, &inner)
		})
	}
	rr, err := ev.newRollupRunner(ec, name, fe, re)
	if err != nil {
		return nil, err
	}
	var tss []*timeseries
	if me, ok := re.Expr.(*metricsql.MetricExpr); ok && !re.ForSubquery() && rr.dynLabel != "" {
		sink := &dynSink{ev: ev}
		if err := ev.rollupSelect(ec, me, rr, sink); err != nil {
			return nil, err
		}
		tss = sink.result()
	} else if ok && !re.ForSubquery() {
		sink := &collectSink{nOut: len(rr.outs), keepName: rr.keepName}
		if err := ev.rollupSelect(ec, me, rr, sink); err != nil {
			return nil, err
		}
		tss = sink.result()
	} else {
		tss, err = ev.rollupSubquery(ec, re, rr)
		if err != nil {
			return nil, err
		}
	}
	if name == "absent_over_time" {
		return ev.absentOverTime(ec, re.Expr, tss)
	}
	return tss, nil
}

// newRollupRunner prepares rollup name for re on ec: its parameters, the
// window, the offset-shifted grid.
func (ev *evaluator) newRollupRunner(ec *evalConfig, name string, fe *metricsql.FuncExpr, re *metricsql.RollupExpr) (*rollupRunner, error) {
	spec := rollupSpecs[name]
	var p rollupParams
	if fe != nil {
		idx := metricsql.GetRollupArgIdx(fe)
		for i, arg := range fe.Args {
			if i == idx {
				continue
			}
			if strs, ok := stringListArg(arg); ok {
				p.strs = append(p.strs, strs...)
				continue
			}
			vs, err := ev.evalScalarArg(ec, arg, fmt.Sprintf("argument %d of %s", i+1, name))
			if err != nil {
				return nil, err
			}
			p.nums = append(p.nums, vs)
		}
	}
	outs, err := spec.outputs(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	offset := re.Offset.Duration(ec.step)
	if name == "rollup_candlestick" {
		// MetricsQL's candle at t covers the step after t, [t, t+step).
		offset -= ec.step
	}
	window := int64(0)
	if re.Window != nil {
		window = re.Window.Duration(ec.step)
	}
	grid := ec.grid
	if offset != 0 {
		grid = make([]int64, len(ec.grid))
		for i, t := range ec.grid {
			grid[i] = t - offset
		}
	}
	keep := spec.keepName || (fe != nil && fe.KeepMetricNames)
	dynLabel := ""
	if spec.dynLabel != nil {
		if dynLabel, err = spec.dynLabel(p); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return &rollupRunner{
		dynLabel: dynLabel,
		spec:     spec, outs: outs, grid: grid, end: ec.end - offset, window: window, step: ec.step,
		windowOnly: windowOnly[name] && window > 0,
		lookback:   ev.e.opts.LookbackDelta.Milliseconds(), isDefault: name == "default_rollup", keepName: keep,
	}, nil
}

// rollupSubquery evaluates re.Expr on the subquery's own grid and rolls
// the resulting points up on ec's grid.
func (ev *evaluator) rollupSubquery(ec *evalConfig, re *metricsql.RollupExpr, rr *rollupRunner) ([]*timeseries, error) {
	step := ec.step
	if re.Step != nil {
		if s := re.Step.Duration(ec.step); s > 0 {
			step = s
		}
	}
	window := rr.window
	start := rr.grid[0] - window - step - defaultSilence
	end := rr.grid[len(rr.grid)-1] + step
	start = floorDiv(start, step) * step
	end = -floorDiv(-end, step) * step
	if n := (end-start)/step + 1; n > int64(ev.e.opts.MaxPointsPerSeries)*4 {
		return nil, fmt.Errorf("%w: subquery needs %d points per series", ErrTooManyPoints, n)
	}
	sq := newEvalConfig(start, end, step)
	inner, err := ev.eval(sq, re.Expr)
	if err != nil {
		return nil, err
	}
	if err := ev.hold(len(inner)*len(rr.outs), len(rr.grid)); err != nil {
		return nil, err
	}
	out := make([]*timeseries, 0, len(inner)*len(rr.outs))
	dst := make([][]float64, len(rr.outs))
	var it memIter
	var c cursor
	for _, ts := range inner {
		if err := ev.ctx.Err(); err != nil {
			return nil, err
		}
		it.reset(sq.grid, ts.values)
		for k := range dst {
			dst[k] = make([]float64, len(rr.grid))
		}
		if _, err := rr.run(&it, dst, &c); err != nil {
			return nil, err
		}
		if rr.dynLabel != "" {
			tss, err := ev.dynSeries(rr, ts.labels, &c.dyn)
			if err != nil {
				return nil, err
			}
			out = append(out, tss...)
			continue
		}
		for k, o := range rr.outs {
			out = append(out, &timeseries{labels: rr.outputLabels(ts.labels, o), values: dst[k]})
		}
	}
	return out, nil
}

// memIter iterates the non-NaN points of an evaluated series, so a
// subquery's points go through the same rollup code as stored samples.
type memIter struct {
	ts []int64
	vs []float64
	i  int
}

func (m *memIter) reset(ts []int64, vs []float64) { m.ts, m.vs, m.i = ts, vs, -1 }

func (m *memIter) Next() bool {
	for m.i++; m.i < len(m.ts); m.i++ {
		if !isNaN(m.vs[m.i]) {
			return true
		}
	}
	return false
}

func (m *memIter) SeekTo(t int64) bool {
	if m.i >= 0 && m.i < len(m.ts) && m.ts[m.i] >= t {
		return true
	}
	j, _ := slices.BinarySearch(m.ts, t)
	if j <= m.i {
		j = m.i + 1
	}
	for m.i = j; m.i < len(m.ts); m.i++ {
		if !isNaN(m.vs[m.i]) {
			return true
		}
	}
	return false
}

func (m *memIter) At() (int64, float64) { return m.ts[m.i], m.vs[m.i] }

func (m *memIter) Err() error { return nil }

// sampleIter is what a rollup reads: *tsdb.Iterator or memIter.
type sampleIter interface {
	Next() bool
	SeekTo(t int64) bool
	At() (int64, float64)
	Err() error
}

var _ sampleIter = (*tsdb.Iterator)(nil)

// absentOverTime turns per-series results into MetricsQL's
// absent_over_time: 1 where no series had a sample, with the labels of the
// selector's equality matchers.
func (ev *evaluator) absentOverTime(ec *evalConfig, arg metricsql.Expr, tss []*timeseries) ([]*timeseries, error) {
	out, err := ev.newSeries(ec)
	if err != nil {
		return nil, err
	}
	out.labels = absentLabels(arg)
	for i := range out.values {
		out.values[i] = 1
		for _, ts := range tss {
			if !isNaN(ts.values[i]) {
				out.values[i] = nan
				break
			}
		}
	}
	return []*timeseries{out}, nil
}

// stringListArg returns the strings of a string literal argument or of a
// parenthesised list of them (`aggr_over_time(("min_over_time",
// "max_over_time"), m[5m])`).
func stringListArg(arg metricsql.Expr) ([]string, bool) {
	switch t := arg.(type) {
	case *metricsql.StringExpr:
		return []string{t.S}, true
	case *metricsql.FuncExpr:
		if t.Name != "" || len(t.Args) == 0 {
			return nil, false
		}
		strs := make([]string, 0, len(t.Args))
		for _, a := range t.Args {
			se, ok := a.(*metricsql.StringExpr)
			if !ok {
				return nil, false
			}
			strs = append(strs, se.S)
		}
		return strs, true
	}
	return nil, false
}
