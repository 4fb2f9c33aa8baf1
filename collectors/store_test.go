package collectors

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"outpost/tsdb"
)

// writerFunc is a Writer made of a function, standing for the store.
type writerFunc func(ctx context.Context, pts []tsdb.Point) error

func (f writerFunc) Write(ctx context.Context, pts []tsdb.Point) error { return f(ctx, pts) }

func TestStore(t *testing.T) {
	pts := make([]tsdb.Point, 3)
	f := func(name string, errs []error, wantCalls int, wantSamples uint64, reason string, wantRejected uint64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			st := NewStats("test")
			calls := 0
			w := writerFunc(func(context.Context, []tsdb.Point) error {
				calls++
				if calls <= len(errs) {
					return errs[calls-1]
				}
				return nil
			})
			err := Store(context.Background(), w, st, pts, Retry{Tries: 3, Pause: time.Millisecond})
			if calls != wantCalls || st.Samples.Load() != wantSamples {
				t.Fatalf("calls %d samples %d (err %v), want %d and %d", calls, st.Samples.Load(), err, wantCalls, wantSamples)
			}
			var got uint64
			for _, r := range st.Rejections() {
				if r.What == "samples" && r.Reason == reason {
					got = r.N
				}
			}
			if got != wantRejected {
				t.Fatalf("rejected %v, want %d samples as %q", st.Rejections(), wantRejected, reason)
			}
			if (err == nil) != (wantSamples == 3) {
				t.Fatalf("err %v with %d samples written", err, wantSamples)
			}
		})
	}
	f("written", nil, 1, 3, "", 0)
	f("overloaded, then written", []error{tsdb.ErrOverloaded, tsdb.ErrOverloaded}, 3, 3, "", 0)
	f("overloaded for good", []error{tsdb.ErrOverloaded, tsdb.ErrOverloaded, tsdb.ErrOverloaded}, 3, 0, "overloaded", 3)
	f("unavailable, then written", []error{fmt.Errorf("wal: %w", tsdb.ErrUnavailable)}, 2, 3, "", 0)
	f("unavailable for good", []error{tsdb.ErrUnavailable, tsdb.ErrUnavailable, tsdb.ErrUnavailable}, 3, 0, "unavailable", 3)
	f("partial", []error{&tsdb.PartialWriteError{Dropped: 1, First: fmt.Errorf("s: %w", tsdb.ErrTooManySeries)}}, 1, 2, "too_many_series", 1)
	f("store error", []error{errors.New("disk on fire")}, 1, 0, "store_error", 3)
}

func TestStore_ShutdownStopsRetrying(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st := NewStats("test")
	calls := 0
	w := writerFunc(func(context.Context, []tsdb.Point) error { calls++; return tsdb.ErrOverloaded })
	if err := Store(ctx, w, st, make([]tsdb.Point, 2), Retry{Tries: 5, Pause: time.Hour}); !errors.Is(err, tsdb.ErrOverloaded) || calls != 1 {
		t.Fatalf("err %v after %d calls, want ErrOverloaded after 1", err, calls)
	}
}

func TestDropReason(t *testing.T) {
	f := func(err error, want string) {
		t.Helper()
		if got := DropReason(err); got != want {
			t.Fatalf("DropReason(%v) = %q, want %q", err, got, want)
		}
	}
	f(tsdb.ErrOverloaded, "overloaded")
	f(fmt.Errorf("append: %w", tsdb.ErrUnavailable), "unavailable")
	f(fmt.Errorf("x: %w", tsdb.ErrTooManySeries), "too_many_series")
	f(tsdb.ErrOutOfBounds, "out_of_bounds")
	f(tsdb.ErrUnsortedLabels, "invalid_series")
	f(tsdb.ErrInvalidValue, "invalid_value")
	f(context.Canceled, "shutdown")
	f(tsdb.ErrClosed, "store_error")
}
