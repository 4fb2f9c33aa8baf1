package tsdb

import (
	"errors"
	"fmt"
)

// Errors returned when opening and closing the store.
var (
	// ErrClosed is returned by every method of a DB after Close.
	ErrClosed = errors.New("tsdb: closed")
)

// Errors that reject one point of a write. Write wraps them in a
// *PartialWriteError; the other points of the same call are written.
var (
	// ErrNoMetricName means the series has no __name__ label.
	ErrNoMetricName = errors.New("series has no metric name")
	// ErrEmptyLabelName means a label has an empty name.
	ErrEmptyLabelName = errors.New("series has an empty label name")
	// ErrUnsortedLabels means the labels are not sorted by name or repeat a name.
	ErrUnsortedLabels = errors.New("series labels are not sorted or not unique")
	// ErrTooManySeries means the point would create a series beyond the
	// configured cardinality limit (storage.max_series). Existing series keep
	// accepting samples.
	ErrTooManySeries = errors.New("too many series")
	// ErrOutOfBounds means the timestamp is older than the retention period or
	// too far in the future.
	ErrOutOfBounds = errors.New("timestamp out of bounds")
	// ErrInvalidValue is never returned for NaN or Inf, which are stored as
	// they are; it is reserved for values the store cannot represent.
	ErrInvalidValue = errors.New("invalid value")
)

// Errors that reject a whole write. Nothing of that call was written, and the
// caller may retry.
var (
	// ErrOverloaded means the write queue is full; callers should answer 503
	// with Retry-After so that senders retry later.
	ErrOverloaded = errors.New("tsdb: overloaded, retry later")
	// ErrUnavailable means the write-ahead log cannot append (the disk is
	// full or failing): nothing was written, the store retries in the
	// background and resumes by itself, and callers should answer 503 with
	// Retry-After as for ErrOverloaded.
	ErrUnavailable = errors.New("tsdb: storage unavailable, retry later")
)

// PartialWriteError reports the points of one Write call that were dropped.
// Every other point of the call was written and is durable.
type PartialWriteError struct {
	Dropped int   // how many points were rejected
	First   error // why the first one was, naming the series
}

// Error implements error.
func (e *PartialWriteError) Error() string {
	return fmt.Sprintf("%v (dropped %d)", e.First, e.Dropped)
}

// Unwrap returns the first point's error, so errors.Is(err, ErrTooManySeries) works.
func (e *PartialWriteError) Unwrap() error { return e.First }
