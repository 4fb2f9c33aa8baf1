package wal

import (
	"context"
	"fmt"
	"time"
)

// pendingReq is one Log call, or one Cut, in the queue.
type pendingReq struct {
	end int     // end offset of the call's frames in the pending buffer
	cut bool    // a Cut: start a new segment here
	wt  *waiter // woken when the call is committed or has failed
}

// waiter carries the outcome of one queued call back to its caller.
type waiter struct {
	done chan struct{} // cap 1
	seg  int
	err  error
}

// finish reports the outcome and wakes the caller.
func (wt *waiter) finish(seg int, err error) {
	wt.seg, wt.err = seg, err
	wt.done <- struct{}{}
}

// Log appends recs to the log as one unit and returns once they are on
// stable storage, with the number of the segment that holds them all. The
// records of one call land in one segment, in order.
//
// Log copies the records' data before it returns. While more than
// Options.MaxPendingBytes are queued, Log waits for room and gives up with
// ctx's error when ctx is done. Once queued, a call is not abandoned: Log
// waits for its commit (at most one write and one fdatasync away), so that an
// error always means the call was not acknowledged and success means durable.
// An error wrapping ErrWriteFailed means the records may or may not be on disk
// and the WAL takes no more writes.
//
// Log with no records does nothing and returns the current segment.
func (w *WAL) Log(ctx context.Context, recs ...Record) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("log records: %w", err)
	}
	if len(recs) == 0 {
		w.mu.Lock()
		defer w.mu.Unlock()
		if err := w.usableLocked(); err != nil {
			return 0, fmt.Errorf("log records: %w", err)
		}
		return w.cur, nil
	}
	enc := w.encoders.Get().(*encoder)
	size, err := enc.encode(recs, w.opts.Compress)
	if err != nil {
		enc.reset()
		w.encoders.Put(enc)
		return 0, fmt.Errorf("log records: %w", err)
	}
	wt := w.waiters.Get().(*waiter)
	err = w.enqueue(ctx, enc, size, wt)
	enc.reset()
	w.encoders.Put(enc)
	if err != nil {
		w.waiters.Put(wt)
		return 0, fmt.Errorf("log records: %w", err)
	}
	<-wt.done
	seg, err := wt.seg, wt.err
	wt.err = nil
	w.waiters.Put(wt)
	if err != nil {
		return 0, fmt.Errorf("log records: %w", err)
	}
	return seg, nil
}

// enqueue copies enc's frames into the pending buffer, waiting for room.
func (w *WAL) enqueue(ctx context.Context, enc *encoder, size int, wt *waiter) error {
	for {
		w.mu.Lock()
		if err := w.usableLocked(); err != nil {
			w.mu.Unlock()
			return err
		}
		if len(w.pend) == 0 || len(w.pend)+size <= w.opts.MaxPendingBytes {
			w.pend = enc.appendTo(w.pend)
			w.reqs = append(w.reqs, pendingReq{end: len(w.pend), wt: wt})
			w.mu.Unlock()
			w.kick()
			return nil
		}
		w.spaceWanted = true
		space := w.space
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for queue space: %w", ctx.Err())
		case <-space:
		}
	}
}

// Cut finishes the current segment and starts a new one, and returns the new
// segment's number. Every Log that returned before Cut was called is in a
// lower segment. If the current segment is still empty, Cut keeps it and
// returns its number. Cut waits for the commits queued before it (not for
// queue space, so it takes no context).
func (w *WAL) Cut() (int, error) {
	wt := w.waiters.Get().(*waiter)
	w.mu.Lock()
	if err := w.usableLocked(); err != nil {
		w.mu.Unlock()
		w.waiters.Put(wt)
		return 0, fmt.Errorf("cut segment: %w", err)
	}
	w.reqs = append(w.reqs, pendingReq{end: len(w.pend), cut: true, wt: wt})
	w.mu.Unlock()
	w.kick()
	<-wt.done
	seg, err := wt.seg, wt.err
	wt.err = nil
	w.waiters.Put(wt)
	if err != nil {
		return 0, fmt.Errorf("cut segment: %w", err)
	}
	return seg, nil
}

// kick wakes the writer without blocking.
func (w *WAL) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: it commits the queue until Close and an empty
// queue. While the WAL cannot append it also makes the recovery attempts, on
// a timer that backs off from retryMin to retryMax.
func (w *WAL) run() {
	retry := time.NewTimer(retryMin)
	retry.Stop()
	defer retry.Stop()
	armed := false
	for {
		select {
		case <-w.wake:
		case <-retry.C:
			armed = false
			w.recover()
		}
		for {
			buf, reqs, closed := w.take()
			if len(reqs) == 0 {
				if closed {
					return
				}
				break
			}
			if w.hooks.beforeCommit != nil {
				w.hooks.beforeCommit()
			}
			w.commit(buf, reqs)
			w.giveBack(buf, reqs)
		}
		if w.retry.failing && !armed {
			retry.Reset(w.retry.delay)
			armed = true
		}
	}
}

// take swaps the queue for the spare buffers and tells waiting Logs that
// there is room again.
func (w *WAL) take() (buf []byte, reqs []pendingReq, closed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf, reqs = w.pend, w.reqs
	w.pend, w.reqs = w.spareBuf, w.spareReqs
	w.spareBuf, w.spareReqs = nil, nil
	if len(reqs) > 0 && w.spaceWanted && !w.closed {
		close(w.space)
		w.space = make(chan struct{})
		w.spaceWanted = false
	}
	return buf, reqs, w.closed
}

// giveBack keeps the committed buffers for the next take, unless an
// oversized call made them large.
func (w *WAL) giveBack(buf []byte, reqs []pendingReq) {
	clear(reqs)
	if cap(buf) > 2*w.opts.MaxPendingBytes {
		buf = nil
	}
	w.mu.Lock()
	w.spareBuf, w.spareReqs = buf[:0], reqs[:0]
	w.mu.Unlock()
}
