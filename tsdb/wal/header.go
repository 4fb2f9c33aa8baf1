package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// The segment header (see "Files" in the package documentation).
const (
	// segmentMagic opens every segment of format version 1 or later. Read
	// as a record length it is 0x4C41574F, more than MaxRecordSize, so a
	// headerless segment whose first record is valid never starts with it.
	segmentMagic = "OWAL"
	// formatVersion is the segment format this package writes. Version 0
	// is the headerless format, which it still reads.
	formatVersion = 1
	// segmentHeaderSize is the length of a version 1 header.
	segmentHeaderSize = 28
	// minHeaderSize is the shortest header any version may have: magic,
	// version, length and CRC.
	minHeaderSize = 12
	// maxHeaderSize bounds the header length a later version may declare,
	// and is what a reader reads of a segment to decode its header.
	maxHeaderSize = 4096
)

// segmentHeader is the decoded header of a version 1 segment.
type segmentHeader struct {
	seg      int   // the segment's own number
	prevSeg  int   // the segment before it when it was created; 0 for none
	prevSize int64 // prevSeg's size in bytes then
}

// headerState says what the start of a segment holds.
type headerState int

const (
	// headerNone: no magic; a headerless segment of format version 0.
	headerNone headerState = iota
	// headerOK: a valid version 1 header.
	headerOK
	// headerDamaged: a header that is truncated or fails its CRC. Its
	// fields are not trusted.
	headerDamaged
	// headerUnknown: a valid header of a format version this package does
	// not read.
	headerUnknown
)

// encode returns h as a version 1 header.
func (h segmentHeader) encode() [segmentHeaderSize]byte {
	var b [segmentHeaderSize]byte
	copy(b[0:4], segmentMagic)
	binary.LittleEndian.PutUint16(b[4:6], formatVersion)
	binary.LittleEndian.PutUint16(b[6:8], segmentHeaderSize)
	binary.LittleEndian.PutUint32(b[8:12], uint32(h.seg))
	binary.LittleEndian.PutUint32(b[12:16], uint32(h.prevSeg))
	binary.LittleEndian.PutUint64(b[16:24], uint64(h.prevSize))
	binary.LittleEndian.PutUint32(b[24:28], crc32.Checksum(b[:24], castagnoli))
	return b
}

// decodeHeader decodes the header at the start of b, the first bytes of a
// segment (up to maxHeaderSize of them). It returns the header's length (0
// unless the state is headerOK or headerUnknown) and, for a damaged or
// unknown header, why.
func decodeHeader(b []byte) (h segmentHeader, n int, st headerState, reason string) {
	if len(b) < len(segmentMagic) || string(b[:len(segmentMagic)]) != segmentMagic {
		if magicDamaged(b) {
			return h, 0, headerDamaged, "bad magic"
		}
		return h, 0, headerNone, ""
	}
	if len(b) < 8 {
		return h, 0, headerDamaged, fmt.Sprintf("truncated: %d of %d bytes", len(b), segmentHeaderSize)
	}
	version := binary.LittleEndian.Uint16(b[4:6])
	n = int(binary.LittleEndian.Uint16(b[6:8]))
	switch {
	case n < minHeaderSize || n > maxHeaderSize:
		return h, 0, headerDamaged, fmt.Sprintf("header length %d", n)
	case len(b) < n:
		return h, 0, headerDamaged, fmt.Sprintf("truncated: %d of %d bytes", len(b), n)
	}
	stored, got := binary.LittleEndian.Uint32(b[n-4:n]), crc32.Checksum(b[:n-4], castagnoli)
	if stored != got {
		return h, 0, headerDamaged, fmt.Sprintf("checksum mismatch: stored %08x, computed %08x", stored, got)
	}
	if version != formatVersion || n != segmentHeaderSize {
		return h, n, headerUnknown, fmt.Sprintf("format version %d, %d-byte header", version, n)
	}
	h.seg = int(binary.LittleEndian.Uint32(b[8:12]))
	h.prevSeg = int(binary.LittleEndian.Uint32(b[12:16]))
	h.prevSize = int64(binary.LittleEndian.Uint64(b[16:24]))
	return h, n, headerOK, ""
}

// magicDamaged reports whether b starts with a version 1 header that is
// intact but for its magic: without this, such a segment would read as a
// headerless one whose first record is bad.
func magicDamaged(b []byte) bool {
	if len(b) < segmentHeaderSize || binary.LittleEndian.Uint16(b[6:8]) != segmentHeaderSize {
		return false
	}
	c := crc32.Update(0, castagnoli, []byte(segmentMagic))
	c = crc32.Update(c, castagnoli, b[len(segmentMagic):24])
	return c == binary.LittleEndian.Uint32(b[24:28])
}

// readHeaderBytes reads the first bytes of segment f, of size bytes, that a
// header can occupy.
func readHeaderBytes(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, min(size, maxHeaderSize))
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read segment header: %w", err)
	}
	return b, nil
}

// readHeader returns the header of the segment at path, if it has a valid
// one.
func readHeader(path string) (segmentHeader, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return segmentHeader{}, false, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return segmentHeader{}, false, fmt.Errorf("stat segment: %w", err)
	}
	b, err := readHeaderBytes(f, st.Size())
	if err != nil {
		return segmentHeader{}, false, err
	}
	h, _, state, _ := decodeHeader(b)
	return h, state == headerOK, nil
}
