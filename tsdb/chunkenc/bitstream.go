package chunkenc

import (
	"encoding/binary"
	"math/bits"
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
	// At most 64 bits remain and the last byte is full: append the whole
	// word and keep the bytes that carry bits. The bytes cut off stay in the
	// slice's capacity and are overwritten by the next append.
	l := len(w.b)
	nb := (n + 7) >> 3
	w.b = binary.BigEndian.AppendUint64(w.b, u)[:l+int(nb)]
	w.free = nb<<3 - n
}

// writePacked appends u with the bucket code of ws: '0' and ws[0] bits,
// '10' and ws[1] bits, or '11' and ws[2] bits, the first bucket u fits in.
// bits.Len64(u) must be at most ws[2].
func (w *bitWriter) writePacked(u uint64, ws *[3]uint8) {
	l := uint8(bits.Len64(u))
	switch {
	case l <= ws[0]:
		w.writeBits(u, 1+uint(ws[0])) // top bit of the 1+w0-bit word is the '0'
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

// writeHeadDoD appends a timestamp delta-of-delta with the fixed buckets of
// the head format: '0' (zero), '10'+8, '110'+16, '1110'+24 bits two's
// complement, or '1111'+64 bits.
func (w *bitWriter) writeHeadDoD(d int64) {
	switch {
	case d == 0:
		w.writeBits(0, 1)
	case -1<<7 <= d && d < 1<<7:
		w.writeBits(0b10<<8|uint64(d)&(1<<8-1), 10)
	case -1<<15 <= d && d < 1<<15:
		w.writeBits(0b110<<16|uint64(d)&(1<<16-1), 19)
	case -1<<23 <= d && d < 1<<23:
		w.writeBits(0b1110<<24|uint64(d)&(1<<24-1), 28)
	default:
		w.writeBits(0b1111, 4)
		w.writeBits(uint64(d), 64)
	}
}

// bitReader reads bits, most significant first, from a byte slice. Reading
// past the end returns zeros and sets overrun, which stays set; callers check
// it once per sample rather than per read.
type bitReader struct {
	b       []byte // bytes not yet loaded into buf
	buf     uint64 // next unread bits, left-aligned; below them zeros or later stream bits
	valid   uint   // number of unread bits at the top of buf
	overrun bool
}

func (r *bitReader) reset(b []byte) {
	*r = bitReader{b: b}
}

// readBits returns the next n bits, n in 0..64.
func (r *bitReader) readBits(n uint) uint64 {
	if n <= r.valid {
		v := r.buf >> (64 - n) // a shift by 64 yields 0, so n == 0 works
		r.buf <<= n
		r.valid -= n
		return v
	}
	return r.readBitsSlow(n)
}

// readBit returns the next bit.
func (r *bitReader) readBit() uint64 {
	if r.valid == 0 {
		return r.readBitsSlow(1)
	}
	v := r.buf >> 63
	r.buf <<= 1
	r.valid--
	return v
}

func (r *bitReader) readBitsSlow(n uint) uint64 {
	if n > 56 { // refill guarantees 57 bits only
		hi := r.readBits(n - 32)
		return hi<<32 | r.readBits(32)
	}
	r.refill()
	if n > r.valid {
		r.overrun = true
		r.valid, r.b = 0, nil
		return 0
	}
	return r.readBits(n)
}

// refill loads whole bytes into buf until at least 57 bits are valid or the
// input is exhausted.
func (r *bitReader) refill() {
	if len(r.b) >= 8 {
		// OR in a whole word; the bits past the bytes counted as loaded are
		// the stream's next bits, so OR-ing them in again later is harmless.
		take := (64 - r.valid) >> 3
		r.buf |= binary.BigEndian.Uint64(r.b) >> r.valid
		r.b = r.b[take:]
		r.valid += take << 3
		return
	}
	for r.valid <= 56 && len(r.b) > 0 {
		r.buf |= uint64(r.b[0]) << (56 - r.valid)
		r.b = r.b[1:]
		r.valid += 8
	}
}

// atEnd reports whether the stream was read to its end: no read went past
// it, and what is left is fewer than 8 bits, all zero (the padding).
func (r *bitReader) atEnd() bool {
	return !r.overrun && len(r.b) == 0 && r.valid < 8 && r.buf>>(64-r.valid) == 0
}

// readPacked reads a value written by writePacked with the same widths.
func (r *bitReader) readPacked(ws *[3]uint8) uint64 {
	if r.valid >= 2 {
		// Fast path: decide the bucket from the two top bits of buf.
		var n uint
		switch r.buf >> 62 {
		case 0, 1:
			r.buf <<= 1
			r.valid--
			n = uint(ws[0])
		case 2:
			r.buf <<= 2
			r.valid -= 2
			n = uint(ws[1])
		default:
			r.buf <<= 2
			r.valid -= 2
			n = uint(ws[2])
		}
		return r.readBits(n)
	}
	if r.readBit() == 0 {
		return r.readBits(uint(ws[0]))
	}
	if r.readBit() == 0 {
		return r.readBits(uint(ws[1]))
	}
	return r.readBits(uint(ws[2]))
}

// readHeadDoD reads a value written by writeHeadDoD.
func (r *bitReader) readHeadDoD() int64 {
	if r.readBit() == 0 {
		return 0
	}
	var n uint
	switch {
	case r.readBit() == 0:
		n = 8
	case r.readBit() == 0:
		n = 16
	case r.readBit() == 0:
		n = 24
	default:
		return int64(r.readBits(64))
	}
	return int64(r.readBits(n)<<(64-n)) >> (64 - n)
}

// zigzag maps signed to unsigned integers so that small magnitudes of either
// sign become small numbers: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ...
func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
