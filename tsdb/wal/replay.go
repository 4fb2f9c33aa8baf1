package wal

import (
	"context"
	"fmt"
	"io"
	"os"
)

// replayBufSize is the read buffer of Replay.
const replayBufSize = 1 << 20

// Replay calls fn for every record of the segments that existed when the WAL
// was opened, in segment and write order, with the record's segment number.
// rec.Data is valid only during the call; copy what must outlive it.
//
// A bad record in the last non-empty segment is a torn tail: Replay logs a
// warning and truncates the segment at that record. A bad record in an
// earlier segment is logged as an error, the rest of that segment is skipped
// and Replay goes on with the next segment (see the package documentation).
// Replay returns fn's first error, ctx's error, or an I/O error; it does not
// return an error for corruption it has handled.
//
// Replay may run while Log writes, since they never share a segment, and
// may run again. fn must not call Replay or Truncate (they wait for Replay).
func (w *WAL) Replay(ctx context.Context, fn func(seg int, rec Record) error) error {
	w.fileMu.Lock()
	defer w.fileMu.Unlock()
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return ErrClosed
	}
	segs, err := listSegments(w.dir)
	if err != nil {
		return fmt.Errorf("replay wal: %w", err)
	}
	tail := -1
	for i, s := range segs {
		if s.n >= w.start {
			segs = segs[:i]
			break
		}
		if s.size > 0 {
			tail = i
		}
	}
	r := newSegmentReader(replayBufSize)
	for i, s := range segs {
		if err := w.replaySegment(ctx, r, s.n, i == tail, fn); err != nil {
			return fmt.Errorf("replay wal %q: %w", w.dir, err)
		}
	}
	return nil
}

// replaySegment replays segment n; tail says it is the last non-empty one.
func (w *WAL) replaySegment(ctx context.Context, r *segmentReader, n int, tail bool,
	fn func(seg int, rec Record) error) error {
	p := segmentPath(w.dir, n)
	flag := os.O_RDONLY
	if tail {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(p, flag, 0)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	r.reset(f, st.Size())
	for i := 0; ; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.next()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			if c := asCorruption(err); c != nil {
				return w.handleCorruption(f, n, st.Size(), c, tail)
			}
			return fmt.Errorf("segment %q: %w", p, err)
		}
		if err := fn(n, rec); err != nil {
			return fmt.Errorf("segment %d: %w", n, err)
		}
	}
}

// handleCorruption truncates a torn tail, or logs damage to an earlier
// segment and skips the rest of it.
func (w *WAL) handleCorruption(f *os.File, n int, size int64, c *corruption, tail bool) error {
	dropped := size - c.off
	if !tail {
		w.opts.Logger.Error("corrupt wal segment, skipping the rest of it",
			logKeySegment, n, logKeyOffset, c.off, logKeyReason, c.reason, logKeyDropped, dropped)
		return nil
	}
	w.opts.Logger.Warn("torn wal tail, truncating",
		logKeySegment, n, logKeyOffset, c.off, logKeyReason, c.reason, logKeyDropped, dropped)
	if err := f.Truncate(c.off); err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("truncate torn tail: %w", err)
	}
	w.size.Add(-dropped)
	return nil
}
