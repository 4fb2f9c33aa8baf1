package wal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// damage sums up the bad records skipped in one segment.
type damage struct {
	regions   int         // bad records resynchronised past (or skipped to the end)
	skipped   int64       // bytes skipped
	first     *corruption // the first bad record
	recovered int         // records replayed after the first bad one
}

// add counts a damaged region of n bytes starting with the bad record c.
func (d *damage) add(c *corruption, n int64) {
	if d.first == nil {
		d.first = c
	}
	d.regions++
	d.skipped += n
}

// scanResult is what reading one segment found.
type scanResult struct {
	size      int64         // the segment's size in bytes
	hdr       segmentHeader // valid if state is headerOK
	state     headerState
	hdrReason string // why the header is damaged or unknown
	records   int    // valid records read
	damage    damage // bad records resynchronised past, a damaged header included
	// badEnd is a bad record with nothing valid after it up to the end of
	// the file: a torn tail in the last segment, damage in any other. It is
	// not counted in damage.
	badEnd *corruption
}

// scanSegment reads segment n from f, of size bytes, from its start: its
// header, if any, then every record, which it passes to fn (if not nil).
// It resynchronises past bad records (see resync.go). It returns fn's
// error, wrapped, ctx's error, or an I/O error.
func scanSegment(ctx context.Context, r *segmentReader, f *os.File, n int, size int64,
	fn func(seg int, rec Record) error) (scanResult, error) {
	res := scanResult{size: size}
	hb, err := readHeaderBytes(f, size)
	if err != nil {
		return res, err
	}
	var start int
	res.hdr, start, res.state, res.hdrReason = decodeHeader(hb)
	var c *corruption // the bad record to resynchronise past
	switch res.state {
	case headerUnknown:
		return res, nil // the records' format is unknown too
	case headerDamaged:
		// The header's length is not trusted either: the first valid
		// record after offset 0 is found as after any bad record.
		c = &corruption{off: 0, reason: "segment header: " + res.hdrReason}
	}
	if _, err := f.Seek(int64(start), io.SeekStart); err != nil {
		return res, fmt.Errorf("seek segment: %w", err)
	}
	r.reset(f, int64(start), size)
	var rest []byte // the segment from restOff on, read at the first bad record
	var restOff int64
	for i := 0; ; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return res, err
			}
		}
		if c == nil {
			rec, err := r.next()
			if err == nil {
				res.records++
				if res.damage.first != nil {
					res.damage.recovered++
				}
				if fn != nil {
					if err := fn(n, rec); err != nil {
						return res, fmt.Errorf("segment %d: %w", n, err)
					}
				}
				continue
			}
			if err == io.EOF {
				return res, nil
			}
			if c = asCorruption(err); c == nil {
				return res, err
			}
		}
		if rest == nil {
			if rest, err = readRest(f, c.off, size); err != nil {
				return res, err
			}
			restOff = c.off
		}
		whole := restOff+int64(len(rest)) == size
		at := r.resync(rest[c.off-restOff:])
		switch {
		case at < 0 && whole:
			res.badEnd = c
			return res, nil
		case at < 0:
			res.damage.add(c, size-c.off)
			return res, nil
		}
		res.damage.add(c, int64(at))
		next := c.off + int64(at)
		if _, err := f.Seek(next, io.SeekStart); err != nil {
			return res, fmt.Errorf("seek segment: %w", err)
		}
		r.reset(f, next, size)
		c = nil
	}
}

// readRest reads segment f from off to its end, or resyncMaxRead of it.
func readRest(f *os.File, off, size int64) ([]byte, error) {
	b := make([]byte, min(size-off, resyncMaxRead))
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read after bad record at offset %d: %w", off, err)
	}
	return b, nil
}

// repairTail cuts the torn tail off segment s, the last one that holds any
// bytes, and returns its size afterwards. A torn tail is a bad record with
// nothing valid after it: the normal result of a crash during a write (or,
// at offset 0, during the creation of the segment). Damage before it is
// left for Replay to report.
func repairTail(dir string, s segmentFile, logger *slog.Logger) (int64, error) {
	p := segmentPath(dir, s.n)
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open last segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat last segment: %w", err)
	}
	res, err := scanSegment(context.Background(), newSegmentReader(replayBufSize), f, s.n, st.Size(), nil)
	if err != nil {
		return 0, fmt.Errorf("scan last segment %q: %w", p, err)
	}
	c := res.badEnd
	if c == nil {
		return res.size, nil
	}
	logger.Warn("torn wal tail, truncating", logKeySegment, s.n, logKeyOffset, c.off,
		logKeyReason, c.reason, logKeyDropped, res.size-c.off)
	if err := f.Truncate(c.off); err != nil {
		return 0, fmt.Errorf("truncate torn tail of %q: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("truncate torn tail of %q: %w", p, err)
	}
	return c.off, nil
}
