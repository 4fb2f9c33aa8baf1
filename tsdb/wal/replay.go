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
// A bad record is skipped: Replay resynchronises on the next valid record of
// the same segment and logs, at ERROR, each damaged segment with the bytes
// skipped. Only a bad record with nothing valid after it in the last
// non-empty segment is a torn tail: Replay logs a warning and truncates the
// segment there. A segment missing between two others is logged at ERROR
// by name. Replay returns fn's first error, ctx's error, or an I/O error; it
// does not return an error for damage it has handled (see the package
// documentation).
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
	w.logMissing(segs)
	r := newSegmentReader(replayBufSize)
	for i, s := range segs {
		if err := w.replaySegment(ctx, r, s.n, i == tail, fn); err != nil {
			return fmt.Errorf("replay wal %q: %w", w.dir, err)
		}
	}
	return nil
}

// logMissing logs, at ERROR, every run of segment numbers missing between
// the first and the last of segs. Truncate deletes the oldest segments
// first, so a gap is damage: the records it held are lost.
func (w *WAL) logMissing(segs []segmentFile) {
	for i := 1; i < len(segs); i++ {
		first, last := segs[i-1].n+1, segs[i].n-1
		if first > last {
			continue
		}
		names := segmentName(first)
		if last > first {
			names += " to " + segmentName(last)
		}
		w.opts.Logger.Error("wal segment missing: its records are lost", logKeyMissing, names,
			logKeyCount, last-first+1, logKeyDir, w.dir)
	}
}

// damage sums up the bad records skipped in one segment.
type damage struct {
	regions   int         // bad records resynchronised past (or skipped to the end)
	skipped   int64       // bytes skipped
	first     *corruption // the first bad record
	recovered int         // records replayed after the first bad one
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
	size := st.Size()
	r.reset(f, 0, size)
	var d damage
	var rest []byte // the segment from restOff on, read at the first bad record
	var restOff int64
	for i := 0; ; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := r.next()
		if err == nil {
			if d.first != nil {
				d.recovered++
			}
			if err := fn(n, rec); err != nil {
				return fmt.Errorf("segment %d: %w", n, err)
			}
			continue
		}
		if err == io.EOF {
			break
		}
		c := asCorruption(err)
		if c == nil {
			return fmt.Errorf("segment %q: %w", p, err)
		}
		if rest == nil {
			if rest, err = readRest(f, c.off, size); err != nil {
				return fmt.Errorf("segment %q: %w", p, err)
			}
			restOff = c.off
		}
		whole := restOff+int64(len(rest)) == size
		at := r.resync(rest[c.off-restOff:])
		if at < 0 && tail && whole {
			if err := w.truncateTornTail(f, n, size, c); err != nil {
				return err
			}
			break
		}
		if d.first == nil {
			d.first = c
		}
		d.regions++
		if at < 0 {
			d.skipped += size - c.off
			break
		}
		d.skipped += int64(at)
		next := c.off + int64(at)
		if _, err := f.Seek(next, io.SeekStart); err != nil {
			return fmt.Errorf("segment %q: %w", p, err)
		}
		r.reset(f, next, size)
	}
	if d.first != nil {
		w.opts.Logger.Error("damaged wal records skipped", logKeySegment, n, logKeyRegions, d.regions,
			logKeySkipped, d.skipped, logKeyRecovered, d.recovered,
			logKeyOffset, d.first.off, logKeyReason, d.first.reason)
	}
	return nil
}

// readRest reads segment f from off to its end, or resyncMaxRead of it.
func readRest(f *os.File, off, size int64) ([]byte, error) {
	b := make([]byte, min(size-off, resyncMaxRead))
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read after bad record at offset %d: %w", off, err)
	}
	return b, nil
}

// truncateTornTail cuts segment f, the last non-empty one, at the bad record
// c, after which nothing valid follows: the normal result of a crash during
// a write.
func (w *WAL) truncateTornTail(f *os.File, n int, size int64, c *corruption) error {
	dropped := size - c.off
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
