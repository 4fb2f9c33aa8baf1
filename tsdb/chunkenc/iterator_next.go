package chunkenc

import "math"

// Next advances to the next sample and reports whether there is one. At the
// end it checks that the chunk ended where its header says; a mismatch, or
// any corruption met on the way, makes Next return false with Err set.
func (it *Iterator) Next() bool {
	if it.i >= it.n {
		return it.finish()
	}
	it.i++
	switch {
	case it.i == 1:
		it.readFirst()
	case it.tsEnc == tsConst:
		it.t += it.tDelta
		it.readValue()
	case it.tsEnc == tsDoD:
		it.tDelta += unzigzag(it.tr.readPacked(&it.tw))
		it.advance(it.t + it.tDelta)
		it.readValue()
	default:
		it.tDelta += it.tr.readHeadDoD()
		it.advance(it.t + it.tDelta)
		it.readXOR(&it.tr)
	}
	if it.tr.overrun || it.vr.overrun {
		// Truncation explains whatever else went wrong reading zeros.
		i := it.i - 1
		it.err = nil
		it.fail(corrupt("stream ends in sample %d of %d", i, it.n))
	}
	return !it.done
}

// SeekTo advances to the first sample with a timestamp at or after t and
// reports whether there is one. It never moves backwards: if the current
// sample is already at or after t, it stays. A t past the chunk's last
// timestamp exhausts the iterator without decoding the rest.
func (it *Iterator) SeekTo(t int64) bool {
	if it.done {
		return false
	}
	if it.i > 0 && it.t >= t {
		return true
	}
	if t > it.maxt {
		it.i, it.done = it.n, true
		return false
	}
	for it.Next() {
		if it.t >= t {
			return true
		}
	}
	return false
}

// At returns the current sample. It is valid after Next or SeekTo returned
// true.
func (it *Iterator) At() (int64, float64) { return it.t, it.v }

// AtT returns the current sample's timestamp.
func (it *Iterator) AtT() int64 { return it.t }

// Err returns the error that stopped the iteration, or nil.
func (it *Iterator) Err() error { return it.err }

// finish runs once, after the last sample: the last timestamp must be the
// header's maxt and both streams must be consumed to their padding.
func (it *Iterator) finish() bool {
	if it.done {
		return false
	}
	it.done = true
	switch {
	case it.n > 0 && it.t != it.maxt:
		it.fail(corrupt("last timestamp %d, header says %d", it.t, it.maxt))
	case !it.tr.atEnd() || !it.vr.atEnd():
		it.fail(corrupt("bytes after the last sample"))
	}
	return false
}

// fail stops the iteration with err, keeping the first error.
func (it *Iterator) fail(err error) {
	if it.err == nil {
		it.err = err
	}
	it.i, it.done = it.n, true
}

// readFirst decodes sample 0, whose timestamp is the header's mint.
func (it *Iterator) readFirst() {
	it.t = it.mint
	switch it.valEnc {
	case valXOR:
		r := &it.vr
		if it.tsEnc == tsHead {
			r = &it.tr
		}
		it.xv = r.readBits(64)
		it.v = math.Float64frombits(it.xv)
	case valIntDelta, valIntDoD:
		it.setInt()
	}
	// valConst: it.v was set by Reset.
}

// advance moves to timestamp t, which must be after the current one.
func (it *Iterator) advance(t int64) {
	if t <= it.t {
		it.failOrder(t)
		return
	}
	it.t = t
}

func (it *Iterator) failOrder(t int64) {
	it.fail(corrupt("timestamp %d not after %d", t, it.t))
}

// readValue decodes the next value of a value column.
func (it *Iterator) readValue() {
	switch it.valEnc {
	case valXOR:
		it.readXOR(&it.vr)
	case valIntDelta:
		it.m += unzigzag(it.vr.readPacked(&it.vw))
		it.setInt()
	case valIntDoD:
		it.mDelta += unzigzag(it.vr.readPacked(&it.vw))
		it.m += it.mDelta
		it.setInt()
	}
}

// setInt sets the value from the scaled integer. Dividing by the exact power
// of ten is what the encoder checked round-trips.
func (it *Iterator) setInt() {
	if it.div == 1 {
		it.v = float64(it.m)
		return
	}
	it.v = float64(it.m) / it.div
}

// readXOR decodes the next value of a Gorilla XOR stream (see xorEnc.write).
func (it *Iterator) readXOR(r *bitReader) {
	if r.valid < 13 {
		r.refill()
		if r.valid < 13 { // the stream's end
			it.readXORSlow(r)
			return
		}
	}
	// The control bits and a window header are in buf.
	switch r.buf >> 62 {
	case 0, 1: // '0': value repeats
		r.buf <<= 1
		r.valid--
		return
	case 2: // '10': bits in the current window
		if it.leading == noWindow {
			it.fail(corrupt("xor window reused before one was set"))
			return
		}
		r.buf <<= 2
		r.valid -= 2
	default: // '11': new window
		h := r.buf >> 51 & (1<<11 - 1)
		r.buf <<= 13
		r.valid -= 13
		if !it.setWindow(h) {
			return
		}
	}
	sig := 64 - uint(it.leading) - uint(it.trailing)
	var x uint64
	if sig <= r.valid {
		x = r.buf >> (64 - sig)
		r.buf <<= sig
		r.valid -= sig
	} else {
		x = r.readBits(sig)
	}
	it.xv ^= x << it.trailing
	it.v = math.Float64frombits(it.xv)
}

// setWindow sets the XOR window from an 11-bit header: 5 bits of leading
// zeros, 6 bits of significant bits (0 meaning 64).
func (it *Iterator) setWindow(h uint64) bool {
	lead, sig := uint8(h>>6), uint8(h&63)
	if sig == 0 {
		sig = 64
	}
	if lead+sig > 64 {
		it.fail(corrupt("xor window of %d+%d bits", lead, sig))
		return false
	}
	it.leading, it.trailing = lead, 64-lead-sig
	return true
}

// readXORSlow is readXOR reading bit by bit, for the stream's last bits.
func (it *Iterator) readXORSlow(r *bitReader) {
	if r.readBit() == 0 {
		return
	}
	if r.readBit() == 1 {
		if !it.setWindow(r.readBits(11)) {
			return
		}
	} else if it.leading == noWindow {
		it.fail(corrupt("xor window reused before one was set"))
		return
	}
	it.xv ^= r.readBits(uint(64-it.leading-it.trailing)) << it.trailing
	it.v = math.Float64frombits(it.xv)
}
