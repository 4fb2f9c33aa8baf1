package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/tsdb"
)

// Storage is what the engine and the API read; *tsdb.DB implements it.
// Every method returns series with samples in [mint, maxt] (milliseconds,
// inclusive) matching all of ms.
type Storage interface {
	// SelectWith returns the series matching any of sets, reading their
	// chunks in batches charged to o.Budget (tsdb.DB.SelectWith).
	SelectWith(ctx context.Context, o tsdb.SelectOptions, sets ...[]*tsdb.Matcher) (*tsdb.SeriesSet, error)
	LabelNames(ctx context.Context, mint, maxt int64, ms ...*tsdb.Matcher) ([]string, error)
	LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*tsdb.Matcher) ([]string, error)
	Series(ctx context.Context, mint, maxt int64, ms ...*tsdb.Matcher) ([]tsdb.Labels, error)
}

var _ Storage = (*tsdb.DB)(nil)

// Default values of Options fields left zero.
const (
	// DefaultInstantStep is the step of an instant query (VictoriaMetrics'
	// default): the implicit window of `m` and `rate(m)` at one instant.
	DefaultInstantStep = 5 * time.Minute
	// defaultSilence is how far before a window the engine still reads, to
	// find the previous sample and estimate the scrape interval.
	defaultSilence = 5 * 60 * 1000
)

// Options configures an Engine. Zero fields take DefaultConfig's values.
type Options struct {
	Timeout            time.Duration // per query
	MaxSamples         int64         // samples read plus points held, per query
	MaxMemoryPerQuery  int64         // bytes one query may hold
	MaxMemory          int64         // bytes all running queries may hold together
	MaxPointsPerSeries int           // steps of a range query
	MaxConcurrent      int           // queries evaluated at once
	// LookbackDelta, when positive, caps implicit windows and the reach of
	// the previous sample; zero follows MetricsQL's adaptive rule.
	LookbackDelta time.Duration
	// Workers is the number of goroutines a query spreads its series over;
	// zero means GOMAXPROCS.
	Workers int
	// Logger receives the engine's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock, used for now() and default API times; nil means
	// time.Now.
	Now func() time.Time
	// SlowQueryThreshold is how long a query must take to be kept in
	// SlowQueries and logged at WARN; zero means DefaultSlowQueryThreshold,
	// negative turns the slow-query log off.
	SlowQueryThreshold time.Duration
	// SlowQueries is how many slow queries are kept; zero means
	// DefaultSlowQueries.
	SlowQueries int
}

// Engine evaluates MetricsQL queries over a Storage. It is safe for
// concurrent use; at most Options.MaxConcurrent queries run at once.
type Engine struct {
	st   Storage
	opts Options
	log  *slog.Logger
	sem  chan struct{}  // one token per running query
	mem  *memLimiter    // the memory all running queries hold
	slow *slowLog       // the last slow queries (slowlog.go)
	ctr  engineCounters // running totals for /metrics (metrics.go)
	// transforms is the transform function table, read-only.
	transforms map[string]*transformSpec
	// parsed caches Parse's successes by query text: alerting rules run
	// the same queries every round. A parsed expression is read-only once
	// built (the evaluator copies the nodes it changes), so queries share
	// it. The cache is emptied when it reaches maxParsed.
	parsed struct {
		sync.Mutex
		m map[string]metricsql.Expr
	}
}

// maxParsed bounds the parse cache; ad hoc queries cannot grow it further.
const maxParsed = 4096

// parse is Parse with the engine's cache.
func (e *Engine) parse(q string) (metricsql.Expr, error) {
	e.parsed.Lock()
	expr := e.parsed.m[q]
	e.parsed.Unlock()
	if expr != nil {
		return expr, nil
	}
	expr, err := Parse(q)
	if err != nil {
		return nil, err
	}
	e.parsed.Lock()
	if e.parsed.m == nil || len(e.parsed.m) >= maxParsed {
		e.parsed.m = make(map[string]metricsql.Expr)
	}
	e.parsed.m[q] = expr
	e.parsed.Unlock()
	return expr, nil
}

// NewEngine returns an engine over st.
func NewEngine(st Storage, opts Options) *Engine {
	def := DefaultConfig()
	if opts.Timeout <= 0 {
		opts.Timeout = def.Timeout
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = def.MaxSamples
	}
	if opts.MaxMemoryPerQuery <= 0 {
		opts.MaxMemoryPerQuery = def.MaxMemoryPerQuery
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = max(def.MaxMemory, opts.MaxMemoryPerQuery)
	}
	if opts.MaxPointsPerSeries <= 0 {
		opts.MaxPointsPerSeries = def.MaxPointsPerSeries
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = def.MaxConcurrent
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SlowQueryThreshold == 0 {
		opts.SlowQueryThreshold = DefaultSlowQueryThreshold
	}
	if opts.SlowQueries <= 0 {
		opts.SlowQueries = DefaultSlowQueries
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Engine{st: st, opts: opts, log: log.With("component", "query"), sem: make(chan struct{}, opts.MaxConcurrent),
		mem: &memLimiter{limit: opts.MaxMemory}, transforms: newTransformSpecs(),
		slow: newSlowLog(opts.SlowQueryThreshold, opts.SlowQueries, opts.Now, log)}
}

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return e.opts.Now() }

// Instant evaluates q at ts. A scalar expression gives a Scalar, a string
// literal a String, anything else a Vector.
func (e *Engine) Instant(ctx context.Context, q string, ts time.Time) (Value, error) {
	return e.instant(ctx, q, ts.UnixMilli(), DefaultInstantStep.Milliseconds())
}

// Range evaluates q at start, start+step, ... up to end and returns a
// Matrix sorted by labels.
func (e *Engine) Range(ctx context.Context, q string, start, end time.Time, step time.Duration) (Value, error) {
	return e.rangeQuery(ctx, q, start.UnixMilli(), end.UnixMilli(), step.Milliseconds())
}

func (e *Engine) instant(ctx context.Context, q string, t, step int64) (_ Value, err error) {
	ctx, done := e.slow.begin(ctx, q, t, t, 0)
	defer func() { done(err) }()
	expr, err := e.parse(q)
	if err != nil {
		return nil, err
	}
	if step <= 0 {
		step = DefaultInstantStep.Milliseconds()
	}
	if se, ok := expr.(*metricsql.StringExpr); ok {
		return String{T: t, V: se.S}, nil
	}
	if re, ok := expr.(*metricsql.RollupExpr); ok && re.Window != nil {
		return e.rangeVector(ctx, re, t, step)
	}
	mem := e.mem.newQuery(e.opts.MaxMemoryPerQuery)
	defer mem.close()
	tss, err := e.exec(ctx, mem, expr, t, t, step)
	if err != nil {
		return nil, err
	}
	if isScalarExpr(expr) {
		v := nan
		if len(tss) > 0 {
			v = tss[0].values[0]
		}
		return Scalar{T: t, V: v}, nil
	}
	vec := make(Vector, 0, len(tss))
	for _, ts := range tss {
		if v := ts.values[0]; !isNaN(v) {
			vec = append(vec, Sample{Labels: ts.labels, T: t, V: v})
		}
	}
	return vec, nil
}

func (e *Engine) rangeQuery(ctx context.Context, q string, start, end, step int64) (_ Value, err error) {
	ctx, done := e.slow.begin(ctx, q, start, end, step)
	defer func() { done(err) }()
	if step <= 0 {
		return nil, errorf(ErrBadParam, "zero or negative query resolution step widths are not accepted")
	}
	if end < start {
		return nil, errorf(ErrBadParam, "end timestamp must not be before start time")
	}
	if n := (end-start)/step + 1; n > int64(e.opts.MaxPointsPerSeries) {
		return nil, fmt.Errorf("%w: %d points requested, the limit is %d; try decreasing the query resolution (?step=XX)", ErrTooManyPoints, n, e.opts.MaxPointsPerSeries)
	}
	expr, err := e.parse(q)
	if err != nil {
		return nil, err
	}
	if _, ok := expr.(*metricsql.StringExpr); ok {
		return nil, errorf(ErrBadArgument, "invalid expression type \"string\" for range query, must be Scalar or instant Vector")
	}
	mem := e.mem.newQuery(e.opts.MaxMemoryPerQuery)
	defer mem.close()
	tss, err := e.exec(ctx, mem, expr, start, end, step)
	if err != nil {
		return nil, err
	}
	if err := mem.Reserve(matrixBytes(tss)); err != nil {
		return nil, err
	}
	grid := makeGrid(start, end, step)
	m := make(Matrix, 0, len(tss))
	for _, ts := range tss {
		var pts []Point
		for i, v := range ts.values {
			if !isNaN(v) {
				if pts == nil {
					pts = make([]Point, 0, len(ts.values)-i)
				}
				pts = append(pts, Point{T: grid[i], V: v})
			}
		}
		if pts != nil {
			m = append(m, Series{Labels: ts.labels, Points: pts})
		}
	}
	sortMatrix(m)
	return m, nil
}

// exec evaluates expr over the grid start..end by step, holding a
// concurrency slot and the timeout, and returns non-empty series with no
// duplicate label sets, sorted unless the query orders its own result.
// mem is the query's memory account; the caller closes it once done
// with the result.
func (e *Engine) exec(ctx context.Context, mem *queryMem, expr metricsql.Expr, start, end, step int64) ([]*timeseries, error) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctxError(ctx, "wait for a query slot")
	}
	defer func() { <-e.sem }()

	ev := newEvaluator(ctx, e, mem)
	ec := newEvalConfig(start, end, step)
	tss, err := ev.safeEval(ec, expr)
	traceSamples(ctx, ev.samples.Load())
	e.ctr.queries.Add(1)
	e.ctr.samples.Add(ev.samples.Load())
	if err != nil {
		e.ctr.failed.Add(1)
		if cerr := ctx.Err(); cerr != nil {
			return nil, ctxError(ctx, "evaluate")
		}
		return nil, err
	}
	tss = removeEmpty(tss)
	if maySort(expr) {
		sortByLabels(tss)
	}
	return mergeDuplicates(tss)
}

// mergeDuplicates merges series with equal label sets whose points do
// not overlap (a series whose name was dropped, seen under two names at
// different times) and fails when they do overlap.
func mergeDuplicates(tss []*timeseries) ([]*timeseries, error) {
	seen := make(map[string]*timeseries, len(tss))
	out := tss[:0]
	var key []byte
	for _, ts := range tss {
		key = appendLabelsKey(key[:0], ts.labels)
		prev := seen[string(key)]
		if prev == nil {
			seen[string(key)] = ts
			out = append(out, ts)
			continue
		}
		for i, v := range ts.values {
			if isNaN(v) {
				continue
			}
			if !isNaN(prev.values[i]) {
				return nil, errorf(ErrDuplicateSeries, "vector cannot contain metrics with the same labelset %s", labelsString(ts.labels))
			}
			prev.values[i] = v
		}
	}
	return out, nil
}

// safeEval is eval that turns a panic (an evaluator bug) into an error,
// so one bad query cannot take the process down.
func (ev *evaluator) safeEval(ec *evalConfig, expr metricsql.Expr) (tss []*timeseries, err error) {
	defer func() {
		if r := recover(); r != nil {
			tss, err = nil, fmt.Errorf("evaluate %s: internal error: %v", expr.AppendString(nil), r)
			ev.e.log.Error("query evaluation panicked", "query", string(expr.AppendString(nil)), "err", r)
		}
	}()
	return ev.eval(ec, expr)
}

// ctxError turns a done context into ErrTimeout or ErrCanceled.
func ctxError(ctx context.Context, op string) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return errorf(ErrTimeout, "%s", op)
	}
	return errorf(ErrCanceled, "%s", op)
}

// matrixBytes is the memory of the Matrix built from tss: a Point for each
// value, a header for each series with one.
func matrixBytes(tss []*timeseries) int64 {
	var n int64
	for _, ts := range tss {
		k := 0
		for _, v := range ts.values {
			if !isNaN(v) {
				k++
			}
		}
		if k > 0 {
			n += seriesOverhead + int64(k)*matrixPtBytes
		}
	}
	return n
}

// makeGrid returns the step timestamps start, start+step, ... <= end.
func makeGrid(start, end, step int64) []int64 {
	n := (end-start)/step + 1
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step
	}
	return ts
}

// maySort reports whether the result should be sorted by labels: not when
// the query's outermost function orders it (sort, topk, ...).
func maySort(e metricsql.Expr) bool {
	switch t := e.(type) {
	case *metricsql.FuncExpr:
		switch lower(t.Name) {
		case "sort", "sort_desc", "sort_by_label", "sort_by_label_desc",
			"sort_by_label_numeric", "sort_by_label_numeric_desc":
			return false
		}
	case *metricsql.AggrFuncExpr:
		switch lower(t.Name) {
		case "topk", "bottomk", "outliersk", "topk_max", "topk_min", "topk_avg",
			"topk_median", "topk_last", "bottomk_max", "bottomk_min", "bottomk_avg",
			"bottomk_median", "bottomk_last":
			return false
		}
	}
	return true
}

// InstantVector evaluates q at ts as a Vector, the form alerting rules
// need: a Scalar becomes one label-less sample, a NaN scalar nothing;
// strings and range vectors are errors.
func (e *Engine) InstantVector(ctx context.Context, q string, ts time.Time) (Vector, error) {
	v, err := e.Instant(ctx, q, ts)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case Vector:
		return v, nil
	case Scalar:
		if isNaN(v.V) {
			return Vector{}, nil
		}
		return Vector{{T: v.T, V: v.V}}, nil
	}
	return nil, errorf(ErrBadArgument, "query %q gives a %s, not an instant vector", q, v.Type())
}
