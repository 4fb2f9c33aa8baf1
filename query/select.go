package query

import (
	"context"
	"fmt"
	"sync"
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
	// ordered reports whether add needs the series in label order. A sink
	// that folds them into groups does not, and the store then reads their
	// labels a batch at a time instead of all before the first.
	ordered() bool
}

// rollupSelect selects the series of me and runs rr over each, spreading
// the series over the engine's workers. The store reads the series a batch
// at a time, charged to the query's memory account; the workers run over
// one batch, then the next is read. Each worker reads one series at a
// time, so memory holds one batch, one series' window per worker and the
// results, whose points a sink that keeps them charges before the first
// series is read.
func (ev *evaluator) rollupSelect(ec *evalConfig, me *metricsql.MetricExpr, rr *rollupRunner, sink seriesSink) error {
	maxt := max(rr.grid[len(rr.grid)-1], rr.end)
	mint := rr.grid[0] - max(rr.window, rr.step) - defaultSilence
	if rr.windowOnly {
		mint = rr.grid[0] - rr.window
	}
	ss, err := ev.selectSeries(mint, maxt, me, !sink.ordered())
	if err != nil {
		return err
	}
	n := ss.Len()
	workers := min(ev.e.opts.Workers, n)
	sink.setSize(n, workers)
	if n == 0 {
		return nil
	}
	if sink.ownsValues() {
		if err := ev.hold(n*len(rr.outs), len(rr.grid)); err != nil {
			return fmt.Errorf("%s: %d series of %d points: %w", me.AppendString(nil), n, len(rr.grid), err)
		}
	}
	ws := make([]rollupWorker, workers)
	base := 0
	for batch := ss.NextBatch(); batch != nil; batch = ss.NextBatch() {
		g, gctx := errgroup.WithContext(ev.ctx)
		var next atomic.Int64
		for w := range min(workers, len(batch)) {
			g.Go(func() error { return ws[w].run(gctx, ev, w, base, batch, &next, rr, sink) })
		}
		if err := g.Wait(); err != nil {
			return err
		}
		base += len(batch)
	}
	if err := ss.Err(); err != nil {
		return fmt.Errorf("select %s: %w", me.AppendString(nil), err)
	}
	return nil
}

// rollupWorker is one worker's state, kept from batch to batch.
type rollupWorker struct {
	dst [][]float64
	c   cursor
	sit *tsdb.Iterator
}

// run takes series of batch (numbered from base) until none is left and
// runs rr over each into sink.
func (w *rollupWorker) run(ctx context.Context, ev *evaluator, worker, base int, batch []tsdb.Series, next *atomic.Int64,
	rr *rollupRunner, sink seriesSink) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rollup worker: internal error: %v", r)
		}
	}()
	if w.dst == nil {
		w.dst = make([][]float64, len(rr.outs))
	}
	for {
		i := int(next.Add(1) - 1)
		if i >= len(batch) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if sink.ownsValues() || w.dst[0] == nil {
			if !sink.ownsValues() { // a sink that keeps them had them charged at once
				if err := ev.hold(len(rr.outs), len(rr.grid)); err != nil {
					return err
				}
			}
			for k := range w.dst {
				w.dst[k] = make([]float64, len(rr.grid))
			}
		}
		w.sit = batch[i].ReuseIterator(w.sit)
		n, err := rr.run(w.sit, w.dst, &w.c)
		if err != nil {
			return fmt.Errorf("read %s: %w", batch[i].Labels, err)
		}
		if err := ev.charge(n); err != nil {
			return err
		}
		if ds, ok := sink.(*dynSink); ok {
			if err := ds.addDyn(base+i, batch[i].Labels, rr, &w.c.dyn); err != nil {
				return err
			}
			continue
		}
		if err := sink.add(worker, base+i, batch[i].Labels, rr, w.dst); err != nil {
			return err
		}
	}
}

// selectSeries selects the series matching me with samples in [mint,
// maxt], sorted by labels unless unsorted; the series of `or` filter
// groups are merged, each once. The set reads its chunks in batches
// charged to the query's memory account.
func (ev *evaluator) selectSeries(mint, maxt int64, me *metricsql.MetricExpr, unsorted bool) (*tsdb.SeriesSet, error) {
	sets := make([][]*tsdb.Matcher, 0, len(me.LabelFilterss))
	for _, lfs := range me.LabelFilterss {
		ms, err := toMatchers(lfs)
		if err != nil {
			return nil, err
		}
		sets = append(sets, ms)
	}
	ss, err := ev.e.st.SelectWith(ev.ctx, tsdb.SelectOptions{Mint: mint, Maxt: maxt, Budget: ev.mem, Unsorted: unsorted}, sets...)
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", me.AppendString(nil), err)
	}
	return ss, nil
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
		m, err := newMatcher(t, lf.Label, lf.Value)
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

// regexpMatchers caches the compiled regexp matchers of toMatchers:
// alerting rules run the same selectors every round, and compiling their
// regexps again was a tenth of the CPU of a round of 1,000 rules. A Matcher
// is immutable and its regexp safe for concurrent use. The cache is
// emptied when it reaches maxRegexpMatchers, so ad hoc queries cannot
// grow it without bound.
var regexpMatchers struct {
	sync.Mutex
	m map[regexpMatcherKey]*tsdb.Matcher
}

type regexpMatcherKey struct {
	t           tsdb.MatchType
	name, value string
}

const maxRegexpMatchers = 4096

// newMatcher is tsdb.NewMatcher, regexp matchers from the cache.
func newMatcher(t tsdb.MatchType, name, value string) (*tsdb.Matcher, error) {
	if t != tsdb.MatchRegexp && t != tsdb.MatchNotRegexp {
		return tsdb.NewMatcher(t, name, value)
	}
	k := regexpMatcherKey{t, name, value}
	regexpMatchers.Lock()
	m := regexpMatchers.m[k]
	regexpMatchers.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := tsdb.NewMatcher(t, name, value)
	if err != nil {
		return nil, err
	}
	regexpMatchers.Lock()
	if regexpMatchers.m == nil || len(regexpMatchers.m) >= maxRegexpMatchers {
		regexpMatchers.m = make(map[regexpMatcherKey]*tsdb.Matcher)
	}
	regexpMatchers.m[k] = m
	regexpMatchers.Unlock()
	return m, nil
}

// collectSink keeps every result series, in selection order.
type collectSink struct {
	nOut     int
	keepName bool
	out      []*timeseries
}

func (s *collectSink) ownsValues() bool { return true }

func (s *collectSink) ordered() bool { return true }

func (s *collectSink) setSize(series, _ int) { s.out = make([]*timeseries, series*s.nOut) }

func (s *collectSink) add(_, idx int, ls tsdb.Labels, rr *rollupRunner, values [][]float64) error {
	for k, o := range rr.outs {
		s.out[idx*s.nOut+k] = &timeseries{labels: rr.outputLabels(ls, o), values: values[k]}
	}
	return nil
}

// result returns the collected series, without the slots of selected
// series the store found empty when it read them.
func (s *collectSink) result() []*timeseries {
	out := s.out[:0]
	for _, ts := range s.out {
		if ts != nil {
			out = append(out, ts)
		}
	}
	clear(s.out[len(out):])
	return out
}

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
