package wal

import (
	"context"
	"fmt"
	"os"
)

// replayBufSize is the read buffer of Replay.
const replayBufSize = 1 << 20

// Replay calls fn for every record of the segments that existed when the WAL
// was opened, in segment and write order, with the record's segment number.
// rec.Data is valid only during the call; copy what must outlive it.
//
// Replay reports damage and goes on; it never changes a file (Open has cut
// any torn tail). A bad record is skipped: Replay resynchronises on the next
// valid record of the same segment and logs, at ERROR, each damaged segment
// with the bytes skipped. A segment shorter than the size its successor's
// header recorded was cut, and a segment missing between two others was
// lost: both are logged at ERROR by name. Replay returns fn's first error,
// ctx's error, or an I/O error; it does not return an error for damage it
// has handled (see the package documentation).
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
	for i, s := range segs {
		if s.n >= w.start {
			segs = segs[:i]
			break
		}
	}
	w.logMissing(segs)
	r := newSegmentReader(replayBufSize)
	for i, s := range segs {
		// What the next segment's header says about this one: the current
		// segment's header for the last.
		next, ok := w.startHeader, true
		if i+1 < len(segs) {
			if next, ok, err = readHeader(segmentPath(w.dir, segs[i+1].n)); err != nil {
				return fmt.Errorf("replay wal %q: segment %d: %w", w.dir, segs[i+1].n, err)
			}
		}
		if !ok || next.prevSeg != s.n {
			next = segmentHeader{}
		}
		if err := w.replaySegment(ctx, r, s.n, next, fn); err != nil {
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

// replaySegment replays segment n and reports what is wrong with it. next is
// the header of the segment created after it, if that header names n (the
// zero header otherwise).
func (w *WAL) replaySegment(ctx context.Context, r *segmentReader, n int, next segmentHeader,
	fn func(seg int, rec Record) error) error {
	p := segmentPath(w.dir, n)
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment: %w", err)
	}
	res, err := scanSegment(ctx, r, f, n, st.Size(), fn)
	if err != nil {
		return fmt.Errorf("segment %q: %w", p, err)
	}
	w.logHeader(n, p, res)
	d := res.damage
	if c := res.badEnd; c != nil {
		// Not the last segment, or Open would have cut it: damage.
		d.add(c, res.size-c.off)
	}
	if d.first != nil {
		w.opts.Logger.Error("damaged wal records skipped", logKeySegment, n, logKeyRegions, d.regions,
			logKeySkipped, d.skipped, logKeyRecovered, d.recovered,
			logKeyOffset, d.first.off, logKeyReason, d.first.reason)
	}
	w.checkSize(n, p, res, next)
	return nil
}

// logHeader logs what is wrong with the header of segment n, at path p.
func (w *WAL) logHeader(n int, p string, res scanResult) {
	switch {
	case res.state == headerDamaged:
		w.opts.Logger.Error("wal segment header damaged: replaying the records after it; "+
			"the size of the segment before it is not checked",
			logKeySegment, n, logKeyFile, p, logKeyReason, res.hdrReason)
	case res.state == headerUnknown:
		w.opts.Logger.Error("wal segment has an unknown format: its records are not replayed",
			logKeySegment, n, logKeyFile, p, logKeyReason, res.hdrReason, logKeySkipped, res.size)
	case res.state == headerOK && res.hdr.seg != n:
		w.opts.Logger.Error("wal segment header names another segment: the file was renamed or copied",
			logKeySegment, n, logKeyFile, p, logKeyHeaderSegment, res.hdr.seg)
	}
}

// checkSize compares the size of segment n, at path p, with the size that
// next, the header of the segment created after it, recorded: shorter means
// records were cut off its end (even at a record boundary, which nothing
// else shows), longer means bytes were added after the next segment was
// created.
func (w *WAL) checkSize(n int, p string, res scanResult, next segmentHeader) {
	if next.prevSeg != n || res.size == next.prevSize {
		return
	}
	if res.size < next.prevSize {
		w.opts.Logger.Error("wal segment cut short: the records at its end are lost",
			logKeySegment, n, logKeyFile, p, logKeyExpected, next.prevSize, logKeyActual, res.size,
			logKeyMissingBytes, next.prevSize-res.size, logKeyRecords, res.records,
			logKeyRecordedBy, segmentName(next.seg))
		return
	}
	w.opts.Logger.Warn("wal segment longer than when the next segment was created: "+
		"replaying the records added since",
		logKeySegment, n, logKeyFile, p, logKeyExpected, next.prevSize, logKeyActual, res.size,
		logKeyExtra, res.size-next.prevSize, logKeyRecords, res.records,
		logKeyRecordedBy, segmentName(next.seg))
}
