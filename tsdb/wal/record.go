package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/golang/snappy"
)

// Record is one typed byte record.
type Record struct {
	// Type is the caller's record type, 0 to 127. The top bit of the on-disk
	// type byte is reserved for the compression flag.
	Type byte
	// Data is the payload. Log copies it; in Replay's callback it points into
	// a buffer that is reused after the callback returns.
	Data []byte
}

// MaxRecordSize is the largest Record.Data that Log accepts, and the largest
// record length Replay believes before calling a record corrupt.
const MaxRecordSize = 1 << 30

const (
	// headerSize is len uint32 | crc uint32 | type byte.
	headerSize = 9
	// flagSnappy in the on-disk type byte marks a snappy-compressed payload.
	flagSnappy = 0x80
	// minCompressSize is the smallest payload Log tries to compress: below
	// it snappy's own header and literal tags eat what little it could save.
	minCompressSize = 64
	// maxSnappyRatio bounds the decoded length a compressed payload may
	// claim. Snappy's densest element, a 3-byte copy of 64 bytes, expands
	// about 21 times, so a larger claim is corrupt and is not allocated.
	maxSnappyRatio = 32
)

// castagnoli is the CRC-32C table (a read-only lookup table; crc32 uses the
// CPU's instruction for it).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// recordCRC is the CRC-32C of the type byte followed by payload.
func recordCRC(typ byte, payload []byte) uint32 {
	// One table step for the type byte, so that nothing is allocated.
	c := ^uint32(0)
	c = castagnoli[byte(c)^typ] ^ (c >> 8)
	return crc32.Update(^c, castagnoli, payload)
}

// putHeader fills hdr for a record with the on-disk type typ and payload.
func putHeader(hdr *[headerSize]byte, typ byte, payload []byte) {
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:8], recordCRC(typ, payload))
	hdr[8] = typ
}

// frame is one record ready to be copied into the write buffer.
type frame struct {
	hdr     [headerSize]byte
	payload []byte // the caller's Data, or a slice of encoder.zbuf
}

// encoder frames the records of one Log call outside the WAL's lock, so that
// the CRC and compression of concurrent calls run in parallel. Encoders are
// pooled by the WAL.
type encoder struct {
	frames []frame
	zbuf   []byte // compressed payloads of this call
}

// encode validates and frames recs and returns their total framed size.
// The frames point into recs' data until the encoder is reset.
func (e *encoder) encode(recs []Record, compress bool) (int, error) {
	e.frames = e.frames[:0]
	e.zbuf = e.zbuf[:0]
	zneed := 0
	for i, r := range recs {
		if r.Type >= flagSnappy {
			return 0, fmt.Errorf("record %d: type %d: %w", i, r.Type, ErrInvalidType)
		}
		if len(r.Data) > MaxRecordSize {
			return 0, fmt.Errorf("record %d: %d bytes: %w", i, len(r.Data), ErrRecordTooLarge)
		}
		if compress && len(r.Data) >= minCompressSize {
			zneed += snappy.MaxEncodedLen(len(r.Data))
		}
	}
	if cap(e.zbuf) < zneed {
		// Grown once, so that slices handed out below stay valid.
		e.zbuf = make([]byte, 0, zneed)
	}
	size := 0
	for _, r := range recs {
		typ, payload := r.Type, r.Data
		if compress && len(r.Data) >= minCompressSize {
			n := len(e.zbuf)
			z := snappy.Encode(e.zbuf[n:n+snappy.MaxEncodedLen(len(r.Data))], r.Data)
			if len(z) < len(r.Data) {
				typ |= flagSnappy
				payload = z
				e.zbuf = e.zbuf[:n+len(z)]
			}
		}
		e.frames = append(e.frames, frame{payload: payload})
		putHeader(&e.frames[len(e.frames)-1].hdr, typ, payload)
		size += headerSize + len(payload)
	}
	return size, nil
}

// appendTo appends the framed records to buf.
func (e *encoder) appendTo(buf []byte) []byte {
	for i := range e.frames {
		buf = append(buf, e.frames[i].hdr[:]...)
		buf = append(buf, e.frames[i].payload...)
	}
	return buf
}

// reset drops the references to the caller's data and, after a very large
// call, the compression buffer, before the encoder goes back to the pool.
func (e *encoder) reset() {
	clear(e.frames)
	e.frames = e.frames[:0]
	if cap(e.zbuf) > 1<<20 {
		e.zbuf = nil
	}
	if cap(e.frames) > 1024 {
		e.frames = nil
	}
}
