package promrw

import (
	"fmt"
	"os"
	"path/filepath"
)

// Batch is what Read took from a queue: a run of records whose payloads,
// concatenated, are one WriteRequest. Commit it once the target has
// acknowledged it.
type Batch struct {
	Request []byte // the encoded WriteRequest
	Samples int
	next    cursor
}

// Read appends to dst the records from the cursor on, until adding the
// next would pass maxSamples (at least one record is taken), and returns
// them as a Batch; an empty Batch when nothing is queued. It does not move
// the cursor: Commit does.
func (q *Queue) Read(dst []byte, maxSamples int) (Batch, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Batch{}, errQueueClosed
	}
	b := Batch{Request: dst, next: q.cur}
	var hdr [recordHeader]byte
	for i := 0; i < len(q.segs); {
		s := q.segs[i]
		if s.seq < b.next.seq {
			i++
			continue
		}
		if b.next.off >= s.size {
			if i == len(q.segs)-1 {
				break
			}
			b.next = cursor{seq: q.segs[i+1].seq}
			i++
			continue
		}
		f, err := q.reader(s.seq)
		if err != nil {
			return Batch{}, err
		}
		if _, err := f.ReadAt(hdr[:], b.next.off); err != nil {
			return Batch{}, fmt.Errorf("read forward queue record: %w", err)
		}
		l := int64(uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16 | uint32(hdr[3])<<24)
		if b.next.off+recordHeader+l > s.size {
			return Batch{}, fmt.Errorf("read forward queue record: %w", errBadRecord)
		}
		at := len(b.Request)
		b.Request = append(b.Request, hdr[:]...)
		b.Request = append(b.Request, make([]byte, l)...)
		if _, err := f.ReadAt(b.Request[at+recordHeader:], b.next.off+recordHeader); err != nil {
			return Batch{}, fmt.Errorf("read forward queue record: %w", err)
		}
		n, payload, size, err := decodeRecord(b.Request[at:])
		if err != nil {
			return Batch{}, fmt.Errorf("read forward queue segment %d at %d: %w", s.seq, b.next.off, err)
		}
		if b.Samples > 0 && b.Samples+n > maxSamples {
			b.Request = b.Request[:at]
			break
		}
		copy(b.Request[at:], payload) // drop the header in place
		b.Request = b.Request[:at+len(payload)]
		b.Samples += n
		b.next.off += int64(size)
	}
	return b, nil
}

// reader returns a read handle on segment seq, opened once.
func (q *Queue) reader(seq uint64) (*os.File, error) {
	if q.rf != nil && q.rseq == seq {
		return q.rf, nil
	}
	q.closeReader(q.rseq)
	f, err := os.Open(filepath.Join(q.dir, segmentName(seq)))
	if err != nil {
		return nil, fmt.Errorf("open forward queue segment: %w", err)
	}
	q.rf, q.rseq = f, seq
	return f, nil
}

// Commit moves the cursor past b and removes the segments it finished. A
// Batch whose records were dropped meanwhile (max_queue_bytes) moves
// nothing back.
func (q *Queue) Commit(b Batch) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errQueueClosed
	}
	if !q.cur.before(b.next) {
		return nil
	}
	for len(q.segs) > 1 && q.segs[0].seq < b.next.seq {
		s := q.segs[0]
		q.closeReader(s.seq)
		if err := os.Remove(filepath.Join(q.dir, segmentName(s.seq))); err != nil {
			return fmt.Errorf("remove sent forward queue segment: %w", err)
		}
		q.segs = q.segs[1:]
	}
	q.cur = b.next
	q.bytes = -q.cur.off
	for _, s := range q.segs {
		q.bytes += s.size
	}
	q.pending = max(q.pending-int64(b.Samples), 0)
	return q.writeCursor()
}
