package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/golang/snappy"
)

// corruption describes the first bad record of a segment.
type corruption struct {
	off    int64  // offset of the bad record in the segment
	reason string // what is wrong with it
}

// Error implements error.
func (c *corruption) Error() string {
	return fmt.Sprintf("bad record at offset %d: %s", c.off, c.reason)
}

// segmentReader decodes the records of one segment of known size. It is
// reset and reused for every segment of a Replay, so its buffers are too.
type segmentReader struct {
	br      *bufio.Reader
	off     int64  // offset of the next record
	size    int64  // segment size; nothing past it is read
	payload []byte // stored payload of the last record
	decoded []byte // decompressed payload of the last record
	hdr     [headerSize]byte
}

// newSegmentReader returns a reader with a read buffer of bufSize bytes.
func newSegmentReader(bufSize int) *segmentReader {
	return &segmentReader{br: bufio.NewReaderSize(nil, bufSize)}
}

// reset points the reader at offset off of a segment of size bytes; rd
// reads from off on.
func (r *segmentReader) reset(rd io.Reader, off, size int64) {
	r.br.Reset(rd)
	r.off, r.size = off, size
}

// next returns the next record, io.EOF at the clean end of the segment, a
// *corruption for a bad record, or an I/O error. The record's Data is valid
// until the next call.
func (r *segmentReader) next() (Record, error) {
	left := r.size - r.off
	if left == 0 {
		return Record{}, io.EOF
	}
	if left < headerSize {
		return Record{}, r.bad(fmt.Sprintf("truncated header: %d of %d bytes", left, headerSize))
	}
	hdr := r.hdr[:] // a field: a local array would escape through io.ReadFull
	if _, err := io.ReadFull(r.br, hdr); err != nil {
		return Record{}, fmt.Errorf("read record header at offset %d: %w", r.off, err)
	}
	n := int64(binary.LittleEndian.Uint32(hdr[0:4]))
	crc, typ := binary.LittleEndian.Uint32(hdr[4:8]), hdr[8]
	switch {
	case n > MaxRecordSize:
		return Record{}, r.bad(fmt.Sprintf("length %d exceeds %d", n, MaxRecordSize))
	case n > left-headerSize:
		return Record{}, r.bad(fmt.Sprintf("truncated record: length %d, %d bytes left", n, left-headerSize))
	}
	if int64(cap(r.payload)) < n {
		r.payload = make([]byte, n)
	}
	r.payload = r.payload[:n]
	if _, err := io.ReadFull(r.br, r.payload); err != nil {
		return Record{}, fmt.Errorf("read record at offset %d: %w", r.off, err)
	}
	if got := recordCRC(typ, r.payload); got != crc {
		return Record{}, r.bad(fmt.Sprintf("checksum mismatch: stored %08x, computed %08x", crc, got))
	}
	data := r.payload
	if typ&flagSnappy != 0 {
		var err error
		if data, err = r.decompress(r.payload); err != nil {
			return Record{}, r.bad(err.Error())
		}
	}
	r.off += headerSize + n
	return Record{Type: typ &^ flagSnappy, Data: data}, nil
}

// decompress decodes a snappy payload into r.decoded.
func (r *segmentReader) decompress(payload []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(payload)
	if err != nil {
		return nil, fmt.Errorf("snappy header: %w", err)
	}
	if n > MaxRecordSize || n > maxSnappyRatio*len(payload) {
		return nil, fmt.Errorf("snappy claims %d bytes from %d", n, len(payload))
	}
	if cap(r.decoded) < n {
		r.decoded = make([]byte, n)
	}
	d, err := snappy.Decode(r.decoded[:n], payload)
	if err != nil {
		return nil, fmt.Errorf("snappy decode: %w", err)
	}
	return d, nil
}

// bad returns the corruption of the record at the current offset.
func (r *segmentReader) bad(reason string) error {
	return &corruption{off: r.off, reason: reason}
}

// asCorruption returns err as a *corruption, or nil.
func asCorruption(err error) *corruption {
	var c *corruption
	if errors.As(err, &c) {
		return c
	}
	return nil
}
