package chunkenc

import (
	"encoding/binary"
	"math"
)

// decodeFast appends all samples of the chunk it was just Reset to, column
// by column in tight loops: the whole-chunk path of Decode, about twice as
// fast as Next per sample. It reports false on anything unexpected (a
// truncated stream, timestamps out of order, a wrong end); Decode then
// decodes again with Next, which names the error. ts and vs have room for
// it.n more samples.
func (it *Iterator) decodeFast(ts []int64, vs []float64) ([]int64, []float64, bool) {
	if it.n == 0 {
		return ts, vs, true
	}
	if it.tsEnc == tsHead {
		return it.decodeHead(ts, vs)
	}
	base := len(ts)
	var ok bool
	if ts, ok = it.timeColumn(ts); !ok {
		return ts, vs, false
	}
	if vs, ok = it.valueColumn(vs); !ok {
		return ts, vs, false
	}
	ok = ts[len(ts)-1] == it.maxt && ts[base] == it.mint &&
		!it.tr.overrun && !it.vr.overrun && it.tr.atEnd() && it.vr.atEnd()
	return ts, vs, ok
}

// timeColumn appends the timestamps of a sealed chunk.
func (it *Iterator) timeColumn(ts []int64) ([]int64, bool) {
	t := it.mint
	ts = append(ts, t)
	if it.tsEnc == tsConst {
		for range it.n - 1 {
			t += it.tDelta
			ts = append(ts, t)
		}
		return ts, true
	}
	r := &it.tr
	var delta int64
	for range it.n - 1 {
		delta += unzigzag(r.readPacked(&it.tw))
		next := t + delta
		if next <= t {
			return ts, false
		}
		t = next
		ts = append(ts, t)
	}
	return ts, true
}

// valueColumn appends the values of a sealed chunk.
func (it *Iterator) valueColumn(vs []float64) ([]float64, bool) {
	switch it.valEnc {
	case valXOR:
		it.xv = it.vr.readBits(64)
		vs = append(vs, math.Float64frombits(it.xv))
		return it.xorValues(&it.vr, vs, it.n-1)
	case valConst:
		for range it.n {
			vs = append(vs, it.v)
		}
		return vs, true
	}
	m, mDelta, div := it.m, int64(0), it.div
	r := &it.vr
	for i := range it.n {
		if i > 0 {
			d := unzigzag(r.readPacked(&it.vw))
			if it.valEnc == valIntDoD {
				mDelta += d
				d = mDelta
			}
			m += d
		}
		if div == 1 {
			vs = append(vs, float64(m))
		} else {
			vs = append(vs, float64(m)/div)
		}
	}
	return vs, true
}

// xorValues appends n values of a Gorilla XOR stream read from r: the
// steps of readXOR, with the reader's state in local variables (registers)
// and no call per value. Near the stream's end it hands over to readXOR.
func (it *Iterator) xorValues(r *bitReader, vs []float64, n int) ([]float64, bool) {
	xv, leading, trailing := it.xv, it.leading, it.trailing
	buf, valid, b := r.buf, r.valid, r.b
	for range n {
		if valid < 13 {
			if len(b) < 8 { // the last bytes: one value the careful way
				r.buf, r.valid, r.b = buf, valid, b
				it.xv, it.leading, it.trailing = xv, leading, trailing
				it.readXOR(r)
				if it.done {
					return vs, false
				}
				xv, leading, trailing = it.xv, it.leading, it.trailing
				buf, valid, b = r.buf, r.valid, r.b
				vs = append(vs, math.Float64frombits(xv))
				continue
			}
			// As bitReader.refill: OR in a whole word.
			take := (64 - valid) >> 3
			buf |= binary.BigEndian.Uint64(b) >> valid
			b = b[take:]
			valid += take << 3
		}
		switch buf >> 62 {
		case 0, 1: // '0': the value repeats
			buf <<= 1
			valid--
			vs = append(vs, math.Float64frombits(xv))
			continue
		case 2: // '10': bits in the current window
			if leading == noWindow {
				return vs, false
			}
			buf <<= 2
			valid -= 2
		default: // '11': a new window
			h := buf >> 51 & (1<<11 - 1)
			buf <<= 13
			valid -= 13
			lead, sig := uint8(h>>6), uint8(h&63)
			if sig == 0 {
				sig = 64
			}
			if lead+sig > 64 {
				return vs, false
			}
			leading, trailing = lead, 64-lead-sig
		}
		sig := 64 - uint(leading) - uint(trailing)
		if sig > valid && len(b) >= 8 {
			take := (64 - valid) >> 3
			buf |= binary.BigEndian.Uint64(b) >> valid
			b = b[take:]
			valid += take << 3
		}
		var x uint64
		if sig <= valid {
			x = buf >> (64 - sig)
			buf <<= sig
			valid -= sig
		} else {
			r.buf, r.valid, r.b = buf, valid, b
			x = r.readBits(sig)
			buf, valid, b = r.buf, r.valid, r.b
		}
		xv ^= x << trailing
		vs = append(vs, math.Float64frombits(xv))
	}
	r.buf, r.valid, r.b = buf, valid, b
	it.xv, it.leading, it.trailing = xv, leading, trailing
	return vs, true
}

// decodeHead appends the samples of a head-form chunk: timestamps and
// values interleaved in one stream.
func (it *Iterator) decodeHead(ts []int64, vs []float64) ([]int64, []float64, bool) {
	r := &it.tr
	t := it.mint
	it.xv = r.readBits(64)
	ts, vs = append(ts, t), append(vs, math.Float64frombits(it.xv))
	var delta int64
	for range it.n - 1 {
		delta += r.readHeadDoD()
		next := t + delta
		if next <= t {
			return ts, vs, false
		}
		t = next
		ts = append(ts, t)
		var ok bool
		if vs, ok = it.xorValues(r, vs, 1); !ok {
			return ts, vs, false
		}
	}
	ok := t == it.maxt && !r.overrun && r.atEnd()
	return ts, vs, ok
}
