package rulefile

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	f := func(s string, want time.Duration) {
		t.Helper()
		got, err := parseDuration(s)
		if err != nil || got != want {
			t.Fatalf("parseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
		if want%time.Millisecond == 0 {
			if back, err := parseDuration(formatDuration(got)); err != nil || back != got {
				t.Fatalf("parseDuration(formatDuration(%v) = %q) = %v, %v", got, formatDuration(got), back, err)
			}
		}
	}
	f("0", 0)
	f("0s", 0)
	f("30s", 30*time.Second)
	f("5m", 5*time.Minute)
	f("1h30m", 90*time.Minute)
	f("1d", 24*time.Hour)
	f("1w", 7*24*time.Hour)
	f("1y", 365*24*time.Hour)
	f("500ms", 500*time.Millisecond)
	f("1m500ms", time.Minute+500*time.Millisecond)
	f("2h0m", 2*time.Hour)
	f("100d", 2400*time.Hour)
}

func TestParseDuration_Bad(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		_, err := parseDuration(s)
		if err == nil || err.Error() != want {
			t.Fatalf("parseDuration(%q) error = %v, want %q", s, err, want)
		}
	}
	bad := ": want integers with units y, w, d, h, m, s, ms, largest first, like 5m or 1h30m"
	f("", "empty duration")
	f("-5m", `negative duration "-5m"`)
	f("5", `invalid duration "5"`+bad)
	f("m", `invalid duration "m"`+bad)
	f("1.5h", `invalid duration "1.5h"`+bad)
	f("5 m", `invalid duration "5 m"`+bad)
	f("30s5m", `invalid duration "30s5m"`+bad)
	f("1h1h", `invalid duration "1h1h"`+bad)
	f("5ns", `invalid duration "5ns"`+bad)
	f("5us", `invalid duration "5us"`+bad)
	f("5M", `invalid duration "5M"`+bad)
	f("1ms1s", `invalid duration "1ms1s"`+bad)
	f("300y", `duration "300y" is too long`)
	f("9223372036854775808ms", `duration "9223372036854775808ms" is too long`)
	f("106751d23h47m16s854ms1ms", `invalid duration "106751d23h47m16s854ms1ms"`+bad)
	f("106751d23h47m16s855ms", `duration "106751d23h47m16s855ms" is too long`)
}

func TestFormatDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := formatDuration(d); got != want {
			t.Fatalf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	f(0, "0s")
	f(90*time.Minute, "1h30m")
	f(8*24*time.Hour+time.Second, "1w1d1s")
	f(-time.Minute, "-1m")
	f(1500*time.Microsecond, "1ms")
}
