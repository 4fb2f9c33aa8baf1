package influx

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// sameAsStrconv fails unless parseFloat(s) is what the decoder would make of
// s: strconv.ParseFloat's value bit for bit, or an error when ParseFloat
// fails or gives NaN or an infinity.
func sameAsStrconv(t testing.TB, s string) {
	t.Helper()
	want, werr := strconv.ParseFloat(s, 64)
	if werr == nil && (math.IsNaN(want) || math.IsInf(want, 0)) {
		werr = errNonNumber
	}
	got, gerr := parseFloat([]byte(s))
	if (gerr != nil) != (werr != nil) {
		t.Fatalf("parseFloat(%q): err %v, strconv err %v", s, gerr, werr)
	}
	if gerr == nil && math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("parseFloat(%q) = %v (%#x), strconv %v (%#x)", s, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

func TestParseFloat_MatchesStrconv(t *testing.T) {
	t.Run("cases", func(t *testing.T) {
		for _, s := range []string{"0", "-0", "0.0", "-0.0", "1", "1.", ".5", "-.5", "1.e5", "1e5", "1E-5",
			"00001.5000", "9007199254740993", "9007199254740993.0", "0.1", "0.3", "2.5e-3", "1e22", "1e23",
			"123456789012345678", "1234567890123456789", "12345678901234567890", "0.000000000000000000001",
			"58.123456789012344", "99.99999999999999", "4.9406564584124654e-324", "1.7976931348623157e308",
			"1e309", "-1e309", "1e-400", "1_000", "0x1p3", "1.1.1", ".", "-", "", "1e", "1e+", "+1", "1ee2",
			"0.00003240954253606615", "25276510208", "0.999999999999801", "1.0000000000005116",
			"98.00000000000182", "0.0000001", "5e-324", "2.2250738585072014e-308", "8.98846567431158e307",
			"0.1e-3", "123.456e7", "9999999999999999999", "18446744073709551615", "4503599627370497.5",
			"9007199254740992.5", "9007199254740993.5", "0.30000000000000004"} {
			sameAsStrconv(t, s)
		}
	})
	t.Run("random", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for range 200_000 {
			x := rng.Float64() * math.Pow(10, float64(rng.IntN(24)-12))
			for _, s := range []string{strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(x, 'e', -1, 64),
				strconv.FormatFloat(x, 'f', rng.IntN(20), 64), strconv.FormatFloat(-x, 'g', rng.IntN(19)+1, 64)} {
				sameAsStrconv(t, s)
			}
		}
	})
	t.Run("random digits", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(9, 10))
		buf := make([]byte, 0, 40)
		for range 200_000 {
			buf = buf[:0]
			n := rng.IntN(21) + 1
			dot := rng.IntN(n + 1)
			for i := range n {
				if i == dot {
					buf = append(buf, '.')
				}
				buf = append(buf, byte('0'+rng.IntN(10)))
			}
			sameAsStrconv(t, string(buf))
		}
	})
	t.Run("halfway", func(t *testing.T) {
		// Decimal midpoints between neighbouring floats: ties must go to even.
		rng := rand.New(rand.NewPCG(11, 12))
		for range 20_000 {
			x := rng.Float64() * 100
			mid := (x + math.Nextafter(x, 2*x)) / 2
			sameAsStrconv(t, strconv.FormatFloat(mid, 'f', -1, 64))
			sameAsStrconv(t, strconv.FormatFloat(x, 'f', 25, 64))
		}
	})
}

func FuzzParseFloat(f *testing.F) {
	for _, s := range []string{"1", "58.123456789012344", "0.00003240954253606615", "1e22", "-0.5", "1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		sameAsStrconv(t, s)
	})
}
