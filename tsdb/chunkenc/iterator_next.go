package chunkenc

import "math"

// Next advances to the next sample and reports whether there is one. At the
// end it checks that the chunk ended where its header says; a mismatch, or
// any corruption met on the way, makes Next return false with Err set.
func (it *Iterator) Next() bool {
	if it.i >= it.n {
		return it.finish()
	}
	switch {
	case it.i == 0:
		it.readFirst()
	case it.tsEnc == tsHead:
		it.readHead()
	default:
		it.readTime()
		it.readValue()
	}
	it.i++
	if it.tr.overrun || it.vr.overrun {
		it.fail(corrupt("stream ends after %d of %d samples", it.i-1, it.n))
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

// Len returns the number of samples in the chunk, from its header.
func (it *Iterator) Len() int { return it.n }

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

// readHead decodes a sample of the interleaved head stream.
func (it *Iterator) readHead() {
	it.tDelta += it.tr.readHeadDoD()
	it.advance(it.t + it.tDelta)
	it.readXOR(&it.tr)
}

// readTime decodes the next timestamp of a timestamp column.
func (it *Iterator) readTime() {
	if it.tsEnc == tsConst {
		it.t += it.tDelta
		return
	}
	it.tDelta += unzigzag(it.tr.readPacked(&it.tw))
	it.advance(it.t + it.tDelta)
}

// advance moves to timestamp t, which must be after the current one.
func (it *Iterator) advance(t int64) {
	if t <= it.t {
		it.fail(corrupt("timestamp %d not after %d", t, it.t))
		return
	}
	it.t = t
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
	if r.readBit() == 0 {
		return
	}
	if r.readBit() == 1 {
		h := r.readBits(11)
		lead, sig := uint8(h>>6), uint8(h&63)
		if sig == 0 {
			sig = 64
		}
		if lead+sig > 64 {
			it.fail(corrupt("xor window of %d+%d bits", lead, sig))
			return
		}
		it.leading, it.trailing = lead, 64-lead-sig
	} else if it.leading == noWindow {
		it.fail(corrupt("xor window reused before one was set"))
		return
	}
	it.xv ^= r.readBits(uint(64-it.leading-it.trailing)) << it.trailing
	it.v = math.Float64frombits(it.xv)
}
