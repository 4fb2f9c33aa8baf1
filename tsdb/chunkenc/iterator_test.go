package chunkenc

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// testChunk is an encoded chunk and the samples it holds.
type testChunk struct {
	b  []byte
	ts []int64
	vs []float64
}

// sampleChunks returns a chunk of every encoding, head form included.
func sampleChunks(t testing.TB) map[string]testChunk {
	t.Helper()
	r := rand.New(rand.NewPCG(13, 14))
	reg := regularTimes(200, epochStart, 10_000)
	jit := jitterTimes(r, 200, epochStart, 10_000, 30)
	linear := make([]float64, 200)
	for i := range linear {
		linear[i] = float64(3 * i)
	}
	shapes := []struct {
		name string
		ts   []int64
		vs   []float64
	}{
		{"const/const", reg, constant(200, 2.5)},
		{"const/xor", reg, randomWalk(r, 200)},
		{"dod/xor", jit, randomWalk(r, 200)},
		{"dod/int-delta", jit, gauge2(r, 200)},
		{"const/int-dod", reg, linear},
	}
	out := map[string]testChunk{}
	for _, s := range shapes {
		b, err := Encode(nil, s.ts, s.vs)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatName(b[0]); !strings.HasPrefix(got, s.name+"/") {
			t.Fatalf("%s samples encoded as %s", s.name, got)
		}
		out[s.name] = testChunk{b, s.ts, s.vs}
	}
	head := appendAll(t, jit, randomWalk(r, 200))
	hts, hvs := decodeAll(t, head.Bytes())
	out["head"] = testChunk{head.Bytes(), hts, hvs}
	return out
}

func TestIterator_SeekTo(t *testing.T) {
	for name, c := range sampleChunks(t) {
		t.Run(name, func(t *testing.T) {
			ts := c.ts
			f := func(it *Iterator, seek int64, wantOK bool, wantIdx int) {
				t.Helper()
				ok := it.SeekTo(seek)
				if ok != wantOK {
					t.Fatalf("SeekTo(%d) = %v, want %v (err %v)", seek, ok, wantOK, it.Err())
				}
				if ok {
					gt, gv := it.At()
					if gt != ts[wantIdx] || math.Float64bits(gv) != math.Float64bits(c.vs[wantIdx]) {
						t.Fatalf("SeekTo(%d) at (%d, %g), want sample %d (%d, %g)", seek, gt, gv, wantIdx, ts[wantIdx], c.vs[wantIdx])
					}
				}
			}
			it := NewIterator(c.b)
			f(it, math.MinInt64, true, 0)
			f(it, ts[0], true, 0)
			f(it, ts[10]-1, true, 10)   // between samples
			f(it, ts[10], true, 10)     // stays
			f(it, ts[5], true, 10)      // never backwards
			f(it, ts[150]+1, true, 151) // just after a sample
			f(it, ts[len(ts)-1], true, len(ts)-1)
			f(it, ts[len(ts)-1]+1, false, 0)
			f(it, ts[0], false, 0) // exhausted stays exhausted
			if it.Err() != nil {
				t.Fatalf("err %v", it.Err())
			}
			it = NewIterator(c.b)
			f(it, ts[len(ts)-1]+1, false, 0) // past maxt, without decoding
			if it.Next() {
				t.Fatal("Next after an exhausting SeekTo")
			}
		})
	}
}

func TestIterator_Next_ZeroAllocs(t *testing.T) {
	for name, c := range sampleChunks(t) {
		t.Run(name, func(t *testing.T) {
			var it Iterator
			n := 0
			allocs := testing.AllocsPerRun(50, func() {
				_ = it.Reset(c.b)
				for it.Next() {
					n++
				}
				it.SeekTo(0)
			})
			if allocs != 0 {
				t.Fatalf("%.1f allocations per iteration", allocs)
			}
			if n != 51*len(c.ts) || it.Err() != nil {
				t.Fatalf("iterated %d samples, err %v", n, it.Err())
			}
		})
	}
}

func TestIterator_Zero(t *testing.T) {
	var it Iterator
	if it.Next() || it.SeekTo(0) || it.Err() != nil {
		t.Fatal("zero Iterator is not exhausted and error-free")
	}
}

func TestDecode_Truncated(t *testing.T) {
	for name, c := range sampleChunks(t) {
		t.Run(name, func(t *testing.T) {
			for l := range len(c.b) {
				ts, vs, err := Decode(c.b[:l], []int64{1}, []float64{2})
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("prefix of %d/%d bytes: err %v, want ErrCorrupt", l, len(c.b), err)
				}
				if len(ts) != 1 || len(vs) != 1 {
					t.Fatalf("prefix of %d bytes: output grew to %d, %d", l, len(ts), len(vs))
				}
			}
		})
	}
}

func TestDecode_TrailingBytes(t *testing.T) {
	for name, c := range sampleChunks(t) {
		t.Run(name, func(t *testing.T) {
			b := append(append([]byte(nil), c.b...), 0)
			if _, _, err := Decode(b, nil, nil); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestDecode_AppendsToExisting(t *testing.T) {
	b, err := Encode(nil, []int64{5, 6}, []float64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	ts, vs, err := Decode(b, []int64{1}, []float64{9})
	if err != nil {
		t.Fatal(err)
	}
	requireSamples(t, ts, vs, []int64{1, 5, 6}, []float64{9, 1, 2})
}

// enc builds a chunk from raw parts for the corruption cases.
func enc(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case int:
			b = append(b, byte(p))
		case uvarint:
			b = binary.AppendUvarint(b, uint64(p))
		case varint:
			b = binary.AppendVarint(b, int64(p))
		case []byte:
			b = append(b, p...)
		}
	}
	return b
}

type (
	uvarint uint64
	varint  int64
)

func TestDecode_Corrupt(t *testing.T) {
	f := func(name string, b []byte) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, _, err := Decode(b, nil, nil)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Decode err %v, want ErrCorrupt", err)
			}
			t.Log(err)
		})
	}
	constConst := byte(tsConst<<6 | valConst<<4)
	constXOR := byte(tsConst<<6 | valXOR<<4)
	dodXOR := byte(tsDoD<<6 | valXOR<<4)
	head := func(n uint32, mint, maxt int64) []byte {
		b := make([]byte, headHeaderLen)
		binary.BigEndian.PutUint32(b[1:], n)
		binary.BigEndian.PutUint64(b[5:], uint64(mint))
		binary.BigEndian.PutUint64(b[13:], uint64(maxt))
		return b
	}
	f("empty input", nil)
	f("unknown timestamp encoding", enc(0xc0|valConst<<4, uvarint(1), varint(0), uvarint(0), 0))
	f("scale on xor", enc(constXOR|3, uvarint(1), varint(0), uvarint(0), make([]byte, 8)))
	f("count overflows", enc(constConst, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))
	f("too many samples", enc(constConst, uvarint(MaxSamples+1), varint(0), uvarint(1<<40), 0))
	f("count beyond span", enc(constConst, uvarint(10), varint(0), uvarint(8), 0))
	f("span overflows int64", enc(constConst, uvarint(2), varint(math.MaxInt64), uvarint(1), 0))
	f("delta does not divide span", enc(constConst, uvarint(3), varint(0), uvarint(5), 0))
	f("bytes after empty chunk", enc(constConst, uvarint(0), 0))
	f("const value too long", enc(constConst, uvarint(1), varint(0), uvarint(0), 9, make([]byte, 9)))
	f("const value short", enc(constConst, uvarint(1), varint(0), uvarint(0), 3, 1, 2))
	f("packed width over 64", enc(dodXOR, uvarint(3), varint(0), uvarint(10), 0, 0, 65, uvarint(1), 0))
	f("packed column too long", enc(dodXOR, uvarint(3), varint(0), uvarint(10), 4, 4, 4, uvarint(9), 0))
	// Timestamps 0, 5, 5: the second delta-of-delta (-5) makes them equal.
	var w bitWriter
	ws := [3]uint8{4, 4, 4}
	w.writePacked(zigzag(5), &ws)
	w.writePacked(zigzag(-5), &ws)
	f("timestamps not ascending", enc(dodXOR|0, uvarint(3), varint(0), uvarint(10), 4, 4, 4,
		uvarint(len(w.b)), w.b, make([]byte, 8), 0))
	f("last timestamp not maxt", enc(dodXOR, uvarint(3), varint(0), uvarint(20), 4, 4, 4,
		uvarint(len(w.b)), []byte{0b0101_0010, 0b1000_0000}, make([]byte, 8), 0))
	f("count beyond head stream", append(head(1000, 0, 5000), make([]byte, 9)...))
	f("count beyond xor column", enc(constXOR, uvarint(100), varint(0), uvarint(99), make([]byte, 9)))
	f("head header truncated", head(1, 0, 0)[:20])
	f("head with value bits", append([]byte{0x10}, head(1, 0, 0)[1:]...))
	f("head count beyond span", append(head(3, 0, 1), make([]byte, 9)...))
	f("head stream truncated", append(head(2, 0, 10), make([]byte, 8)...))
	// Sample 1 of a head chunk: delta 1, then '10': reuse of an XOR window
	// before any was set.
	w = bitWriter{b: head(2, 0, 1)}
	w.writeBits(0, 64)
	w.writeHeadDoD(1)
	w.writeBits(0b10, 2)
	w.writeBits(1, 8)
	f("xor window reused first", w.b)
	// '11', leading 31, 63 significant bits: 94 bits do not fit in 64.
	w = bitWriter{b: head(2, 0, 1)}
	w.writeBits(0, 64)
	w.writeHeadDoD(1)
	w.writeBits(0b11<<11|31<<6|63, 13)
	w.writeBits(1, 63)
	f("xor window too wide", w.b)
}

func TestCount_Bounds_Corrupt(t *testing.T) {
	for _, b := range [][]byte{nil, {0x50}, {0x50, 5}, {0x50, 5, 0}, {0xc0, 0}, {0}} {
		if _, err := Count(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Count(%x) err %v, want ErrCorrupt", b, err)
		}
		if _, _, err := Bounds(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Bounds(%x) err %v, want ErrCorrupt", b, err)
		}
	}
}
