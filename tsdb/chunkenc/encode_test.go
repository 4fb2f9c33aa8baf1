package chunkenc

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// checkRoundTrip encodes the samples after a prefix, checks the prefix is
// kept, the header (Count, Bounds) and the decoded samples, bit for bit, and
// that no other eligible encoding is smaller. It returns the chunk.
func checkRoundTrip(t *testing.T, ts []int64, vs []float64) []byte {
	t.Helper()
	prefix := []byte{0xde, 0xad}
	out, err := Encode(prefix, ts, vs)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if out[0] != 0xde || out[1] != 0xad {
		t.Fatalf("encode overwrote dst")
	}
	b := out[2:]
	gotT, gotV := decodeAll(t, b)
	requireSamples(t, gotT, gotV, ts, vs)
	if n, err := Count(b); err != nil || n != len(ts) {
		t.Fatalf("Count = %d, %v; want %d", n, err, len(ts))
	}
	if len(ts) > 0 {
		mint, maxt, err := Bounds(b)
		if err != nil || mint != ts[0] || maxt != ts[len(ts)-1] {
			t.Fatalf("Bounds = %d, %d, %v; want %d, %d", mint, maxt, err, ts[0], ts[len(ts)-1])
		}
	}
	checkSmallest(t, ts, vs, b)
	return b
}

// checkSmallest encodes the samples with every encoding they allow and
// fails t if one round-trips in fewer bytes than chosen.
func checkSmallest(t *testing.T, ts []int64, vs []float64, chosen []byte) {
	t.Helper()
	for _, p := range eligiblePlans(ts, vs) {
		b := p.write(nil, ts, vs)
		gotT, gotV, err := Decode(b, nil, nil)
		if err != nil {
			t.Fatalf("forced %s: decode: %v", p.name(), err)
		}
		requireSamples(t, gotT, gotV, ts, vs)
		if len(b) < len(chosen) {
			t.Fatalf("forced %s is %d bytes, Encode chose %s with %d", p.name(), len(b), formatName(chosen[0]), len(chosen))
		}
	}
}

// eligiblePlans returns a plan for every encoding pair the samples allow.
func eligiblePlans(ts []int64, vs []float64) []plan {
	if len(ts) == 0 {
		return nil
	}
	tsPlans := []plan{{tsEnc: tsDoD}}
	tsPlans[0].tw, tsPlans[0].tBits = timeDoDWidths(ts)
	if (&plan{}).planTimes(ts) == nil && isConstDelta(ts) {
		tsPlans = append(tsPlans, plan{tsEnc: tsConst})
	}
	var out []plan
	for _, p := range tsPlans {
		q := p
		q.valEnc = valXOR
		out = append(out, q)
		if sameBits(vs, constant(len(vs), vs[0])) {
			q.valEnc = valConst
			out = append(out, q)
		}
		c, ok := planInts(vs)
		if !ok {
			continue
		}
		q.scale = c.scale
		q.valEnc, q.vw = valIntDelta, c.deltaW
		out = append(out, q)
		q.valEnc, q.vw = valIntDoD, c.dodW
		out = append(out, q)
	}
	return out
}

func isConstDelta(ts []int64) bool {
	for i := 2; i < len(ts); i++ {
		if ts[i]-ts[i-1] != ts[1]-ts[0] {
			return false
		}
	}
	return true
}

func (p plan) name() string {
	return formatName(p.tsEnc<<6 | p.valEnc<<4 | p.scale)
}

func formatName(f byte) string {
	tsNames := []string{"head", "const", "dod", "?"}
	valNames := []string{"xor", "const", "int-delta", "int-dod"}
	return tsNames[f>>6] + "/" + valNames[f>>4&3] + "/scale" + string(rune('0'+f&15))
}

func TestEncode_Encodings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	f := func(name string, ts []int64, vs []float64, wantTS, wantVal, wantScale uint8) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			b := checkRoundTrip(t, ts, vs)
			want := wantTS<<6 | wantVal<<4 | wantScale
			if b[0] != want {
				t.Fatalf("encoding %s, want %s", formatName(b[0]), formatName(want))
			}
		})
	}
	reg := regularTimes(360, epochStart, 10_000)
	jit := jitterTimes(r, 360, epochStart, 10_000, 20)
	f("const ts, const value", reg, constant(360, 42), tsConst, valConst, 0)
	f("const ts, const NaN", reg, constant(360, math.Float64frombits(staleNaN)), tsConst, valConst, 0)
	f("jitter ts, const value", jit, constant(360, 0), tsDoD, valConst, 0)
	f("const ts, random walk", reg, randomWalk(r, 360), tsConst, valXOR, 0)
	f("jitter ts, random walk", jit, randomWalk(r, 360), tsDoD, valXOR, 0)
	f("const ts, counter", reg, counter(r, 360), tsConst, valIntDoD, 0)
	events := make([]float64, 360)
	for i := 1; i < len(events); i++ {
		events[i] = events[i-1]
		if r.IntN(10) == 0 {
			events[i] += float64(1 + r.IntN(3))
		}
	}
	f("const ts, event counter", reg, events, tsConst, valIntDelta, 0)
	f("const ts, 2-decimal gauge", reg, gauge2(r, 360), tsConst, valIntDelta, 2)
	linear := make([]float64, 360)
	for i := range linear {
		linear[i] = float64(1000 + 7*i)
	}
	f("const ts, constant-rate counter", reg, linear, tsConst, valIntDoD, 0)
	halves := make([]float64, 360)
	for i := range halves {
		halves[i] = float64(r.IntN(1000)) / 2
	}
	f("const ts, halves", reg, halves, tsConst, valIntDelta, 1)
	f("const ts, gauge with quarter", reg[:4], []float64{12.25, 12.5, 13, 12.75}, tsConst, valIntDelta, 2)
}

func TestEncode_EdgeCases(t *testing.T) {
	nan := math.Float64frombits(staleNaN)
	negZero := math.Copysign(0, -1)
	f := func(name string, ts []int64, vs []float64) {
		t.Helper()
		t.Run(name, func(t *testing.T) { checkRoundTrip(t, ts, vs) })
	}
	f("empty", nil, nil)
	f("one sample", []int64{epochStart}, []float64{1.5})
	f("one NaN", []int64{-5}, []float64{nan})
	f("two samples", []int64{1, 2}, []float64{1, 2})
	f("two samples huge delta", []int64{math.MinInt64, math.MaxInt64}, []float64{0, 1})
	f("int64 extremes", []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}, []float64{1, 2, 3, 4, 5})
	f("negative timestamps", []int64{-30_000, -20_000, -10_000, -1}, []float64{1, 2, 3, 4})
	f("huge dod", []int64{0, 1, math.MaxInt64 - 1, math.MaxInt64}, []float64{0, 0, 0, 1})
	f("NaN payloads", []int64{1, 2, 3, 4, 5}, []float64{nan, math.NaN(), math.Float64frombits(0xfff8000000000001), nan, 0})
	f("-0 and 0", []int64{1, 2, 3, 4}, []float64{negZero, 0, negZero, 1})
	f("all -0", []int64{1, 2, 3}, []float64{negZero, negZero, negZero})
	f("Inf", []int64{1, 2, 3, 4}, []float64{math.Inf(1), math.Inf(-1), 1, math.Inf(1)})
	f("alternating", regularTimes(100, 0, 1), alternate(100, 1.5, -7.25))
	f("alternating extremes", regularTimes(50, 0, 1), alternate(50, math.MaxFloat64, math.SmallestNonzeroFloat64))
	f("int extremes", []int64{1, 2, 3, 4}, []float64{-0x1p63, 0x1p62, -0x1p63, 0x1p53 + 2})
	f("0.1 steps", regularTimes(20, 0, 1000), tenths(20))
	f("0.1+0.2", []int64{1, 2, 3}, []float64{0.1, pointThree(), 0.3})
	f("1/3", []int64{1, 2, 3}, []float64{1.0 / 3, 2.0 / 3, 1})
	f("subnormal", []int64{1, 2}, []float64{5e-324, 1e-310})
	f("big and fractional", []int64{1, 2}, []float64{1e18 + 0.5, 1e10 + 0.125})
}

// alternate returns n values alternating between a and b.
func alternate(n int, a, b float64) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = a
		if i%2 == 1 {
			vs[i] = b
		}
	}
	return vs
}

// tenths returns the values 0.1*i computed the sloppy way, by repeated
// addition, as a client might: most are not the decimal they print as.
func tenths(n int) []float64 {
	vs := make([]float64, n)
	x := 0.0
	for i := range vs {
		x += 0.1
		vs[i] = x
	}
	return vs
}

// pointThree returns 0.1+0.2 computed in float64, 0.30000000000000004;
// written as constants, Go folds it exactly to 0.3.
func pointThree() float64 {
	a, b := 0.1, 0.2
	return a + b
}

func TestEncode_Scale_NotMisScaled(t *testing.T) {
	f := func(vs []float64, wantScale uint8, wantOK bool) {
		t.Helper()
		c, ok := planInts(vs)
		if ok != wantOK || (ok && c.scale != wantScale) {
			t.Fatalf("planInts(%v) scale %d, %v; want %d, %v", vs, c.scale, ok, wantScale, wantOK)
		}
	}
	f([]float64{1, 2, 3}, 0, true)
	f([]float64{0.5}, 1, true)
	f([]float64{12.25, 3}, 2, true)
	f([]float64{0.1}, 1, true)           // 1/10 rounds to exactly the double 0.1
	f([]float64{pointThree()}, 0, false) // 0.30000000000000004
	f([]float64{0.001, 1e-15}, 15, true)
	f([]float64{1e-16}, 0, false)
	f([]float64{math.Copysign(0, -1)}, 0, false)
	f([]float64{math.NaN()}, 0, false)
	f([]float64{math.Inf(1)}, 0, false)
	f([]float64{0x1p63}, 0, false) // does not fit an int64
	f([]float64{-0x1p63}, 0, true)
	f([]float64{1e10 + 0.125}, 3, true)
	f([]float64{1e18 + 0.5}, 0, true)   // 1e18+0.5 is the double 1e18
	f([]float64{0x1p60, 0.5}, 0, false) // 2^60 is not an int64 at scale 1
	f([]float64{0.5, 0x1p60}, 0, false)
	f([]float64{3, 0.5, 0.25, 0.125, 1e-7}, 7, true)
}

func TestEncode_Errors(t *testing.T) {
	f := func(name string, ts []int64, vs []float64, want error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			out, err := Encode(dst, ts, vs)
			if !errors.Is(err, want) {
				t.Fatalf("err = %v, want %v", err, want)
			}
			if len(out) != 3 {
				t.Fatalf("dst grew to %d bytes on error", len(out))
			}
		})
	}
	f("length mismatch", []int64{1, 2}, []float64{1}, ErrLengthMismatch)
	f("equal timestamps", []int64{1, 1}, []float64{1, 2}, ErrOutOfOrder)
	f("descending", []int64{1, 3, 2}, []float64{1, 2, 3}, ErrOutOfOrder)
	f("wrapping descending", []int64{math.MaxInt64, math.MinInt64}, []float64{1, 2}, ErrOutOfOrder)
	big := make([]int64, MaxSamples+1)
	f("too many", big, make([]float64, len(big)), ErrTooManySamples)
}

func TestEncode_PlanSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := map[string][]float64{
		"walk":    randomWalk(r, 500),
		"counter": counter(r, 500),
		"gauge2":  gauge2(r, 500),
		"const":   constant(500, 3.25),
	}
	ts := jitterTimes(r, 500, epochStart, 1000, 3)
	for name, vs := range shapes {
		t.Run(name, func(t *testing.T) {
			for _, p := range eligiblePlans(ts, vs) {
				b := p.write(nil, ts, vs)
				var hdr header
				hdr, rest, err := parseHeader(b)
				if err != nil || hdr.n != len(ts) {
					t.Fatalf("%s: header %+v, %v", p.name(), hdr, err)
				}
				if p.tsEnc == tsDoD {
					rest = rest[3+uvarintLen(uint64((p.tBits+7)/8))+(p.tBits+7)/8:]
				}
				if got, want := len(rest), valueBytes(p, vs); got != want {
					t.Fatalf("%s: value column is %d bytes, sized as %d", p.name(), got, want)
				}
			}
		})
	}
}

// valueBytes computes the value column size of plan p the way planValues
// does.
func valueBytes(p plan, vs []float64) int {
	switch p.valEnc {
	case valConst:
		return 1 + constLen(math.Float64bits(vs[0]))
	case valXOR:
		return (64 + xorBits(vs) + 7) / 8
	}
	c, _ := sizeInts(vs, p.scale)
	head := uvarintLen(zigzag(c.m0)) + 3
	if p.valEnc == valIntDelta {
		return head + (c.deltaBits+7)/8
	}
	return head + (c.dodBits+7)/8
}

func TestLenHist_Widths(t *testing.T) {
	f := func(counts map[int]int, want [3]uint8, wantBits int) {
		t.Helper()
		var h lenHist
		for l, c := range counts {
			h[l] = c
		}
		ws, size := h.widths()
		if ws != want || size != wantBits {
			t.Fatalf("widths(%v) = %v, %d; want %v, %d", counts, ws, size, want, wantBits)
		}
	}
	f(map[int]int{}, [3]uint8{}, 0)
	f(map[int]int{0: 10}, [3]uint8{0, 0, 0}, 10)
	f(map[int]int{5: 10}, [3]uint8{5, 5, 5}, 60)
	// Mostly zero, a few 3-bit, one 40-bit outlier.
	f(map[int]int{0: 100, 3: 10, 40: 1}, [3]uint8{0, 3, 40}, 100+10*5+42)
	// Two close lengths: one bucket for all (11*9 = 99) beats splitting
	// (5*8 + 6*10 = 100).
	f(map[int]int{7: 5, 8: 6}, [3]uint8{8, 8, 8}, 99)
	f(map[int]int{64: 2}, [3]uint8{64, 64, 64}, 130)
}
