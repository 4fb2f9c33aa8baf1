package collectors

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// ErrExceedsBudget is returned by Budget.Acquire for a reservation larger
// than the whole budget, which no wait could ever grant.
var ErrExceedsBudget = errors.New("reservation exceeds the whole budget")

// Budget is a count of bytes that the goroutines of one listener reserve
// before they allocate memory for what they receive (read buffers, batches
// of points, queued datagrams) and give back once that memory is no longer
// theirs: admission before allocation, so that a listener never holds more
// than its budget however many senders push at once (issue 8).
//
// Reservations are granted first come, first served: TryAcquire fails
// while anyone waits, so a stream of small reservations cannot starve a
// larger one that waits. A TCP listener waits (Acquire) and so stops
// reading its socket, which slows the sender down; a UDP listener cannot
// slow its senders and drops what does not fit (TryAcquire).
//
// A Budget is safe for concurrent use. Its Usage (the high-water mark
// among others) is for statistics and tests.
type Budget struct {
	max     int64
	waiting atomic.Int64 // len(waiters), readable without mu

	mu      sync.Mutex // guards the fields below
	used    int64      // bytes reserved now
	peak    int64      // the most ever reserved at once
	waits   uint64     // reservations that had to wait
	waiters list.List  // of *budgetWaiter, in arrival order
}

// budgetWaiter is one Acquire waiting for its bytes.
type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the bytes are reserved for the waiter
}

// BudgetUsage is a snapshot of a Budget.
type BudgetUsage struct {
	Max   int64  // the budget
	Used  int64  // bytes reserved at the time of the snapshot
	Peak  int64  // the most bytes ever reserved at once; never above Max
	Waits uint64 // reservations that waited for bytes to be given back
}

// NewBudget returns a budget of max bytes.
func NewBudget(max int64) *Budget {
	return &Budget{max: max}
}

// Max returns the size of the budget in bytes.
func (b *Budget) Max() int64 { return b.max }

// Contended reports whether a reservation is waiting for bytes: holders
// that can give memory back early (a batch that could be written now)
// should do so.
func (b *Budget) Contended() bool { return b.waiting.Load() > 0 }

// TryAcquire reserves n bytes if they fit now and nobody is waiting, and
// reports whether it did. It never blocks.
func (b *Budget) TryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() > 0 || b.used+n > b.max {
		return false
	}
	b.takeLocked(n)
	return true
}

// Acquire reserves n bytes, waiting in turn until they are given back by
// others or ctx is done; it then returns ctx's error, having reserved
// nothing. A reservation larger than the budget fails at once with
// ErrExceedsBudget.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	if n > b.max {
		return fmt.Errorf("reserve %d bytes of %d: %w", n, b.max, ErrExceedsBudget)
	}
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.max {
		b.takeLocked(n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	e := b.waiters.PushBack(w)
	b.waiting.Add(1)
	b.waits++
	b.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while ctx ended: keep it, the caller owns it now
		return nil
	default:
	}
	first := b.waiters.Front() == e
	b.waiters.Remove(e)
	b.waiting.Add(-1)
	if first {
		b.grantLocked() // the waiters behind may fit where this one did not
	}
	return ctx.Err()
}

// Release gives back n bytes reserved by TryAcquire or Acquire, and grants
// the waiters that now fit, in order.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	if b.used < 0 {
		panic(fmt.Sprintf("collectors: budget released %d bytes more than reserved", -b.used))
	}
	b.grantLocked()
}

// Usage returns a snapshot of the budget.
func (b *Budget) Usage() BudgetUsage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BudgetUsage{Max: b.max, Used: b.used, Peak: b.peak, Waits: b.waits}
}

// takeLocked reserves n bytes that fit. b.mu must be held.
func (b *Budget) takeLocked(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// grantLocked reserves bytes for the waiters at the head of the queue, as
// long as the first one fits. b.mu must be held.
func (b *Budget) grantLocked() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.max {
			return
		}
		b.takeLocked(w.n)
		b.waiters.Remove(e)
		b.waiting.Add(-1)
		close(w.ready)
	}
}
