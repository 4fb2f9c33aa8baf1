package ruletest

import (
	"math"
	"testing"
	"time"
)

func TestExpand(t *testing.T) {
	f := func(in string, want ...float64) {
		t.Helper()
		got, err := Expand(in)
		if err != nil {
			t.Fatalf("Expand(%q): %v", in, err)
		}
		if len(got) != len(want) {
			t.Fatalf("Expand(%q) = %v, want %v", in, got, want)
		}
		for i, v := range got {
			w := want[i]
			switch {
			case math.IsInf(w, -1) && v.Missing: // -Inf stands for "_" here
			case math.Float64bits(w) == staleBits && math.Float64bits(v.V) == staleBits:
			case !v.Missing && (v.V == w || math.IsNaN(v.V) && math.IsNaN(w) && math.Float64bits(v.V) != staleBits):
			default:
				t.Fatalf("Expand(%q)[%d] = %+v, want %v", in, i, v, w)
			}
		}
	}
	gap := math.Inf(-1)
	f("1 2 3", 1, 2, 3)
	f("1+1x3", 1, 2, 3, 4)
	f("10-2x2", 10, 8, 6)
	f("-2-1x3", -2, -3, -4, -5)
	f("-2+1x2", -2, -1, 0)
	f("5x2", 5, 5, 5)
	f("_ 1 _x2", gap, 1, gap, gap, gap)
	f("1 stale", 1, StaleNaN())
	f("1e-3 1e+3", 0.001, 1000)
	f("1e-3+1x1", 0.001, 1.001)
	f("NaN", math.NaN())
	f("", []float64{}...)
	f("0.5+0.25x2", 0.5, 0.75, 1)
}

func TestExpandErrors(t *testing.T) {
	for _, in := range []string{"a", "1+x3", "1x", "1x-1", "1+1x99999999", "stalex3"} {
		if _, err := Expand(in); err == nil {
			t.Errorf("Expand(%q): no error", in)
		}
	}
}

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Fatalf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
		if s := Duration(got).String(); want != 0 && s != in {
			t.Fatalf("Duration(%v).String() = %q, want %q", got, s, in)
		}
	}
	f("0", 0)
	f("5m", 5*time.Minute)
	f("1h30m", 90*time.Minute)
	f("1d", 24*time.Hour)
	f("2w", 14*24*time.Hour)
	f("1m500ms", time.Minute+500*time.Millisecond)
	for _, in := range []string{"", "5", "m", "5m1h", "1.5h", "-1m", "5mm"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q): no error", in)
		}
	}
}
