package chunkenc

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// bitWriter appends bits, most significant first, to a byte slice. The unused
// low bits of the last byte are always zero, so the slice is a valid stream
// (zero-padded) after every write.
type bitWriter struct {
	b    []byte
	free uint // unused low bits of the last byte of b, 0..7
}

// writeBits appends the low n bits of u, n in 0..64. Bits of u above n must
// be zero.
func (w *bitWriter) writeBits(u uint64, n uint) {
	if w.free != 0 && n <= w.free { // fits in the last byte: inlined
		w.free -= n
		w.b[len(w.b)-1] |= byte(u << w.free)
		return
	}
	w.writeBitsSlow(u, n)
}

func (w *bitWriter) writeBitsSlow(u uint64, n uint) {
	if n == 0 {
		return
	}
	u <<= 64 - n // left-align: the first bit to write is bit 63
	if w.free > 0 {
		w.b[len(w.b)-1] |= byte(u >> (64 - w.free))
		if n <= w.free {
			w.free -= n
			return
		}
		u <<= w.free
		n -= w.free
	}
	// At most 64 bits remain and the last byte is full: store the whole
	// word after it and keep the bytes that carry bits. The bytes cut off
	// stay in the capacity, zeroed by the next store. Reslicing w.b in place
	// (not assigning a new slice) spares the GC write barrier.
	l := len(w.b)
	if cap(w.b)-l < 8 {
		w.b = slices.Grow(w.b, 8)
	}
	w.b = w.b[:l+8]
	binary.BigEndian.PutUint64(w.b[l:], u)
	nb := (n + 7) >> 3
	w.b = w.b[:l+int(nb)]
	w.free = nb<<3 - n
}

// writePacked appends u with the bucket code of ws: '0' and ws[0] bits,
// '10' and ws[1] bits, or '11' and ws[2] bits, the first bucket u fits in.
// bits.Len64(u) must be at most ws[2].
func (w *bitWriter) writePacked(u uint64, ws *[3]uint8) {
	l := uint8(bits.Len64(u))
	switch {
	case l <= ws[0] && ws[0] < 64:
		w.writeBits(u, 1+uint(ws[0])) // top bit of the 1+w0-bit word is the '0'
	case l <= ws[0]:
		w.writeBits(0, 1)
		w.writeBits(u, 64)
	case l <= ws[1]:
		w.writePrefixed(0b10, u, uint(ws[1]))
	default:
		w.writePrefixed(0b11, u, uint(ws[2]))
	}
}

// writePrefixed appends the 2-bit prefix p followed by the low n bits of u.
func (w *bitWriter) writePrefixed(p, u uint64, n uint) {
	if n <= 62 {
		w.writeBits(p<<n|u, 2+n)
		return
	}
	w.writeBits(p, 2)
	w.writeBits(u, n)
}

// headDoD returns the code of a timestamp delta-of-delta in the fixed
// buckets of the head format: '0' (zero), '10'+8, '110'+16, '1110'+24 bits
// two's complement, or '1111'+64 bits. For the last it returns the 4-bit
// prefix only and wide; the 64 bits of d follow it.
func headDoD(d int64) (code uint64, n uint, wide bool) {
	switch {
	case d == 0:
		return 0, 1, false
	case -1<<7 <= d && d < 1<<7:
		return 0b10<<8 | uint64(d)&(1<<8-1), 10, false
	case -1<<15 <= d && d < 1<<15:
		return 0b110<<16 | uint64(d)&(1<<16-1), 19, false
	case -1<<23 <= d && d < 1<<23:
		return 0b1110<<24 | uint64(d)&(1<<24-1), 28, false
	}
	return 0b1111, 4, true
}

// writeHeadDoD appends the head format's code of timestamp delta-of-delta d.
func (w *bitWriter) writeHeadDoD(d int64) {
	code, n, wide := headDoD(d)
	w.writeBits(code, n)
	if wide {
		w.writeBits(uint64(d), 64)
	}
}

// zigzag maps signed to unsigned integers so that small magnitudes of either
// sign become small numbers: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
