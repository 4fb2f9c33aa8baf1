package chunkenc

import "encoding/binary"

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
	need := 2 + uint(ws[2])
	if r.valid < need {
		r.refill()
		if r.valid < need { // the stream's end, or a width over 55
			return r.readPackedSlow(ws)
		}
	}
	// The whole value is in buf: pick the bucket from its two top bits.
	var p, n uint
	switch r.buf >> 62 {
	case 0, 1:
		p, n = 1, uint(ws[0])
	case 2:
		p, n = 2, uint(ws[1])
	default:
		p, n = 2, uint(ws[2])
	}
	buf := r.buf << p
	r.buf = buf << n
	r.valid -= p + n
	return buf >> (64 - n) // a shift by 64 yields 0, so n == 0 works
}

func (r *bitReader) readPackedSlow(ws *[3]uint8) uint64 {
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
	if r.valid < 28 {
		r.refill()
		if r.valid < 28 {
			return r.readHeadDoDSlow()
		}
	}
	// The prefix and up to 24 bits are in buf. An arithmetic shift of the
	// left-aligned bits sign-extends them.
	var p, n uint
	switch top := r.buf >> 60; {
	case top < 0b1000:
		r.buf <<= 1
		r.valid--
		return 0
	case top < 0b1100:
		p, n = 2, 8
	case top < 0b1110:
		p, n = 3, 16
	case top == 0b1110:
		p, n = 4, 24
	default:
		r.buf <<= 4
		r.valid -= 4
		return int64(r.readBits(64))
	}
	buf := r.buf << p
	r.buf = buf << n
	r.valid -= p + n
	return int64(buf) >> (64 - n)
}

func (r *bitReader) readHeadDoDSlow() int64 {
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
