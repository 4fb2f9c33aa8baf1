package promrw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A forward queue's directory holds segment files and a cursor:
//
//	<storage.path>/forward/<target>/
//	    0000000000000001.seg   records, appended; removed once read past
//	    0000000000000002.seg
//	    cursor                 where the sender resumes: segment, offset
//
// A record is one batch of encoded timeseries fields (forward_encode.go):
//
//	+---------+---------+---------+------------------------+
//	| len u32 | crc u32 | n   u32 | payload (len bytes)    |
//	+---------+---------+---------+------------------------+
//
// little endian; crc is CRC-32C of n and the payload; n is the number of
// samples in the payload. A record cut short by a crash (a torn tail) or
// whose CRC does not match ends its segment: the rest is truncated when
// the segment is the last, skipped when not.
//
// The cursor file is 20 bytes: segment u64 | offset u64 | crc u32 of the
// 16 before. A cursor that does not read back (torn, missing) means the
// first segment's start: batches are sent again, never lost.

// recordHeader is the size of a record's header.
const recordHeader = 12

// maxRecordBytes caps one record's payload; a larger len is damage.
const maxRecordBytes = 64 << 20

// castagnoli is the CRC-32C table (a lookup table, not mutable state).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errBadRecord is what decodeRecord reports for a torn or damaged record.
var errBadRecord = errors.New("forward queue: torn or damaged record")

// appendRecord appends one record holding samples samples and payload.
func appendRecord(b []byte, samples int, payload []byte) []byte {
	var h [recordHeader]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[8:], uint32(samples))
	crc := crc32.Update(0, castagnoli, h[8:12])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	b = append(b, h[:]...)
	return append(b, payload...)
}

// decodeRecord reads the record at the start of b: its sample count,
// payload (pointing into b) and total size. It returns errBadRecord when
// b does not start with a whole record whose CRC matches.
func decodeRecord(b []byte) (samples int, payload []byte, size int, err error) {
	if len(b) < recordHeader {
		return 0, nil, 0, errBadRecord
	}
	l := binary.LittleEndian.Uint32(b[0:])
	if l > maxRecordBytes || uint64(len(b)-recordHeader) < uint64(l) {
		return 0, nil, 0, errBadRecord
	}
	payload = b[recordHeader : recordHeader+int(l)]
	crc := crc32.Update(0, castagnoli, b[8:12])
	if crc32.Update(crc, castagnoli, payload) != binary.LittleEndian.Uint32(b[4:]) {
		return 0, nil, 0, errBadRecord
	}
	return int(binary.LittleEndian.Uint32(b[8:])), payload, recordHeader + int(l), nil
}

// scanSegment walks the records of a segment's bytes from off and returns
// where the valid records end and how many samples they hold.
func scanSegment(b []byte, off int64) (end int64, samples int64) {
	end = off
	for end < int64(len(b)) {
		n, _, size, err := decodeRecord(b[end:])
		if err != nil {
			break
		}
		end += int64(size)
		samples += int64(n)
	}
	return end, samples
}

// segmentName is the file name of segment seq.
func segmentName(seq uint64) string { return fmt.Sprintf("%016d.seg", seq) }

// listSegments returns the sequence numbers of dir's segments, ascending.
func listSegments(dir string) ([]uint64, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		return nil, fmt.Errorf("list forward queue segments in %s: %w", dir, err)
	}
	var out []uint64
	for _, n := range names { // Glob sorts; the names are zero-padded
		seq, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(n), ".seg"), 10, 64)
		if err == nil {
			out = append(out, seq)
		}
	}
	return out, nil
}

// cursor is where the sender resumes: a segment and an offset in it.
type cursor struct {
	seq uint64
	off int64
}

// before reports whether c comes before d in the queue.
func (c cursor) before(d cursor) bool {
	return c.seq < d.seq || (c.seq == d.seq && c.off < d.off)
}

// cursorSize is the size of the cursor file.
const cursorSize = 20

// encodeCursor returns the cursor file's bytes.
func encodeCursor(c cursor) []byte {
	b := make([]byte, cursorSize)
	binary.LittleEndian.PutUint64(b[0:], c.seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(c.off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	return b
}

// decodeCursor reads a cursor file's bytes; ok is false when they are
// torn or damaged.
func decodeCursor(b []byte) (c cursor, ok bool) {
	if len(b) != cursorSize || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return cursor{}, false
	}
	off := binary.LittleEndian.Uint64(b[8:])
	if off > 1<<62 {
		return cursor{}, false
	}
	return cursor{seq: binary.LittleEndian.Uint64(b[0:]), off: int64(off)}, true
}

// readCursor reads dir's cursor file; a missing or damaged one is the
// zero cursor (the start of the first segment).
func readCursor(dir string) (cursor, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cursor"))
	if errors.Is(err, os.ErrNotExist) {
		return cursor{}, nil
	}
	if err != nil {
		return cursor{}, fmt.Errorf("read forward queue cursor: %w", err)
	}
	c, _ := decodeCursor(b)
	return c, nil
}
