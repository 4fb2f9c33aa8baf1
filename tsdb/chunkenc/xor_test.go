package chunkenc

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// appendAll builds an XOR chunk from the samples, failing t on error.
func appendAll(t testing.TB, ts []int64, vs []float64) *XOR {
	t.Helper()
	c := NewXOR()
	for i := range ts {
		if err := c.Append(ts[i], vs[i]); err != nil {
			t.Fatalf("append sample %d (%d): %v", i, ts[i], err)
		}
	}
	return c
}

// iterateAll collects the samples of it.
func iterateAll(t testing.TB, it *Iterator) ([]int64, []float64) {
	t.Helper()
	var ts []int64
	var vs []float64
	for it.Next() {
		tt, v := it.At()
		ts, vs = append(ts, tt), append(vs, v)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return ts, vs
}

func TestXOR_Append_RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	nan := math.Float64frombits(staleNaN)
	f := func(name string, ts []int64, vs []float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			c := appendAll(t, ts, vs)
			gotT, gotV := iterateAll(t, c.Iterator(nil))
			requireSamples(t, gotT, gotV, ts, vs)
			gotT, gotV = decodeAll(t, c.Bytes())
			requireSamples(t, gotT, gotV, ts, vs)
			if c.Len() != len(ts) || c.MinT() != ts[0] || c.MaxT() != ts[len(ts)-1] {
				t.Fatalf("Len, MinT, MaxT = %d, %d, %d", c.Len(), c.MinT(), c.MaxT())
			}
			mint, maxt, err := Bounds(c.Bytes())
			if err != nil || mint != ts[0] || maxt != ts[len(ts)-1] {
				t.Fatalf("Bounds = %d, %d, %v", mint, maxt, err)
			}
			if n, err := Count(c.Bytes()); err != nil || n != len(ts) {
				t.Fatalf("Count = %d, %v", n, err)
			}
		})
	}
	reg := regularTimes(360, epochStart, 10_000)
	f("one sample", []int64{7}, []float64{nan})
	f("two samples", []int64{-1, 0}, []float64{math.Inf(-1), math.Copysign(0, -1)})
	f("random walk", reg, randomWalk(r, 360))
	f("counter", jitterTimes(r, 360, epochStart, 10_000, 40), counter(r, 360))
	f("constant", reg, constant(360, 1))
	f("gauge2", regularTimes(3600, epochStart, 1000), gauge2(r, 3600))
	f("alternating", reg[:100], alternate(100, nan, math.Float64frombits(0xfff0000000000001)))
	f("int64 extremes", []int64{math.MinInt64, math.MinInt64 + 1, 0, math.MaxInt64 - 1, math.MaxInt64},
		[]float64{1, 2, 3, 4, 5})
	f("dod bucket edges", []int64{0, 128, 256, 256 + 128 + 127, 1000, 1000 + 40000, 200000, 20_000_000, 20_000_001},
		[]float64{0, -0.5, 1e300, -1e-300, 5, 5, 5, 6, 7})
}

func TestXOR_Append_OutOfOrder(t *testing.T) {
	c := appendAll(t, []int64{10, 20}, []float64{1, 2})
	before := bytes.Clone(c.Bytes())
	for _, ts := range []int64{20, 19, math.MinInt64} {
		if err := c.Append(ts, 3); !errors.Is(err, ErrOutOfOrder) {
			t.Fatalf("Append(%d) = %v, want ErrOutOfOrder", ts, err)
		}
	}
	if !bytes.Equal(c.Bytes(), before) || c.Len() != 2 || c.MaxT() != 20 {
		t.Fatal("a rejected Append changed the chunk")
	}
	if err := c.Append(21, 3); err != nil {
		t.Fatalf("Append after rejects: %v", err)
	}
	gotT, gotV := decodeAll(t, c.Bytes())
	requireSamples(t, gotT, gotV, []int64{10, 20, 21}, []float64{1, 2, 3})
}

func TestXOR_Bytes_Empty(t *testing.T) {
	c := NewXOR()
	if c.Len() != 0 || c.MinT() != 0 || c.MaxT() != 0 {
		t.Fatalf("empty chunk: Len, MinT, MaxT = %d, %d, %d", c.Len(), c.MinT(), c.MaxT())
	}
	if n, err := Count(c.Bytes()); n != 0 || err != nil {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if _, _, err := Bounds(c.Bytes()); !errors.Is(err, ErrEmpty) {
		t.Fatalf("Bounds err = %v, want ErrEmpty", err)
	}
	it := c.Iterator(nil)
	if it.Next() || it.Err() != nil {
		t.Fatalf("empty chunk iterates: err %v", it.Err())
	}
}

func TestXOR_Size_Grows(t *testing.T) {
	c := NewXOR()
	r := rand.New(rand.NewPCG(11, 12))
	vs := randomWalk(r, 3600)
	last := c.Size()
	for i, v := range vs {
		if err := c.Append(int64(i)*1000, v); err != nil {
			t.Fatal(err)
		}
		if s := c.Size(); s < last || s < len(c.Bytes()) {
			t.Fatalf("sample %d: Size %d (was %d) for %d bytes", i, s, last, len(c.Bytes()))
		}
		last = c.Size()
	}
	// Growth by about a quarter: slack stays well under half the bytes used.
	if slack := cap(c.Bytes()) - len(c.Bytes()); slack > len(c.Bytes())/2 {
		t.Fatalf("%d bytes of slack for %d used", slack, len(c.Bytes()))
	}
}

func TestXOR_Size_Small(t *testing.T) {
	// 360 samples at a constant 10 s of a constant value: two bits each.
	c := appendAll(t, regularTimes(360, epochStart, 10_000), constant(360, 5))
	if got, want := len(c.Bytes()), headHeaderLen+8+(2+16)/8+(358*2+2+7)/8; got > want {
		t.Fatalf("constant chunk is %d bytes, want at most %d", got, want)
	}
	if c.Size() > 400 {
		t.Fatalf("constant chunk holds %d bytes", c.Size())
	}
}

func TestXOR_Iterator_Reuse(t *testing.T) {
	a := appendAll(t, []int64{1, 2, 3}, []float64{1, 2, 3})
	b := appendAll(t, []int64{5, 9}, []float64{-1, -2})
	it := a.Iterator(nil)
	iterateAll(t, it)
	if got := b.Iterator(it); got != it {
		t.Fatal("Iterator did not reuse its argument")
	}
	gotT, gotV := iterateAll(t, it)
	requireSamples(t, gotT, gotV, []int64{5, 9}, []float64{-1, -2})
}

func TestXOR_Append_Allocs(t *testing.T) {
	c := NewXOR()
	n := 0
	allocs := testing.AllocsPerRun(3600, func() {
		n++
		_ = c.Append(int64(n)*1000, float64(n%7))
	})
	// Only buffer growth allocates: a handful of times over 3600 appends.
	if allocs > 0.01 {
		t.Fatalf("%.4f allocations per append", allocs)
	}
}

func TestXOR_Append_TooMany(t *testing.T) {
	if testing.Short() {
		t.Skip("appends MaxSamples samples")
	}
	c := NewXOR()
	for i := range MaxSamples {
		if err := c.Append(int64(i), 1); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if err := c.Append(MaxSamples, 1); !errors.Is(err, ErrTooManySamples) {
		t.Fatalf("append past MaxSamples: %v, want ErrTooManySamples", err)
	}
	it := c.Iterator(nil)
	n := 0
	for it.Next() {
		n++
	}
	if n != MaxSamples || it.Err() != nil {
		t.Fatalf("iterated %d samples, err %v", n, it.Err())
	}
}
