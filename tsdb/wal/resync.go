package wal

import "encoding/binary"

// Resynchronisation after a bad record (see "Recovery" in the package
// documentation). Record lengths are not self-synchronising, so after a bad
// record the scanner tries every following offset as the start of a record
// and takes the first one whose CRC (and compressed payload) checks out.
// A false match needs a CRC-32C collision, one in 2^32 per offset tried.
const (
	// resyncSmall is the longest candidate record checked by its CRC alone.
	// A longer one must first be followed by plausible headers, since
	// random bytes claim a plausible length often (one offset in 64 at 64
	// MiB from the end) and each check costs its length.
	resyncSmall = 256 << 10
	// resyncHops is how many headers, the candidate's included, must have
	// lengths that fit the segment (or end exactly at its end) before a
	// long candidate's CRC is computed.
	resyncHops = 4
	// resyncWorkFactor bounds the bytes checksummed while scanning, as a
	// multiple of the bytes scanned (plus resyncSmall), so that no input
	// makes the scan quadratic. Past it the rest counts as damaged.
	resyncWorkFactor = 64
	// resyncMaxRead caps how much of a segment is read into memory to
	// scan. Segments are 64 MiB unless one Log call was larger.
	resyncMaxRead = 256 << 20
)

// resync returns the offset in b of the first valid record that starts
// after b[0], or -1 when there is none. b is the rest of a segment, from a
// bad record on.
func (r *segmentReader) resync(b []byte) int {
	budget := int64(resyncWorkFactor)*int64(len(b)) + resyncSmall
	for o := 1; o+headerSize <= len(b); o++ {
		n := int64(binary.LittleEndian.Uint32(b[o:]))
		if n > int64(len(b)-o-headerSize) || n > MaxRecordSize {
			continue
		}
		if n > resyncSmall && !plausibleChain(b[o:]) {
			continue
		}
		if budget -= n + headerSize; budget < 0 {
			return -1
		}
		if r.valid(b[o:]) {
			return o
		}
	}
	return -1
}

// plausibleChain reports whether b starts with resyncHops headers whose
// lengths fit b, each following the last, or with fewer that end exactly at
// the end of b.
func plausibleChain(b []byte) bool {
	for range resyncHops {
		if len(b) == 0 {
			return true
		}
		if len(b) < headerSize {
			return false
		}
		n := int64(binary.LittleEndian.Uint32(b))
		if n > int64(len(b)-headerSize) {
			return false
		}
		b = b[headerSize+n:]
	}
	return true
}

// valid reports whether b starts with a whole record whose CRC matches and,
// if compressed, whose payload decodes.
func (r *segmentReader) valid(b []byte) bool {
	if len(b) < headerSize {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(b))
	if n > int64(len(b)-headerSize) || n > MaxRecordSize {
		return false
	}
	typ, payload := b[8], b[headerSize:headerSize+n]
	if recordCRC(typ, payload) != binary.LittleEndian.Uint32(b[4:]) {
		return false
	}
	if typ&flagSnappy != 0 {
		if _, err := r.decompress(payload); err != nil {
			return false
		}
	}
	return true
}
