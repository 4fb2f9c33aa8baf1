package query

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/VictoriaMetrics/metricsql"
)

// evalConfig is the time grid an expression is evaluated on.
type evalConfig struct {
	start, end, step int64   // milliseconds; end as requested, maybe past the last grid point
	grid             []int64 // start, start+step, ... <= end
}

func newEvalConfig(start, end, step int64) *evalConfig {
	g := makeGrid(start, end, step)
	return &evalConfig{start: start, end: end, step: step, grid: g}
}

// points returns the number of grid points.
func (ec *evalConfig) points() int { return len(ec.grid) }

// evaluator evaluates one query. Its methods may be called from the
// query's worker goroutines; the sample budget is atomic.
type evaluator struct {
	ctx     context.Context
	e       *Engine
	mem     *queryMem    // the query's memory account (budget.go)
	samples atomic.Int64 // samples read plus points held so far
}

func newEvaluator(ctx context.Context, e *Engine, mem *queryMem) *evaluator {
	return &evaluator{ctx: ctx, e: e, mem: mem}
}

// charge adds n samples to the query's budget and fails once it is spent.
func (ev *evaluator) charge(n int) error {
	if ev.samples.Add(int64(n)) > ev.e.opts.MaxSamples {
		return fmt.Errorf("%w (query.max_samples: %d; select fewer series, use a shorter range or a larger step, or raise query.max_samples)",
			ErrTooManySamples, ev.e.opts.MaxSamples)
	}
	return nil
}

// hold charges series series of points points each, about to be
// allocated: their points to the sample budget, their bytes to the memory
// account.
func (ev *evaluator) hold(series, points int) error {
	if err := ev.charge(series * points); err != nil {
		return err
	}
	return ev.holdBytes(series, points)
}

// holdBytes charges the bytes of series series of points points each to
// the memory account only, for values the sample budget does not count.
func (ev *evaluator) holdBytes(series, points int) error {
	return ev.mem.Reserve(int64(series) * (seriesOverhead + int64(points)*pointBytes))
}

// newSeries allocates a series of ec's length filled with NaN, charging
// its points to the budget.
func (ev *evaluator) newSeries(ec *evalConfig) (*timeseries, error) {
	if err := ev.hold(1, ec.points()); err != nil {
		return nil, err
	}
	vs := make([]float64, ec.points())
	for i := range vs {
		vs[i] = nan
	}
	return &timeseries{values: vs}, nil
}

// eval evaluates expr on ec's grid.
func (ev *evaluator) eval(ec *evalConfig, expr metricsql.Expr) ([]*timeseries, error) {
	if err := ev.ctx.Err(); err != nil {
		return nil, err
	}
	switch t := expr.(type) {
	case *metricsql.NumberExpr:
		return ev.number(ec, t.N)
	case *metricsql.StringExpr:
		return nil, errorf(ErrBadArgument, "string literal %q is not allowed here", t.S)
	case *metricsql.DurationExpr:
		return ev.number(ec, float64(t.Duration(ec.step))/1000)
	case *metricsql.MetricExpr:
		return ev.evalRollup(ec, "default_rollup", nil, &metricsql.RollupExpr{Expr: t})
	case *metricsql.RollupExpr:
		return ev.evalRollup(ec, "default_rollup", nil, t)
	case *metricsql.FuncExpr:
		name := lower(t.Name)
		if rollupSpecs[name] != nil {
			return ev.evalRollupFunc(ec, name, t)
		}
		return ev.evalTransform(ec, name, t)
	case *metricsql.AggrFuncExpr:
		return ev.evalAggr(ec, t)
	case *metricsql.BinaryOpExpr:
		return ev.evalBinaryOp(ec, t)
	}
	return nil, errorf(ErrBadArgument, "unexpected expression %T", expr)
}

// number returns one label-less series holding n at every step.
func (ev *evaluator) number(ec *evalConfig, n float64) ([]*timeseries, error) {
	ts, err := ev.newSeries(ec)
	if err != nil {
		return nil, err
	}
	for i := range ts.values {
		ts.values[i] = n
	}
	return []*timeseries{ts}, nil
}

// evalScalarArg evaluates a numeric argument and returns its value per
// step: a number literal directly, an expression through eval, which must
// give at most one series (none means NaN).
func (ev *evaluator) evalScalarArg(ec *evalConfig, e metricsql.Expr, what string) ([]float64, error) {
	if ne, ok := e.(*metricsql.NumberExpr); ok {
		vs := make([]float64, ec.points())
		for i := range vs {
			vs[i] = ne.N
		}
		return vs, nil
	}
	tss, err := ev.eval(ec, e)
	if err != nil {
		return nil, err
	}
	switch len(tss) {
	case 0:
		vs := make([]float64, ec.points())
		for i := range vs {
			vs[i] = nan
		}
		return vs, nil
	case 1:
		return tss[0].values, nil
	}
	return nil, errorf(ErrBadArgument, "%s must be a scalar, got %d series", what, len(tss))
}

// evalStringArg returns the value of a string literal argument.
func evalStringArg(e metricsql.Expr, what string) (string, error) {
	se, ok := e.(*metricsql.StringExpr)
	if !ok {
		return "", errorf(ErrBadArgument, "%s must be a string literal, got %s", what, e.AppendString(nil))
	}
	return se.S, nil
}

// evalAt returns the timestamp an `@` modifier names, in milliseconds.
func (ev *evaluator) evalAt(ec *evalConfig, at metricsql.Expr) (int64, error) {
	vs, err := ev.evalScalarArg(ec, at, "@ modifier")
	if err != nil {
		return 0, err
	}
	v := vs[0]
	if isNaN(v) || isInf(v) || math.Abs(v) > 1e13 {
		return 0, errorf(ErrBadArgument, "@ modifier value %g is out of range", v)
	}
	return int64(math.Round(v * 1000)), nil
}

// withAt evaluates f on a one-point grid at the `@` time and repeats the
// result over ec's grid.
func (ev *evaluator) withAt(ec *evalConfig, at metricsql.Expr, f func(*evalConfig) ([]*timeseries, error)) ([]*timeseries, error) {
	t, err := ev.evalAt(ec, at)
	if err != nil {
		return nil, err
	}
	one := newEvalConfig(t, t, ec.step)
	tss, err := f(one)
	if err != nil {
		return nil, err
	}
	if ec.points() == 1 {
		return tss, nil
	}
	if err := ev.hold(len(tss), ec.points()); err != nil {
		return nil, err
	}
	for _, ts := range tss {
		v := ts.values[0]
		vs := make([]float64, ec.points())
		for i := range vs {
			vs[i] = v
		}
		ts.values = vs
	}
	return tss, nil
}

// floorDiv rounds a/b towards negative infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
