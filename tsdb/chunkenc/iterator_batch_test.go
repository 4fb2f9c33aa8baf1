package chunkenc

import (
	"math"
	"math/rand/v2"
	"testing"
)

// iterateSlow decodes b sample by sample with Next, the reference for
// Decode's whole-chunk path.
func iterateSlow(b []byte) ([]int64, []float64, error) {
	it := NewIterator(b)
	var ts []int64
	var vs []float64
	for it.Next() {
		t, v := it.At()
		ts, vs = append(ts, t), append(vs, v)
	}
	return ts, vs, it.Err()
}

// requireSameDecode checks that Decode and Next agree on b: the same
// samples bit for bit, or both an error.
func requireSameDecode(t *testing.T, b []byte) {
	t.Helper()
	wantT, wantV, wantErr := iterateSlow(b)
	gotT, gotV, err := Decode(b, nil, nil)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Decode err %v, Next err %v", err, wantErr)
	}
	if err != nil {
		return
	}
	if len(gotT) != len(wantT) {
		t.Fatalf("Decode gave %d samples, Next %d", len(gotT), len(wantT))
	}
	for i := range gotT {
		if gotT[i] != wantT[i] || math.Float64bits(gotV[i]) != math.Float64bits(wantV[i]) {
			t.Fatalf("sample %d: Decode (%d, %v), Next (%d, %v)", i, gotT[i], gotV[i], wantT[i], wantV[i])
		}
	}
}

func TestDecode_FastMatchesNext(t *testing.T) {
	for name, c := range sampleChunks(t) {
		t.Run(name, func(t *testing.T) {
			requireSameDecode(t, c.b)
			for l := range len(c.b) {
				requireSameDecode(t, c.b[:l])
			}
		})
	}
	t.Run("random", func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for i := range 300 {
			n := 1 + r.IntN(400)
			ts := jitterTimes(r, n, epochStart, 1000+int64(r.IntN(20_000)), int64(r.IntN(3)))
			var vs []float64
			switch i % 4 {
			case 0:
				vs = randomWalk(r, n)
			case 1:
				vs = counter(r, n)
			case 2:
				vs = gauge2(r, n)
			default:
				vs = constant(n, r.Float64())
			}
			b, err := Encode(nil, ts, vs)
			if err != nil {
				t.Fatal(err)
			}
			requireSameDecode(t, b)
			requireSameDecode(t, appendAll(t, ts, vs).Bytes())
			// Flip one bit: both paths must still agree.
			bad := append([]byte(nil), b...)
			bad[r.IntN(len(bad))] ^= 1 << r.IntN(8)
			requireSameDecode(t, bad)
		}
	})
}

// FuzzDecodeFast checks that Decode's whole-chunk path and Next agree on
// any input.
func FuzzDecodeFast(f *testing.F) {
	for _, c := range sampleChunks(f) {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		if n, err := Count(b); err == nil && n > 1<<16 {
			return // large constant chunks only cost time
		}
		requireSameDecode(t, b)
	})
}
