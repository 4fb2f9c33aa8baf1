package query

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Slow queries: the engine keeps the last few queries that took at least
// Options.SlowQueryThreshold (query.slow_query_threshold) for the status
// page, and logs each one at WARN when it finishes. Every query the engine
// runs counts: the Prometheus API's, the pages', alert rules'.

// Defaults of the slow-query log.
const (
	// DefaultSlowQueryThreshold is the threshold when Options leaves it zero.
	DefaultSlowQueryThreshold = time.Second
	// DefaultSlowQueries is how many slow queries are kept when Options
	// leaves SlowQueries zero.
	DefaultSlowQueries = 20
	// maxSlowQueryText bounds the bytes of a query's text kept and logged.
	maxSlowQueryText = 2048
)

// SlowQuery is one query that took at least the slow-query threshold.
type SlowQuery struct {
	// Query is the query's text, cut to 2 KiB.
	Query string
	// Instant is set for an instant query, evaluated at End (Start is then
	// End too and Step is zero).
	Instant    bool
	Start, End time.Time
	Step       time.Duration
	// Duration is how long the query took, from its start to its answer.
	Duration time.Duration
	// Samples is what the query counted against query.max_samples: the
	// raw samples it read plus the points it held.
	Samples int64
	// Err is the query's error, empty when it succeeded.
	Err string
	// At is when the query finished, by the engine's clock.
	At time.Time
}

// slowLog keeps the last slow queries in a ring. It is safe for
// concurrent use; its memory is bounded by the ring's length and
// maxSlowQueryText.
type slowLog struct {
	threshold time.Duration // <= 0: off
	now       func() time.Time
	log       *slog.Logger

	mu   sync.Mutex // guards ring, next and n
	ring []SlowQuery
	next int // where the next query goes
	n    int // queries in the ring
}

func newSlowLog(threshold time.Duration, n int, now func() time.Time, log *slog.Logger) *slowLog {
	return &slowLog{threshold: threshold, now: now, log: log, ring: make([]SlowQuery, n)}
}

// queryTrace gathers what a query's evaluators count, for its record.
type queryTrace struct{ samples atomic.Int64 }

type traceKey struct{}

// traceSamples adds n to the sample count of the query that ctx belongs
// to, if it is traced.
func traceSamples(ctx context.Context, n int64) {
	if tr, ok := ctx.Value(traceKey{}).(*queryTrace); ok {
		tr.samples.Add(n)
	}
}

// begin starts timing query q over [start, end] by step (zero for an
// instant query) and returns the context its evaluation runs in and the
// function that ends it with its error, recording it when it was slow.
func (l *slowLog) begin(ctx context.Context, q string, start, end, step int64) (context.Context, func(error)) {
	if l.threshold <= 0 || len(l.ring) == 0 {
		return ctx, func(error) {}
	}
	tr := &queryTrace{}
	ctx = context.WithValue(ctx, traceKey{}, tr)
	began := time.Now()
	return ctx, func(err error) {
		d := time.Since(began)
		if d < l.threshold {
			return
		}
		sq := SlowQuery{Query: cut(q, maxSlowQueryText), Instant: step == 0, Start: time.UnixMilli(start).UTC(),
			End: time.UnixMilli(end).UTC(), Step: time.Duration(step) * time.Millisecond, Duration: d,
			Samples: tr.samples.Load(), At: l.now()}
		if err != nil {
			sq.Err = err.Error()
		}
		l.add(sq)
	}
}

// add keeps sq, dropping the oldest kept, and logs it.
func (l *slowLog) add(sq SlowQuery) {
	l.mu.Lock()
	l.ring[l.next] = sq
	l.next = (l.next + 1) % len(l.ring)
	l.n = min(l.n+1, len(l.ring))
	l.mu.Unlock()
	attrs := []any{"query", sq.Query, "duration", sq.Duration, "samples", sq.Samples, "threshold", l.threshold}
	if sq.Instant {
		attrs = append(attrs, "time", sq.End)
	} else {
		attrs = append(attrs, "start", sq.Start, "end", sq.End, "step", sq.Step)
	}
	if sq.Err != "" {
		attrs = append(attrs, "err", sq.Err)
	}
	l.log.Warn("slow query", attrs...)
}

// list returns the kept queries, newest first.
func (l *slowLog) list() []SlowQuery {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]SlowQuery, 0, l.n)
	for i := 1; i <= l.n; i++ {
		out = append(out, l.ring[(l.next-i+len(l.ring))%len(l.ring)])
	}
	return out
}

// SlowQueries returns the last queries (at most Options.SlowQueries) that
// took at least Options.SlowQueryThreshold, newest first.
func (e *Engine) SlowQueries() []SlowQuery { return e.slow.list() }

// SlowQueryThreshold returns how long a query must take to be kept among
// the slow queries; zero or negative when the slow-query log is off.
func (e *Engine) SlowQueryThreshold() time.Duration { return e.slow.threshold }

// cut returns s cut to at most n bytes on a rune boundary, with "…" when
// it was cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
