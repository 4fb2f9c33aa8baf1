package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Iterator reads the samples of one chunk, of any format, in time order. It
// decodes in place, without allocating, and can be reused with Reset. The
// zero Iterator is exhausted. Corrupt input stops the iteration with an
// error in Err; it never panics and never runs past the sample count of the
// header, which is at most MaxSamples.
//
// An Iterator is not safe for concurrent use. It reads the chunk's bytes
// without copying them: they must not change while it is in use.
type Iterator struct {
	tr bitReader // timestamp column, or the whole stream of the head form
	vr bitReader // value column

	i, n       int // samples read, samples in the chunk
	mint, maxt int64
	t          int64
	v          float64

	tDelta   int64    // last timestamp delta (constant for tsConst)
	xv       uint64   // bits of the last value (valXOR)
	m        int64    // last scaled integer value (valInt*)
	mDelta   int64    // last scaled integer delta (valIntDoD)
	div      float64  // 10^scale (valInt*)
	tw, vw   [3]uint8 // packed widths of the timestamp and value columns
	leading  uint8    // XOR window, noWindow if none
	trailing uint8
	tsEnc    uint8
	valEnc   uint8
	done     bool // past the last sample or failed
	err      error
}

// NewIterator returns an iterator over chunk b. A malformed header is
// reported by Err, and the iterator yields nothing.
func NewIterator(b []byte) *Iterator {
	it := new(Iterator)
	_ = it.Reset(b) // the error stays in it.Err
	return it
}

// Reset makes it iterate over chunk b from its first sample, reusing its
// memory. It returns an error, also kept for Err, if b's header or column
// headers are malformed.
func (it *Iterator) Reset(b []byte) error {
	*it = Iterator{leading: noWindow, div: 1}
	h, rest, err := parseHeader(b)
	if err == nil {
		it.n, it.mint, it.maxt = h.n, h.mint, h.maxt
		it.tsEnc, it.valEnc = h.tsEnc, h.valEnc
		it.div = pow10[h.scale]
		err = it.resetColumns(rest)
	}
	if err != nil {
		it.n, it.done = 0, true
		it.err = err
		return err
	}
	return nil
}

// resetColumns positions the readers on the columns after the header.
func (it *Iterator) resetColumns(rest []byte) error {
	if it.n == 0 {
		return nil
	}
	switch it.tsEnc {
	case tsHead:
		it.tr.reset(rest)
		return it.holds(rest)
	case tsConst:
		span := uint64(it.maxt - it.mint)
		if it.n > 1 {
			if span%uint64(it.n-1) != 0 {
				return corrupt("constant timestamp delta does not divide the span")
			}
			it.tDelta = int64(span / uint64(it.n-1))
		}
	case tsDoD:
		col, r, err := packedColumn(rest, &it.tw, true)
		if err != nil {
			return err
		}
		if err := it.holds(col); err != nil {
			return err
		}
		it.tr.reset(col)
		rest = r
	}
	return it.resetValues(rest)
}

// resetValues positions the value reader on the value column b.
func (it *Iterator) resetValues(b []byte) error {
	switch it.valEnc {
	case valXOR:
		it.vr.reset(b)
		return it.holds(b)
	case valConst:
		if len(b) == 0 || b[0] > 8 || len(b) != 1+int(b[0]) {
			return corrupt("bad constant value")
		}
		var buf [8]byte
		copy(buf[:], b[1:])
		it.v = math.Float64frombits(binary.BigEndian.Uint64(buf[:]))
	default:
		m, k := binary.Uvarint(b)
		if k <= 0 {
			return corrupt("bad first integer value")
		}
		it.m = unzigzag(m)
		col, _, err := packedColumn(b[k:], &it.vw, false)
		if err != nil {
			return err
		}
		it.vr.reset(col)
		return it.holds(col)
	}
	return nil
}

// holds checks that bit column b can hold the samples after the first, at
// a bit or more each, so that a corrupt count is caught before Decode
// allocates for it.
func (it *Iterator) holds(b []byte) error {
	if uint64(it.n-1) > 8*uint64(len(b)) {
		return corrupt("%d samples cannot fit in %d bytes", it.n, len(b))
	}
	return nil
}

// packedColumn reads the three widths of a packed column from b and, if
// sized, its byte length. It returns the column and the bytes after it.
func packedColumn(b []byte, ws *[3]uint8, sized bool) (col, rest []byte, err error) {
	if len(b) < 3 {
		return nil, nil, corrupt("packed widths truncated")
	}
	copy(ws[:], b)
	if ws[0] > 64 || ws[1] > 64 || ws[2] > 64 {
		return nil, nil, corrupt("packed width over 64")
	}
	b = b[3:]
	if !sized {
		return b, nil, nil
	}
	l, k := binary.Uvarint(b)
	if k <= 0 || l > uint64(len(b)-k) {
		return nil, nil, corrupt("bad packed column length")
	}
	b = b[k:]
	return b[:l], b[l:], nil
}

// Decode appends the samples of chunk b to ts and vs. On error it returns ts
// and vs with their original lengths (the spare capacity may be written).
func Decode(b []byte, ts []int64, vs []float64) ([]int64, []float64, error) {
	var it Iterator
	if err := it.Reset(b); err != nil {
		return ts, vs, fmt.Errorf("decode chunk: %w", err)
	}
	lt, lv := len(ts), len(vs)
	ts, vs = slices.Grow(ts, it.n), slices.Grow(vs, it.n)
	if fts, fvs, ok := it.decodeFast(ts, vs); ok {
		return fts, fvs, nil
	}
	// Decode again sample by sample, which names what is wrong.
	_ = it.Reset(b)
	ts, vs = ts[:lt], vs[:lv]
	for it.Next() {
		ts, vs = append(ts, it.t), append(vs, it.v)
	}
	if it.err != nil {
		return ts[:lt], vs[:lv], fmt.Errorf("decode chunk: %w", it.err)
	}
	return ts, vs, nil
}
