package chunkenc

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

func TestBitWriter_WriteBits_RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type item struct {
		u uint64
		n uint
	}
	var items []item
	var w bitWriter
	total := uint(0)
	for range 5000 {
		n := uint(r.IntN(65))
		u := r.Uint64()
		if n < 64 {
			u &= 1<<n - 1
		}
		items = append(items, item{u, n})
		w.writeBits(u, n)
		total += n
		if want := int((total + 7) / 8); len(w.b) != want {
			t.Fatalf("after %d bits the stream is %d bytes, want %d", total, len(w.b), want)
		}
	}
	var rd bitReader
	rd.reset(w.b)
	for i, it := range items {
		if got := rd.readBits(it.n); got != it.u {
			t.Fatalf("item %d: read %#x in %d bits, want %#x", i, got, it.n, it.u)
		}
	}
	if !rd.atEnd() {
		t.Fatalf("reader not at end: valid %d, %d bytes left", rd.valid, len(rd.b))
	}
}

func TestBitReader_ReadBits_Overrun(t *testing.T) {
	var rd bitReader
	rd.reset([]byte{0xff, 0x01})
	if got := rd.readBits(12); got != 0xff0 {
		t.Fatalf("read %#x, want 0xff0", got)
	}
	if rd.overrun {
		t.Fatal("overrun set too early")
	}
	if got := rd.readBits(5); got != 0 || !rd.overrun {
		t.Fatalf("read past end = %#x, overrun %v; want 0, true", got, rd.overrun)
	}
	if rd.readBit(); !rd.overrun || rd.atEnd() {
		t.Fatal("overrun must stay set and atEnd false")
	}
}

func TestBitReader_AtEnd_NonZeroPadding(t *testing.T) {
	var rd bitReader
	rd.reset([]byte{0b1010_0001})
	rd.readBits(4)
	if rd.atEnd() {
		t.Fatal("atEnd with a set bit in the padding")
	}
	rd.reset([]byte{0b1010_0000})
	rd.readBits(4)
	if !rd.atEnd() {
		t.Fatal("not atEnd with zero padding")
	}
}

func TestBitWriter_WritePacked_RoundTrip(t *testing.T) {
	f := func(ws [3]uint8, vals []uint64) {
		t.Helper()
		var w bitWriter
		for _, v := range vals {
			w.writePacked(v, &ws)
		}
		var rd bitReader
		rd.reset(w.b)
		for i, v := range vals {
			if got := rd.readPacked(&ws); got != v {
				t.Fatalf("widths %v value %d: got %#x, want %#x", ws, i, got, v)
			}
		}
		if !rd.atEnd() {
			t.Fatalf("widths %v: stream not consumed", ws)
		}
	}
	f([3]uint8{0, 0, 0}, []uint64{0, 0, 0})
	f([3]uint8{0, 3, 9}, []uint64{0, 7, 0, 511, 1, 0})
	f([3]uint8{62, 63, 64}, []uint64{1<<62 - 1, 1<<63 - 1, math.MaxUint64, 0})
	f([3]uint8{64, 64, 64}, []uint64{math.MaxUint64, 0, 12345})
	f([3]uint8{1, 62, 64}, []uint64{1, 1<<62 - 1, 1 << 63, 0})
	r := rand.New(rand.NewPCG(7, 8))
	for range 50 {
		w2 := uint8(r.IntN(65))
		w1 := uint8(r.IntN(int(w2) + 1))
		w0 := uint8(r.IntN(int(w1) + 1))
		vals := make([]uint64, 200)
		for i := range vals {
			vals[i] = r.Uint64() >> (64 - w2)
			if w2 == 0 {
				vals[i] = 0
			}
			if i%3 == 0 {
				vals[i] >>= bits.Len8(w2)
			}
		}
		f([3]uint8{w0, w1, w2}, vals)
	}
}

func TestBitWriter_WriteHeadDoD_Buckets(t *testing.T) {
	vals := []int64{0, 1, -1, 127, -128, 128, -129, 1<<15 - 1, -1 << 15, 1 << 15,
		1<<23 - 1, -1 << 23, 1 << 23, math.MaxInt64, math.MinInt64}
	wantBits := []int{1, 10, 10, 10, 10, 19, 19, 19, 19, 28, 28, 28, 68, 68, 68}
	for i, v := range vals {
		var w bitWriter
		w.writeHeadDoD(v)
		w.writeBits(1, 1) // a marker bit right after, to find the size
		var rd bitReader
		rd.reset(w.b)
		if got := rd.readHeadDoD(); got != v {
			t.Fatalf("dod %d: read %d", v, got)
		}
		if rd.readBit() != 1 {
			t.Fatalf("dod %d: marker bit misplaced", v)
		}
		if got := len(w.b)*8 - int(w.free) - 1; got != wantBits[i] {
			t.Fatalf("dod %d took %d bits, want %d", v, got, wantBits[i])
		}
	}
}

func TestBitReader_ReadHeadDoD_Stream(t *testing.T) {
	// A long stream, so most reads take the fast path out of buf.
	r := rand.New(rand.NewPCG(17, 18))
	var vals []int64
	for range 3000 {
		shift := []int{0, 7, 8, 15, 16, 23, 24, 63}[r.IntN(8)]
		v := int64(r.Uint64()) >> (63 - shift) // either sign
		if r.IntN(4) == 0 {
			v = 0
		}
		vals = append(vals, v)
	}
	var w bitWriter
	for _, v := range vals {
		w.writeHeadDoD(v)
	}
	var rd bitReader
	rd.reset(w.b)
	for i, v := range vals {
		if got := rd.readHeadDoD(); got != v {
			t.Fatalf("value %d: read %d, want %d", i, got, v)
		}
	}
	if !rd.atEnd() {
		t.Fatal("stream not consumed")
	}
}

func TestZigzag_RoundTrip(t *testing.T) {
	for _, x := range []int64{0, -1, 1, -2, 2, math.MaxInt64, math.MinInt64, 1 << 40} {
		if got := unzigzag(zigzag(x)); got != x {
			t.Fatalf("unzigzag(zigzag(%d)) = %d", x, got)
		}
	}
	if zigzag(-1) != 1 || zigzag(1) != 2 || zigzag(math.MinInt64) != math.MaxUint64 {
		t.Fatal("zigzag mapping is not 0,-1,1 -> 0,1,2")
	}
}
