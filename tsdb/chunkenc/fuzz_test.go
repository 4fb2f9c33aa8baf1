package chunkenc

import (
	"encoding/binary"
	"math"
	"testing"
)

// Fuzz targets. Seeds come from f.Add below and from testdata/fuzz/FuzzXxx.
// Run one with, for example:
//
//	go test ./tsdb/chunkenc -run '^$' -fuzz '^FuzzEncodeDecode$' -fuzztime 60s

// maxFuzzInput caps fuzz inputs; a few thousand samples is a full chunk.
const maxFuzzInput = 1 << 16

// maxFuzzSamples caps the samples derived from one input.
const maxFuzzSamples = 4000

// fuzzReader hands out the bytes of a fuzz input, zeros once exhausted.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) uint64(n int) uint64 {
	var buf [8]byte
	k := copy(buf[8-n:], r.b)
	r.b = r.b[k:]
	return binary.BigEndian.Uint64(buf[:])
}

// specials are values whose bits are easy to get wrong.
var specials = [...]uint64{
	staleNaN, 0x7ff8000000000001, 0xfff8000000000000, 0x7ff0000000000000,
	0xfff0000000000000, 0x8000000000000000, 0, 0x7fefffffffffffff, 1,
	0x3fb999999999999a, // 0.1
	0x3fd3333333333334, // 0.30000000000000004
	0xc3e0000000000000, // -2^63
	0x43e0000000000000, // 2^63
}

// samplesFromBytes derives strictly ascending samples from a fuzz input:
// 8 bytes of start time, then per sample a control byte choosing how the
// timestamp and the value change, and their operand bytes.
func samplesFromBytes(data []byte) ([]int64, []float64) {
	r := &fuzzReader{b: data}
	t := int64(r.uint64(8))
	var ts []int64
	var vs []float64
	delta, v := int64(10_000), 0.0
	for len(r.b) > 0 && len(ts) < maxFuzzSamples {
		c := r.byte()
		switch c & 3 {
		case 1:
			delta += int64(int8(r.byte()))
		case 2:
			delta = int64(r.uint64(2))
		case 3:
			delta = int64(r.uint64(8) >> (r.byte() & 63))
		}
		delta = max(delta, 1)
		if len(ts) > 0 {
			if t > math.MaxInt64-delta {
				break
			}
			t += delta
		}
		v = nextValue(r, c>>2, v)
		ts, vs = append(ts, t), append(vs, v)
	}
	return ts, vs
}

// nextValue derives the next value from the value mode m (0..63) and the
// previous value.
func nextValue(r *fuzzReader, m byte, prev float64) float64 {
	switch m & 7 {
	case 0:
		return prev
	case 1:
		return float64(int16(r.uint64(2)))
	case 2:
		return float64(int16(r.uint64(2))) / 100
	case 3:
		return math.Float64frombits(r.uint64(8))
	case 4:
		return math.Float64frombits(specials[int(r.byte())%len(specials)])
	case 5:
		return prev + float64(int8(r.byte()))
	case 6:
		return prev + float64(r.byte())/10
	default:
		return float64(int64(r.uint64(8)) >> (m >> 3))
	}
}

func FuzzEncodeDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0, 0, 4, 0, 4, 0, 4})
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0x10, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		ts, vs := samplesFromBytes(data)
		b := checkRoundTrip(t, ts, vs)
		if len(ts) == 0 {
			return
		}
		// SeekTo agrees with a linear search.
		target := ts[0] + int64(uint64(ts[len(ts)-1]-ts[0])/2)
		want := 0
		for ts[want] < target {
			want++
		}
		it := NewIterator(b)
		if !it.SeekTo(target) || it.AtT() != ts[want] {
			t.Fatalf("SeekTo(%d) at %d, want %d (err %v)", target, it.AtT(), ts[want], it.Err())
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, c := range sampleChunks(f) {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		n, errCount := Count(b)
		_, _, errBounds := Bounds(b)
		it := NewIterator(b)
		got := 0
		for it.Next() {
			got++
		}
		if it.Err() == nil && (errCount != nil || got != n) {
			t.Fatalf("iterated %d samples without error, Count = %d, %v", got, n, errCount)
		}
		if n > 1<<16 {
			return // valid constant chunks can be large; Decode would just copy
		}
		ts, vs, err := Decode(b, nil, nil)
		if (err == nil) != (it.Err() == nil) {
			t.Fatalf("Decode err %v, Iterator err %v", err, it.Err())
		}
		if err != nil {
			return
		}
		if len(ts) != n || (n > 0 && errBounds != nil) {
			t.Fatalf("decoded %d samples, Count %d, Bounds err %v", len(ts), n, errBounds)
		}
		if n > 0 {
			mint, maxt, _ := Bounds(b)
			if ts[0] != mint || ts[n-1] != maxt {
				t.Fatalf("samples span %d..%d, Bounds %d..%d", ts[0], ts[n-1], mint, maxt)
			}
		}
		// Whatever decodes is a valid chunk's content: it re-encodes.
		b2, err := Encode(nil, ts, vs)
		if err != nil {
			t.Fatalf("re-encode decoded samples: %v", err)
		}
		ts2, vs2 := decodeAll(t, b2)
		requireSamples(t, ts2, vs2, ts, vs)
	})
}

func FuzzXOR(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0, 1, 3, 0x0c, 0x17, 0x0d, 0x3f, 1, 0, 0x11, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		ts, vs := samplesFromBytes(data)
		c := appendAll(t, ts, vs)
		gotT, gotV := iterateAll(t, c.Iterator(nil))
		requireSamples(t, gotT, gotV, ts, vs)
		if c.Len() != len(ts) {
			t.Fatalf("Len %d, want %d", c.Len(), len(ts))
		}
		if len(ts) > 0 && (c.MinT() != ts[0] || c.MaxT() != ts[len(ts)-1]) {
			t.Fatalf("MinT, MaxT = %d, %d; want %d, %d", c.MinT(), c.MaxT(), ts[0], ts[len(ts)-1])
		}
		// The head chunk re-encodes to a sealed one with the same samples.
		b, err := Encode(nil, gotT, gotV)
		if err != nil {
			t.Fatal(err)
		}
		gotT, gotV = decodeAll(t, b)
		requireSamples(t, gotT, gotV, ts, vs)
	})
}
