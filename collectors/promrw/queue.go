package promrw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Queue is one forward target's on-disk queue of encoded batches
// (queue_segment.go has the layout). Append writes a record with write(2)
// before the ingest request that produced it is answered, so a killed
// process (kill -9) loses nothing: the bytes are in the page cache. Sync
// makes them durable with fsync; the Forwarder calls it every second and
// at Close, so a power loss or kernel crash loses at most the last second
// of queued batches, as vmagent's persistent queue does. The cursor is
// written (not synced) after every acknowledged send, so a restart resends
// at most the batch that was in flight.
//
// The queue never holds more than MaxBytes of unsent records (plus one
// record): past it, Append drops the oldest segment and returns how many
// samples it held.
//
// A Queue is safe for concurrent use: mu guards every field below it.
type Queue struct {
	dir      string
	maxBytes int64
	segBytes int64 // a segment is rolled once it holds this much

	mu      sync.Mutex
	segs    []segment // oldest first; the last is being appended to
	w       *os.File  // the last segment, open for appending
	rf      *os.File  // a segment open for reading (rseq), or nil
	rseq    uint64
	cf      *os.File // the cursor file
	cur     cursor
	bytes   int64 // unread bytes: from cur to the end
	pending int64 // unread samples
	dropped int64 // samples dropped for MaxBytes, in all
	dirty   bool  // appended since the last Sync
	cdirty  bool  // cursor written since the last Sync
	closed  bool
	buf     []byte // Append's scratch record
}

// segment is one segment file; size is where its valid records end.
type segment struct {
	seq  uint64
	size int64
}

// errQueueClosed is returned by a Queue's methods after Close.
var errQueueClosed = errors.New("forward queue is closed")

// OpenQueue opens (creating it when absent) the queue in dir, bounded to
// maxBytes. It resumes at the saved cursor, counts what is left to send,
// stops each old segment at its first torn or damaged record, removes the
// segments read past, and starts a new segment to append to.
func OpenQueue(dir string, maxBytes int64) (*Queue, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create forward queue %s: %w", dir, err)
	}
	q := &Queue{dir: dir, maxBytes: maxBytes, segBytes: min(max(maxBytes/8, 64<<10), 16<<20)}
	seqs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	if q.cur, err = readCursor(dir); err != nil {
		return nil, err
	}
	if len(seqs) == 0 || q.cur.seq < seqs[0] {
		q.cur = cursor{}
	}
	for _, seq := range seqs {
		path := filepath.Join(dir, segmentName(seq))
		if seq < q.cur.seq {
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("remove sent forward queue segment: %w", err)
			}
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read forward queue segment: %w", err)
		}
		from := int64(0)
		if q.cur.seq == 0 {
			q.cur = cursor{seq: seq}
		}
		if seq == q.cur.seq {
			from = min(q.cur.off, int64(len(b)))
			q.cur.off = from
		}
		end, n := scanSegment(b, from)
		q.segs = append(q.segs, segment{seq: seq, size: end})
		q.bytes += end - from
		q.pending += n
	}
	next := uint64(1)
	if len(q.segs) > 0 {
		next = q.segs[len(q.segs)-1].seq + 1
	}
	if q.cur.seq == 0 {
		q.cur = cursor{seq: next}
	}
	if err := q.create(next); err != nil {
		return nil, err
	}
	if q.cf, err = os.OpenFile(filepath.Join(dir, "cursor"), os.O_RDWR|os.O_CREATE, 0o644); err != nil {
		q.w.Close()
		return nil, fmt.Errorf("open forward queue cursor: %w", err)
	}
	return q, q.writeCursor()
}

// create starts segment seq and makes it the one appended to.
func (q *Queue) create(seq uint64) error {
	f, err := os.OpenFile(filepath.Join(q.dir, segmentName(seq)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create forward queue segment: %w", err)
	}
	q.w = f
	q.segs = append(q.segs, segment{seq: seq})
	return nil
}

// Append queues one record of samples samples. It returns how many
// unsent samples were dropped to stay within MaxBytes.
func (q *Queue) Append(samples int, payload []byte) (dropped int64, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, errQueueClosed
	}
	q.buf = appendRecord(q.buf[:0], samples, payload)
	last := &q.segs[len(q.segs)-1]
	if last.size > 0 && last.size+int64(len(q.buf)) > q.segBytes {
		if err := q.roll(); err != nil {
			return 0, err
		}
		last = &q.segs[len(q.segs)-1]
	}
	if _, err := q.w.Write(q.buf); err != nil {
		return 0, fmt.Errorf("append to forward queue: %w", err)
	}
	last.size += int64(len(q.buf))
	q.bytes += int64(len(q.buf))
	q.pending += int64(samples)
	q.dirty = true
	for q.bytes > q.maxBytes {
		if len(q.segs) == 1 {
			if err := q.roll(); err != nil {
				return dropped, err
			}
		}
		n, err := q.dropOldest()
		dropped += n
		if err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

// roll syncs and closes the segment appended to and starts the next.
func (q *Queue) roll() error {
	if err := q.w.Sync(); err != nil {
		return fmt.Errorf("sync forward queue segment: %w", err)
	}
	if err := q.w.Close(); err != nil {
		return fmt.Errorf("close forward queue segment: %w", err)
	}
	return q.create(q.segs[len(q.segs)-1].seq + 1)
}

// dropOldest removes the oldest segment with its unsent samples, which it
// counts, and moves the cursor to the next segment.
func (q *Queue) dropOldest() (int64, error) {
	s := q.segs[0]
	path := filepath.Join(q.dir, segmentName(s.seq))
	from := int64(0)
	if q.cur.seq == s.seq {
		from = q.cur.off
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read forward queue segment to drop: %w", err)
	}
	_, n := scanSegment(b[:min(s.size, int64(len(b)))], from)
	q.closeReader(s.seq)
	if err := os.Remove(path); err != nil {
		return 0, fmt.Errorf("drop forward queue segment: %w", err)
	}
	q.segs = q.segs[1:]
	q.bytes -= s.size - from
	q.pending = max(q.pending-n, 0)
	q.dropped += n
	q.cur = cursor{seq: q.segs[0].seq}
	return n, q.writeCursor()
}

// closeReader closes the read handle when it is on segment seq.
func (q *Queue) closeReader(seq uint64) {
	if q.rf != nil && q.rseq == seq {
		q.rf.Close()
		q.rf = nil
	}
}

// writeCursor saves the cursor (written, synced by Sync).
func (q *Queue) writeCursor() error {
	if _, err := q.cf.WriteAt(encodeCursor(q.cur), 0); err != nil {
		return fmt.Errorf("write forward queue cursor: %w", err)
	}
	q.cdirty = true
	return nil
}

// QueueStats are a queue's figures for the metrics.
type QueueStats struct {
	Bytes   int64 // unsent bytes on disk
	Pending int64 // unsent samples
	Dropped int64 // samples dropped for max_queue_bytes, in all
}

// Stats returns the queue's figures.
func (q *Queue) Stats() QueueStats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return QueueStats{Bytes: q.bytes, Pending: q.pending, Dropped: q.dropped}
}

// Sync makes every appended record and the cursor durable.
func (q *Queue) Sync() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sync()
}

func (q *Queue) sync() error {
	if q.closed {
		return errQueueClosed
	}
	if q.dirty {
		if err := q.w.Sync(); err != nil {
			return fmt.Errorf("sync forward queue segment: %w", err)
		}
		q.dirty = false
	}
	if q.cdirty {
		if err := q.cf.Sync(); err != nil {
			return fmt.Errorf("sync forward queue cursor: %w", err)
		}
		q.cdirty = false
	}
	return nil
}

// Close syncs and closes the queue.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	err := q.sync()
	q.closed = true
	q.closeReader(q.rseq)
	return errors.Join(err, q.w.Close(), q.cf.Close())
}
