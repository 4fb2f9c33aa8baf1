package query

import (
	"fmt"
	"sync/atomic"

	"outpost/tsdb"
)

// Memory accounting: every query has a queryMem, charged before memory is
// taken for the chunks its selects read (by tsdb, batch by batch), the
// points it holds (each series of a result, intermediate or final: 8
// bytes a step) and its aggregation states. A charge over the query's own
// limit (query.max_memory_per_query) or over the engine's limit for every
// query running at once (query.max_memory) fails with ErrMemoryLimit, so
// a query that cannot fit stops before it allocates what it asked for.
//
// The account is an estimate: small things (labels of results, maps,
// scratch buffers of a worker) are left out, and what a query frees before
// it ends is given back only for chunk batches.

// Bytes charged per held value: a point of a series on the step grid, and
// a Point of a Matrix or of a raw range vector.
const (
	pointBytes     = 8
	matrixPtBytes  = 16
	seriesOverhead = 128 // a timeseries or Series header with its labels
)

// memLimiter is the engine's account of the memory all running queries
// hold; used is atomic.
type memLimiter struct {
	limit int64
	used  atomic.Int64
}

// queryMem is one query's account; it implements tsdb.ReadBudget and is
// safe for concurrent use by the query's workers. close gives everything
// back to the engine.
type queryMem struct {
	global *memLimiter
	limit  int64
	used   atomic.Int64
}

var _ tsdb.ReadBudget = (*queryMem)(nil)

func (l *memLimiter) newQuery(limit int64) *queryMem {
	return &queryMem{global: l, limit: limit}
}

// Reserve takes n bytes from the query's and the engine's account, or
// fails with ErrMemoryLimit and takes nothing.
func (q *queryMem) Reserve(n int64) error {
	if n <= 0 {
		return nil
	}
	if u := q.used.Add(n); u > q.limit {
		q.used.Add(-n)
		return errorf(ErrMemoryLimit, "the query needs more than query.max_memory_per_query (%s) to hold its data (%s); "+
			"select fewer series, use a shorter range or a larger step, or raise query.max_memory_per_query",
			formatBytes(q.limit), asked(u-n, n))
	}
	if g := q.global.used.Add(n); g > q.global.limit {
		q.global.used.Add(-n)
		q.used.Add(-n)
		return errorf(ErrMemoryLimit, "the queries running at once need more than query.max_memory (%s) to hold their data (%s); "+
			"retry when fewer queries run, or raise query.max_memory",
			formatBytes(q.global.limit), asked(g-n, n))
	}
	return nil
}

// asked says how much is held and how much more was asked.
func asked(held, n int64) string {
	if held == 0 {
		return formatBytes(n) + " asked"
	}
	return formatBytes(held) + " held, " + formatBytes(n) + " more asked"
}

// Release gives n bytes back.
func (q *queryMem) Release(n int64) {
	if n <= 0 {
		return
	}
	q.used.Add(-n)
	q.global.used.Add(-n)
}

// close gives back everything the query still holds. The query's
// goroutines must have ended.
func (q *queryMem) close() {
	q.global.used.Add(-q.used.Swap(0))
}

// formatBytes renders n in binary units, as config sizes are written.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
