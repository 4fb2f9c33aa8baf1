package collectors

import (
	"context"
	"errors"
	"time"

	"outpost/tsdb"
)

// Retry is how a listener retries a write the store refused for now
// (tsdb.ErrOverloaded, or tsdb.ErrUnavailable while the WAL cannot append):
// Tries attempts in all, the pause before the second Pause, doubling after.
type Retry struct {
	Tries int
	Pause time.Duration
}

// Store writes pts through w, retrying while the store refuses the write
// for now (Retryable), and counts in st the samples written and those
// dropped, by DropReason. It returns nil when every point was written, else
// the store's error (a *tsdb.PartialWriteError when only some were
// dropped), for the caller's log summary. Store is what the socket
// listeners share; the HTTP write API answers 503 instead of retrying.
func Store(ctx context.Context, w Writer, st *Stats, pts []tsdb.Point, r Retry) error {
	pause := r.Pause
	for try := 1; ; try++ {
		err := w.Write(ctx, pts)
		var pwe *tsdb.PartialWriteError
		switch {
		case err == nil:
			st.Samples.Add(uint64(len(pts)))
			return nil
		case errors.As(err, &pwe):
			dropped := min(max(pwe.Dropped, 0), len(pts))
			st.Samples.Add(uint64(len(pts) - dropped))
			if dropped > 0 {
				st.Reject("samples", DropReason(pwe.First), uint64(dropped))
			}
			return err
		case Retryable(err) && try < r.Tries && Sleep(ctx, pause):
			pause *= 2
			continue
		}
		st.Reject("samples", DropReason(err), uint64(len(pts)))
		return err
	}
}

// Retryable reports whether the store refused a whole write for now, so
// that the same write may succeed later: tsdb.ErrOverloaded (every write
// slot taken) or tsdb.ErrUnavailable (the WAL cannot append, e.g. a full
// disk). Listeners retry these; the HTTP write API answers them 503 with
// Retry-After.
func Retryable(err error) bool {
	return errors.Is(err, tsdb.ErrOverloaded) || errors.Is(err, tsdb.ErrUnavailable)
}

// DropReason names why the store refused points, for Stats: overloaded,
// unavailable, too_many_series, out_of_bounds, invalid_series,
// invalid_value, shutdown (the context ended) or store_error.
func DropReason(err error) string {
	switch {
	case errors.Is(err, tsdb.ErrOverloaded):
		return "overloaded"
	case errors.Is(err, tsdb.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, tsdb.ErrTooManySeries):
		return "too_many_series"
	case errors.Is(err, tsdb.ErrOutOfBounds):
		return "out_of_bounds"
	case errors.Is(err, tsdb.ErrNoMetricName), errors.Is(err, tsdb.ErrEmptyLabelName),
		errors.Is(err, tsdb.ErrUnsortedLabels):
		return "invalid_series"
	case errors.Is(err, tsdb.ErrInvalidValue):
		return "invalid_value"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "shutdown"
	}
	return "store_error"
}

// Sleep waits d, or until ctx is done; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
