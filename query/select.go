package query

import (
	"fmt"
	"sync/atomic"

	"github.com/VictoriaMetrics/metricsql"
	"golang.org/x/sync/errgroup"

	"outpost/tsdb"
)

// seriesSink receives rollup results from the workers. add is called from
// several goroutines, each with its own worker number; values belong to
// the sink only for the duration of the call unless it says otherwise.
type seriesSink interface {
	// ownsValues reports whether add keeps the values slices, so each
	// series needs fresh ones.
	ownsValues() bool
	add(worker, idx int, ls tsdb.Labels, rr *rollupRunner, values [][]float64) error
	// setSize is told the number of series and workers before any add.
	setSize(series, workers int)
}

// rollupSelect selects the series of me and runs rr over each, spreading
// the series over the engine's workers. Each worker reads one series at a
// time, so memory holds one series' window per worker plus the results.
func (ev *evaluator) rollupSelect(ec *evalConfig, me *metricsql.MetricExpr, rr *rollupRunner, sink seriesSink) error {
	maxt := max(rr.grid[len(rr.grid)-1], rr.end)
	mint := rr.grid[0] - max(rr.window, rr.step) - defaultSilence
	if rr.windowOnly {
		mint = rr.grid[0] - rr.window
	}
	series, err := ev.selectSeries(mint, maxt, me)
	if err != nil {
		return err
	}
	workers := min(ev.e.opts.Workers, len(series))
	sink.setSize(len(series), workers)
	if len(series) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ev.ctx)
	var next atomic.Int64
	for w := range workers {
		g.Go(func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("rollup worker: internal error: %v", r)
				}
			}()
			dst := make([][]float64, len(rr.outs))
			var c cursor
			var sit *tsdb.Iterator
			for {
				i := int(next.Add(1) - 1)
				if i >= len(series) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				if sink.ownsValues() || dst[0] == nil {
					if err := ev.charge(len(rr.grid) * len(rr.outs)); err != nil {
						return err
					}
					for k := range dst {
						dst[k] = make([]float64, len(rr.grid))
					}
				}
				sit = series[i].ReuseIterator(sit)
				n, err := rr.run(sit, dst, &c)
				if err != nil {
					return fmt.Errorf("read %s: %w", series[i].Labels, err)
				}
				if err := ev.charge(n); err != nil {
					return err
				}
				if err := sink.add(w, i, series[i].Labels, rr, dst); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}

// selectSeries returns the series matching me with samples in [mint,
// maxt]; `or` filter groups are merged without duplicates.
func (ev *evaluator) selectSeries(mint, maxt int64, me *metricsql.MetricExpr) ([]tsdb.Series, error) {
	var out []tsdb.Series
	var seen map[string]struct{}
	if len(me.LabelFilterss) > 1 {
		seen = make(map[string]struct{})
	}
	for _, lfs := range me.LabelFilterss {
		ms, err := toMatchers(lfs)
		if err != nil {
			return nil, err
		}
		ss, err := ev.e.st.Select(ev.ctx, mint, maxt, ms...)
		if err != nil {
			return nil, fmt.Errorf("select %s: %w", me.AppendString(nil), err)
		}
		for ss.Next() {
			s := ss.At()
			if seen != nil {
				k := string(appendLabelsKey(nil, s.Labels))
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
			}
			out = append(out, s)
		}
		if err := ss.Err(); err != nil {
			return nil, fmt.Errorf("select %s: %w", me.AppendString(nil), err)
		}
	}
	return out, nil
}

// toMatchers converts one group of MetricsQL label filters.
func toMatchers(lfs []metricsql.LabelFilter) ([]*tsdb.Matcher, error) {
	ms := make([]*tsdb.Matcher, 0, len(lfs))
	nonEmpty := false
	for _, lf := range lfs {
		t := tsdb.MatchEqual
		switch {
		case lf.IsRegexp && lf.IsNegative:
			t = tsdb.MatchNotRegexp
		case lf.IsRegexp:
			t = tsdb.MatchRegexp
		case lf.IsNegative:
			t = tsdb.MatchNotEqual
		}
		m, err := tsdb.NewMatcher(t, lf.Label, lf.Value)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadArgument, err)
		}
		if !m.MatchesEmpty() {
			nonEmpty = true
		}
		ms = append(ms, m)
	}
	if !nonEmpty {
		return nil, errorf(ErrBadArgument, "vector selector must contain at least one non-empty matcher")
	}
	return ms, nil
}

// collectSink keeps every result series, in selection order.
type collectSink struct {
	nOut     int
	keepName bool
	out      []*timeseries
}

func (s *collectSink) ownsValues() bool { return true }

func (s *collectSink) setSize(series, _ int) { s.out = make([]*timeseries, series*s.nOut) }

func (s *collectSink) add(_, idx int, ls tsdb.Labels, rr *rollupRunner, values [][]float64) error {
	for k, o := range rr.outs {
		s.out[idx*s.nOut+k] = &timeseries{labels: rr.outputLabels(ls, o), values: values[k]}
	}
	return nil
}

// result returns the collected series.
func (s *collectSink) result() []*timeseries { return s.out }

// absentLabels returns the labels absent() and absent_over_time() give
// their result: the selector's equality matchers, metric name excepted.
func absentLabels(arg metricsql.Expr) tsdb.Labels {
	if re, ok := arg.(*metricsql.RollupExpr); ok {
		if re.ForSubquery() {
			return nil
		}
		arg = re.Expr
	}
	me, ok := arg.(*metricsql.MetricExpr)
	if !ok || len(me.LabelFilterss) != 1 {
		return nil
	}
	seen := map[string]int{}
	for _, lf := range me.LabelFilterss[0] {
		seen[lf.Label]++
	}
	var ls tsdb.Labels
	for _, lf := range me.LabelFilterss[0] {
		if lf.Label == tsdb.MetricName || lf.IsRegexp || lf.IsNegative || seen[lf.Label] > 1 {
			continue
		}
		ls = setLabel(ls, lf.Label, lf.Value)
	}
	return ls
}
