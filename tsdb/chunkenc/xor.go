package chunkenc

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// noWindow marks an XOR state that has not yet chosen a window of
// significant bits, so the next changed value opens one.
const noWindow = 0xff

// maxSampleBytes bounds the bytes one head sample adds (68 bits of
// timestamp, 77 of value) plus the 8-byte overhang of bitWriter.writeBits.
const maxSampleBytes = 32

// initialCap is the buffer size of a new XOR chunk: a size class of Go's
// allocator with room for the header and a few samples.
const initialCap = 96

// XOR is an appendable Gorilla chunk for one series' open epoch in the head:
// timestamps as delta-of-deltas and values as the XOR with the previous
// value, interleaved in one bit stream behind a fixed 21-byte header (see the
// package documentation). Appending costs no allocation beyond amortised
// growth of the buffer.
//
// An XOR is not safe for concurrent use: the caller serialises Append with
// every other method and with reading the slice Bytes returned.
type XOR struct {
	w      bitWriter // header and stream
	x      xorEnc    // value state
	t      int64     // last timestamp
	tDelta int64     // last timestamp delta
	n      uint32
}

// NewXOR returns an empty chunk.
func NewXOR() *XOR {
	c := &XOR{x: xorEnc{leading: noWindow}}
	c.w.b = make([]byte, headHeaderLen, initialCap)
	return c
}

// NewXORCap returns an empty chunk whose buffer holds capacity bytes
// before it grows, for callers that know how large the chunk will be.
func NewXORCap(capacity int) *XOR {
	c := &XOR{x: xorEnc{leading: noWindow}}
	c.w.b = make([]byte, headHeaderLen, max(capacity, initialCap))
	return c
}

// Append adds a sample. t must be greater than the last timestamp appended:
// otherwise Append returns ErrOutOfOrder and the chunk is unchanged. Past
// MaxSamples samples it returns ErrTooManySamples.
func (c *XOR) Append(t int64, v float64) error {
	if c.n > 0 && t <= c.t {
		return ErrOutOfOrder
	}
	if c.n >= MaxSamples {
		return ErrTooManySamples
	}
	if cap(c.w.b)-len(c.w.b) < maxSampleBytes {
		c.grow()
	}
	vb := math.Float64bits(v)
	if c.n == 0 {
		binary.BigEndian.PutUint64(c.w.b[5:], uint64(t))
		c.w.writeBits(vb, 64)
		c.x.prev = vb
	} else {
		// The timestamp's code goes out with the value's in one write
		// when it can: most samples take one or two writes.
		d := t - c.t
		code, n, wide := headDoD(d - c.tDelta)
		if wide {
			c.w.writeBits(code, n)
			c.w.writeBits(uint64(d-c.tDelta), 64)
			code, n = 0, 0
		}
		c.tDelta = d
		c.x.write(&c.w, vb, code, n)
	}
	c.t = t
	c.n++
	binary.BigEndian.PutUint32(c.w.b[1:], c.n)
	binary.BigEndian.PutUint64(c.w.b[13:], uint64(t))
	return nil
}

// grow moves the buffer to a larger one with append's growth policy: double
// below 256 bytes, then about a quarter more each time, so slack stays small
// for the memory budget, and the capacity is the allocator's size class, so
// Size is exact.
func (c *XOR) grow() {
	c.w.b = slices.Grow(c.w.b, maxSampleBytes)
}

// Len returns the number of samples.
func (c *XOR) Len() int { return int(c.n) }

// MinT returns the first timestamp, or 0 for an empty chunk.
func (c *XOR) MinT() int64 { return int64(binary.BigEndian.Uint64(c.w.b[5:])) }

// MaxT returns the last timestamp, or 0 for an empty chunk.
func (c *XOR) MaxT() int64 { return c.t }

// Bytes returns the encoded chunk, readable by NewIterator, Decode, Count
// and Bounds. It shares memory with c: it is valid until the next Append,
// which may change its bytes in place (the header and the last byte) or move
// the chunk elsewhere. A reader that is not serialised with Append must copy
// it first. Bytes of an empty chunk decode to zero samples.
func (c *XOR) Bytes() []byte { return c.w.b }

// Size returns the bytes c holds in memory, buffer capacity included, for
// the head's memory budget.
func (c *XOR) Size() int { return cap(c.w.b) + int(unsafe.Sizeof(*c)) }

// Iterator returns an iterator over c's samples at the time of the call,
// reusing it when it is not nil. It reads c's buffer in place, so the same
// rules apply as for Bytes.
func (c *XOR) Iterator(it *Iterator) *Iterator {
	if it == nil {
		it = new(Iterator)
	}
	_ = it.Reset(c.w.b) // cannot fail on c's own bytes; Err would report it
	return it
}

// xorEnc is the encoder state of a Gorilla XOR value stream.
type xorEnc struct {
	prev     uint64 // bits of the previous value
	leading  uint8  // leading zeros of the current window, noWindow if none
	trailing uint8  // trailing zeros of the current window
}

// write appends the pn-bit prefix p (pn <= 28) and the code of value bits
// v: '0' if v repeats the previous value; '10' and the XOR's bits inside
// the current window if they fit in it; else '11', 5 bits of leading zeros,
// 6 bits of significant-bit count (0 means 64) and the significant bits,
// which become the new window.
func (e *xorEnc) write(w *bitWriter, v, p uint64, pn uint) {
	x := v ^ e.prev
	e.prev = v
	if x == 0 {
		w.writeBits(p<<1, pn+1)
		return
	}
	lead, trail := xorWindow(x)
	var ctrl uint64
	var cn uint
	if e.leading != noWindow && lead >= e.leading && trail >= e.trailing {
		ctrl, cn = p<<2|0b10, pn+2
	} else {
		e.leading, e.trailing = lead, trail
		sig := 64 - lead - trail
		ctrl, cn = p<<13|0b11<<11|uint64(lead)<<6|uint64(sig&63), pn+13
	}
	sig := uint(64 - e.leading - e.trailing)
	if cn+sig <= 64 {
		w.writeBits(ctrl<<sig|x>>e.trailing, cn+sig)
		return
	}
	w.writeBits(ctrl, cn)
	w.writeBits(x>>e.trailing, sig)
}

// size returns how many bits write would append for v, updating e as write
// does.
func (e *xorEnc) size(v uint64) int {
	x := v ^ e.prev
	e.prev = v
	if x == 0 {
		return 1
	}
	lead, trail := xorWindow(x)
	if e.leading != noWindow && lead >= e.leading && trail >= e.trailing {
		return 2 + int(64-e.leading-e.trailing)
	}
	e.leading, e.trailing = lead, trail
	return 13 + int(64-lead-trail)
}

// xorWindow returns the leading zeros (at most 31, what 5 bits hold) and the
// trailing zeros of a non-zero x.
func xorWindow(x uint64) (lead, trail uint8) {
	lead = uint8(bits.LeadingZeros64(x))
	if lead > 31 {
		lead = 31
	}
	return lead, uint8(bits.TrailingZeros64(x))
}
