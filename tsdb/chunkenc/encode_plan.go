package chunkenc

import (
	"math"
	"math/bits"
)

// lenHist counts values by bit length (bits.Len64), 0..64.
type lenHist [65]int

// widths chooses the three bucket widths of a packed column holding the
// counted values, minimising its size, and returns them with that size in
// bits. A value of bit length l costs 1+w0 bits if l <= w0, 2+w1 if
// l <= w1, else 2+w2, with w2 the largest length present. The best w0 and
// w1 are lengths present, so only those pairs are tried: a handful for
// real data, 65*66/2 at worst.
func (h *lenHist) widths() (ws [3]uint8, size int) {
	var lens [65]uint8
	var cum [65]int // cum[i]: values of length <= lens[i]
	k, total := 0, 0
	for l, c := range h {
		if c > 0 {
			total += c
			lens[k], cum[k] = uint8(l), total
			k++
		}
	}
	if k == 0 {
		return ws, 0
	}
	w2 := int(lens[k-1])
	size = -1
	for i := range k {
		w0, c0 := int(lens[i]), cum[i]
		for j := i; j < k; j++ {
			w1, c1 := int(lens[j]), cum[j]
			s := c0*(1+w0) + (c1-c0)*(2+w1) + (total-c1)*(2+w2)
			if size < 0 || s < size {
				size, ws = s, [3]uint8{uint8(w0), uint8(w1), uint8(w2)}
			}
		}
	}
	return ws, size
}

// intCosts is the size of the scaled integer columns of some values.
type intCosts struct {
	scale              uint8
	m0                 int64
	deltaW, dodW       [3]uint8
	deltaBits, dodBits int
}

// planInts finds the smallest decimal scale s such that every value v is
// some int64 m over 10^s, float64(m)/10^s giving back v's exact bits, and
// sizes the integer columns at s. It reports false if there is none up to
// maxScale: NaN, ±Inf, -0, values with more decimals, or too large once
// scaled.
//
// It sizes at the scale the values so far need and starts over at a higher
// one when a value needs it, at most maxScale times; usually the first
// value sets the scale.
func planInts(vs []float64) (intCosts, bool) {
	s := uint8(0)
	for {
		c, bad := sizeInts(vs, s)
		if bad < 0 {
			return c, true
		}
		for s++; s <= maxScale && !exactAt(vs[bad], s); s++ {
		}
		if s > maxScale {
			return c, false
		}
	}
}

// sizeInts sizes the delta and delta-of-delta integer columns of vs at scale
// s. It returns the index of the first value that is not an integer at s,
// or -1.
func sizeInts(vs []float64, s uint8) (c intCosts, bad int) {
	if !exactAt(vs[0], s) {
		return c, 0
	}
	f := pow10[s]
	c.scale, c.m0 = s, scaled(vs[0], f)
	var dh, ddh lenHist
	m, prevDelta := c.m0, int64(0)
	for i, v := range vs[1:] {
		if !exactAt(v, s) {
			return c, i + 1
		}
		mi := scaled(v, f)
		d := mi - m
		dh[bits.Len64(zigzag(d))]++
		ddh[bits.Len64(zigzag(d-prevDelta))]++
		m, prevDelta = mi, d
	}
	c.deltaW, c.deltaBits = dh.widths()
	c.dodW, c.dodBits = ddh.widths()
	return c, -1
}

// exactAt reports whether v round-trips as an integer at scale s.
func exactAt(v float64, s uint8) bool {
	x := v * pow10[s]
	if !(x >= -0x1p63 && x < 0x1p63) { // also false for NaN
		return false
	}
	m := int64(math.RoundToEven(x))
	return math.Float64bits(float64(m)/pow10[s]) == math.Float64bits(v)
}

// scaled returns v*f as an integer; exactAt must have held.
func scaled(v, f float64) int64 { return int64(math.RoundToEven(v * f)) }

// xorBits returns the size in bits of the XOR stream of vs after the first
// value's 64 bits.
func xorBits(vs []float64) int {
	e := xorEnc{prev: math.Float64bits(vs[0]), leading: noWindow}
	n := 0
	for _, v := range vs[1:] {
		n += e.size(math.Float64bits(v))
	}
	return n
}

// constLen returns how many leading bytes of the big-endian bits vb are
// stored for a constant value: the trailing zero bytes are dropped.
func constLen(vb uint64) int { return 8 - bits.TrailingZeros64(vb)/8 }

// uvarintLen returns the length of the uvarint encoding of u.
func uvarintLen(u uint64) int { return (bits.Len64(u|1) + 6) / 7 }
