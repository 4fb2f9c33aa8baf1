package wal

import "fmt"

// commit writes one drained queue: the calls in reqs, whose frames are
// buf[previous end:end]. Calls go into the current segment while they fit
// SegmentSize; the writer rolls to a new segment before a call that does not
// fit (unless the segment is empty, so an oversized call goes alone). Each
// run of calls that share a segment is one write and one fdatasync, after
// which its callers are woken.
func (w *WAL) commit(buf []byte, reqs []pendingReq) {
	start := 0
	for i := 0; i < len(reqs); {
		r := reqs[i]
		if r.cut {
			seg, err := w.cut()
			r.wt.finish(seg, err)
			i++
			continue
		}
		if w.segSize > segmentHeaderSize && w.segSize+int64(r.end-start) > w.opts.SegmentSize {
			if err := w.roll(); err != nil {
				r.wt.finish(0, err)
				start, i = r.end, i+1
				continue
			}
		}
		j := i + 1
		for j < len(reqs) && !reqs[j].cut && w.segSize+int64(reqs[j].end-start) <= w.opts.SegmentSize {
			j++
		}
		end := reqs[j-1].end
		err := w.writeSync(buf[start:end])
		if err == nil {
			w.calls.Add(int64(j - i))
		}
		for _, q := range reqs[i:j] {
			q.wt.finish(w.cur, err)
		}
		start, i = end, j
	}
}

// writeSync appends p to the current segment with one write and makes it
// durable with one fdatasync. A failure stops the WAL appending until
// recover has moved it to a new segment (see recover.go).
func (w *WAL) writeSync(p []byte) error {
	if err := w.appendErr(); err != nil {
		return err
	}
	n, err := w.write(p)
	w.segSize += int64(n)
	w.size.Add(int64(n))
	w.written.Add(int64(n))
	if err != nil {
		return w.fail(fmt.Errorf("write segment %q: %w", w.f.Name(), err))
	}
	if err := w.inject("sync"); err != nil {
		return w.fail(err)
	}
	if err := fdatasync(w.f); err != nil {
		// Do not retry on this file: Linux may have marked the failed pages
		// clean and cleared the error, so a second fdatasync could succeed
		// with the data lost ("fsyncgate", PostgreSQL 2018). recover drops
		// what was not synced and goes on in a new segment.
		return w.fail(err)
	}
	w.synced = w.segSize
	w.syncs.Add(1)
	return nil
}

// write writes p to the current segment (half of it, then the injected
// error, under a test fault).
func (w *WAL) write(p []byte) (int, error) {
	if err := w.inject("write"); err != nil {
		n, _ := w.f.Write(p[:len(p)/2])
		return n, err
	}
	return w.f.Write(p)
}

// cut serves a Cut request: it starts a new segment unless the current one
// holds no record yet, and returns the number of the segment now current.
func (w *WAL) cut() (int, error) {
	if err := w.appendErr(); err != nil {
		return 0, err
	}
	if w.segSize > segmentHeaderSize {
		if err := w.roll(); err != nil {
			return 0, err
		}
	}
	return w.cur, nil
}

// roll finishes the current segment, which every earlier commit has already
// synced, and creates the next one, whose header records the finished one's
// size. A failure leaves the current segment in place, complete, and stops
// the WAL appending until recover succeeds: the next commit would not fit it
// either.
func (w *WAL) roll() error {
	if err := w.appendErr(); err != nil {
		return err
	}
	next := w.cur + 1
	f, err := w.newSegment(segmentHeader{seg: next, prevSeg: w.cur, prevSize: w.segSize})
	if err != nil {
		return w.fail(err)
	}
	if err := w.f.Close(); err != nil {
		w.opts.Logger.Warn("close finished segment", logKeySegment, w.cur, logKeyErr, err)
	}
	w.setSegment(f, next)
	return nil
}

// appendErr returns why the WAL cannot append, or nil.
func (w *WAL) appendErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return nil
	}
	return w.err
}
