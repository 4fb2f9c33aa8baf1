package query

import (
	"context"
	"fmt"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// rangeVector answers an instant query whose whole expression is a range
// vector, `m[5m]` or a subquery `expr[1h:1m]`, as Prometheus does: a
// Matrix of the raw samples (or subquery points) in (t-window, t].
func (e *Engine) rangeVector(ctx context.Context, re *metricsql.RollupExpr, t, step int64) (v Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("evaluate %s: internal error: %v", re.AppendString(nil), r)
			e.log.Error("query evaluation panicked", "query", string(re.AppendString(nil)), "err", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(ctx, "wait for a query slot")
	}
	defer func() { <-e.sem }()
	mem := e.mem.newQuery(e.opts.MaxMemoryPerQuery)
	defer mem.close()
	ev := newEvaluator(ctx, e, mem)
	defer func() { traceSamples(ctx, ev.samples.Load()) }()
	ec := newEvalConfig(t, t, step)
	if re.At != nil {
		at, err := ev.evalAt(ec, re.At)
		if err != nil {
			return nil, err
		}
		t = at
	}
	end := t - re.Offset.Duration(step)
	start := end - re.Window.Duration(step)
	var m Matrix
	if me, ok := re.Expr.(*metricsql.MetricExpr); ok && !re.ForSubquery() {
		ss, err := ev.selectSeries(start+1, end, me, false)
		if err != nil {
			return nil, err
		}
		var it *tsdb.Iterator
		for ss.Next() {
			s := ss.At()
			var pts []Point
			it = s.ReuseIterator(it)
			for it.Next() {
				ts, v := it.At()
				if !isNaN(v) && ts > start && ts <= end {
					pts = append(pts, Point{T: ts, V: v})
				}
			}
			if err := it.Err(); err != nil {
				return nil, fmt.Errorf("read %s: %w", s.Labels, err)
			}
			if err := ev.charge(len(pts)); err != nil {
				return nil, err
			}
			if err := mem.Reserve(seriesOverhead + int64(cap(pts))*matrixPtBytes); err != nil {
				return nil, err
			}
			if len(pts) > 0 {
				m = append(m, Series{Labels: s.Labels, Points: pts})
			}
		}
		if err := ss.Err(); err != nil {
			return nil, fmt.Errorf("select %s: %w", me.AppendString(nil), err)
		}
		return m, nil
	}
	sqStep := step
	if re.Step != nil {
		if s := re.Step.Duration(step); s > 0 {
			sqStep = s
		}
	}
	first := -floorDiv(-(start+1), sqStep) * sqStep
	if first > end {
		return Matrix{}, nil
	}
	sq := newEvalConfig(first, end, sqStep)
	tss, err := ev.eval(sq, re.Expr)
	if err != nil {
		return nil, err
	}
	for _, ts := range tss {
		var pts []Point
		for i, v := range ts.values {
			if !isNaN(v) {
				pts = append(pts, Point{T: sq.grid[i], V: v})
			}
		}
		if len(pts) > 0 {
			m = append(m, Series{Labels: ts.labels, Points: pts})
		}
	}
	return m, nil
}
