package chunkenc

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Data shapes shared by the tests, fuzz targets and benchmarks.

// staleNaN is Prometheus' stale marker, a NaN whose payload must survive.
const staleNaN = 0x7ff0000000000002

// epochStart is a realistic millisecond timestamp (2023-11-14T22:13:20Z).
const epochStart = 1_700_000_000_000

// regularTimes returns n timestamps from start, step ms apart.
func regularTimes(n int, start, step int64) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step
	}
	return ts
}

// jitterTimes returns n timestamps about step ms apart, each off by up to
// jitter ms, as a scraper with a busy clock produces.
func jitterTimes(r *rand.Rand, n int, start, step, jitter int64) []int64 {
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = start + int64(i)*step + r.Int64N(jitter+1)
	}
	return ts
}

// randomWalk returns n full-precision floats, a Gaussian random walk.
func randomWalk(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := 100.0
	for i := range vs {
		x += r.NormFloat64()
		vs[i] = x
	}
	return vs
}

// counter returns n integer-valued, increasing floats, like a byte counter.
func counter(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	x := int64(1 << 40)
	for i := range vs {
		x += r.Int64N(50_000)
		vs[i] = float64(x)
	}
	return vs
}

// constant returns n copies of v.
func constant(n int, v float64) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = v
	}
	return vs
}

// gauge2 returns n values with two decimals, a random walk as a percentage
// gauge parsed from text ("12.25") would give.
func gauge2(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	m := int64(5000)
	for i := range vs {
		m += r.Int64N(201) - 100
		vs[i] = float64(m) / 100
	}
	return vs
}

// sameBits reports whether two value slices are equal bit for bit.
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// requireSamples fails t unless (gotT, gotV) equals (wantT, wantV) exactly.
func requireSamples(t testing.TB, gotT []int64, gotV []float64, wantT []int64, wantV []float64) {
	t.Helper()
	if len(gotT) != len(wantT) || len(gotV) != len(wantV) {
		t.Fatalf("got %d timestamps and %d values, want %d", len(gotT), len(gotV), len(wantT))
	}
	for i := range wantT {
		if gotT[i] != wantT[i] {
			t.Fatalf("sample %d: timestamp %d, want %d", i, gotT[i], wantT[i])
		}
		if g, w := math.Float64bits(gotV[i]), math.Float64bits(wantV[i]); g != w {
			t.Fatalf("sample %d: value %#016x (%g), want %#016x (%g)", i, g, gotV[i], w, wantV[i])
		}
	}
}

// decodeAll decodes chunk b, failing t on error.
func decodeAll(t testing.TB, b []byte) ([]int64, []float64) {
	t.Helper()
	ts, vs, err := Decode(b, nil, nil)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return ts, vs
}
