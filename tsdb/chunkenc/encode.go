package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Encode appends the sealed form of the samples ts[i], vs[i] to dst and
// returns the extended slice. Timestamps must be strictly ascending.
//
// It measures each encoding the samples allow (constant or delta-of-delta
// timestamps; constant, scaled-integer delta, scaled-integer
// delta-of-delta or Gorilla XOR values) and writes the smallest. Every
// encoding round-trips every float64 bit pattern exactly: NaN payloads, -0
// and ±Inf included; the integer encodings are used only for values that
// survive the round trip bit for bit.
//
// On error dst is returned unchanged.
func Encode(dst []byte, ts []int64, vs []float64) ([]byte, error) {
	p, err := planChunk(ts, vs)
	if err != nil {
		return dst, fmt.Errorf("encode chunk of %d samples: %w", len(ts), err)
	}
	return p.write(dst, ts, vs), nil
}

// plan is the choice of encodings for one chunk, with the sizes that drove
// it.
type plan struct {
	tsEnc, valEnc, scale uint8
	tw, vw               [3]uint8 // packed widths of the timestamp and value columns
	tBits                int      // bits of the packed timestamp column
	vBytes               int      // bytes of the value column
}

// planChunk validates the samples and picks the smallest encodings.
func planChunk(ts []int64, vs []float64) (plan, error) {
	var p plan
	if len(ts) != len(vs) {
		return p, ErrLengthMismatch
	}
	if len(ts) > MaxSamples {
		return p, ErrTooManySamples
	}
	if len(ts) == 0 {
		p.tsEnc, p.valEnc = tsConst, valConst
		return p, nil
	}
	if err := p.planTimes(ts); err != nil {
		return p, err
	}
	p.planValues(vs)
	return p, nil
}

// planTimes checks the timestamps and chooses constant delta if it holds,
// else packed delta-of-deltas.
func (p *plan) planTimes(ts []int64) error {
	constant := true
	for i := 1; i < len(ts); i++ {
		if ts[i] <= ts[i-1] {
			return fmt.Errorf("sample %d: %w", i, ErrOutOfOrder)
		}
		constant = constant && ts[i]-ts[i-1] == ts[1]-ts[0]
	}
	if constant {
		p.tsEnc = tsConst
		return nil
	}
	p.tsEnc = tsDoD
	p.tw, p.tBits = timeDoDWidths(ts)
	return nil
}

// timeDoDWidths returns the widths and size in bits of the packed
// delta-of-delta column of ts.
func timeDoDWidths(ts []int64) ([3]uint8, int) {
	var h lenHist
	var prev int64
	for i := 1; i < len(ts); i++ {
		d := ts[i] - ts[i-1]
		h[bits.Len64(zigzag(d-prev))]++
		prev = d
	}
	return h.widths()
}

// planValues chooses the smallest value encoding the values allow. On a tie
// it takes the one that decodes faster: constant, integer deltas, integer
// delta-of-deltas, then XOR. Full-precision floats leave only XOR, which is
// then not sized.
func (p *plan) planValues(vs []float64) {
	first := math.Float64bits(vs[0])
	constant := true
	for _, v := range vs[1:] {
		if math.Float64bits(v) != first {
			constant = false
			break
		}
	}
	p.valEnc, p.vBytes = valXOR, 0
	if constant && len(vs) > 33 {
		// The constant column is at most 9 bytes. XOR needs 8 bytes and a
		// bit per repeat, integers at least 4 bytes and a bit per repeat:
		// past 33 samples neither can be smaller.
		p.valEnc, p.vBytes = valConst, 1+constLen(first)
		return
	}
	c, isInt := planInts(vs)
	if !constant && !isInt {
		return
	}
	p.vBytes = (64 + xorBits(vs) + 7) / 8
	if isInt {
		head := uvarintLen(zigzag(c.m0)) + 3
		if b := head + (c.dodBits+7)/8; b <= p.vBytes {
			p.valEnc, p.scale, p.vw, p.vBytes = valIntDoD, c.scale, c.dodW, b
		}
		if b := head + (c.deltaBits+7)/8; b <= p.vBytes {
			p.valEnc, p.scale, p.vw, p.vBytes = valIntDelta, c.scale, c.deltaW, b
		}
	}
	if b := 1 + constLen(first); constant && b <= p.vBytes {
		p.valEnc, p.scale, p.vBytes = valConst, 0, b
	}
}

// write appends the chunk planned by p.
func (p *plan) write(dst []byte, ts []int64, vs []float64) []byte {
	dst = append(dst, p.tsEnc<<6|p.valEnc<<4|p.scale)
	dst = binary.AppendUvarint(dst, uint64(len(ts)))
	if len(ts) == 0 {
		return dst
	}
	n := len(ts)
	dst = binary.AppendVarint(dst, ts[0])
	dst = binary.AppendUvarint(dst, uint64(ts[n-1]-ts[0]))
	if p.tsEnc == tsDoD {
		dst = append(dst, p.tw[0], p.tw[1], p.tw[2])
		dst = binary.AppendUvarint(dst, uint64((p.tBits+7)/8))
		dst = writeTimeDoD(dst, ts, &p.tw)
	}
	switch p.valEnc {
	case valConst:
		vb := math.Float64bits(vs[0])
		k := constLen(vb)
		dst = append(dst, byte(k))
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], vb)
		dst = append(dst, buf[:k]...)
	case valXOR:
		dst = writeXOR(dst, vs)
	default:
		dst = p.writeInts(dst, vs)
	}
	return dst
}

func writeTimeDoD(dst []byte, ts []int64, ws *[3]uint8) []byte {
	w := bitWriter{b: dst}
	var prev int64
	for i := 1; i < len(ts); i++ {
		d := ts[i] - ts[i-1]
		w.writePacked(zigzag(d-prev), ws)
		prev = d
	}
	return w.b
}

func writeXOR(dst []byte, vs []float64) []byte {
	w := bitWriter{b: dst}
	e := xorEnc{prev: math.Float64bits(vs[0]), leading: noWindow}
	w.writeBits(e.prev, 64)
	for _, v := range vs[1:] {
		e.write(&w, math.Float64bits(v), 0, 0)
	}
	return w.b
}

// writeInts appends the scaled integer column: the first integer as a zigzag
// uvarint, the three widths, then the packed deltas or delta-of-deltas.
func (p *plan) writeInts(dst []byte, vs []float64) []byte {
	f := pow10[p.scale]
	m := scaled(vs[0], f)
	dst = binary.AppendUvarint(dst, zigzag(m))
	dst = append(dst, p.vw[0], p.vw[1], p.vw[2])
	w := bitWriter{b: dst}
	var prevDelta int64
	for _, v := range vs[1:] {
		mi := scaled(v, f)
		d := mi - m
		if p.valEnc == valIntDoD {
			d, prevDelta = d-prevDelta, d
		}
		w.writePacked(zigzag(d), &p.vw)
		m = mi
	}
	return w.b
}
