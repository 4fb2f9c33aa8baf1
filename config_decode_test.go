package main

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration) {
		t.Helper()
		got, err := parseDuration(in)
		if err != nil {
			t.Fatalf("parseDuration(%q): %v", in, err)
		}
		if got != want {
			t.Fatalf("parseDuration(%q) = %v, want %v", in, got, want)
		}
	}
	const day = 24 * time.Hour
	f("30s", 30*time.Second)
	f("1h30m", 90*time.Minute)
	f("250ms", 250*time.Millisecond)
	f("0", 0)
	f("0s", 0)
	f("-5m", -5*time.Minute)
	f("30d", 30*day)
	f("1w", 7*day)
	f("1y", 365*day)
	f("30d12h", 30*day+12*time.Hour)
	f("1w2d3h4m5s", 9*day+3*time.Hour+4*time.Minute+5*time.Second)
	f("1.5d", 36*time.Hour)
	f("2d500ms", 2*day+500*time.Millisecond)
	f(" 7d ", 7*day)
	f("-1d", -day)

	bad := func(in string) {
		t.Helper()
		if got, err := parseDuration(in); err == nil {
			t.Fatalf("parseDuration(%q) = %v, want an error", in, got)
		} else if want := `"` + in + `" is not a duration`; err.Error() != want && in != "1000000y" {
			t.Fatalf("parseDuration(%q) error %q, want %q", in, err, want)
		}
	}
	bad("")
	bad("abc")
	bad("30")
	bad("30x")
	bad("d")
	bad("1d 2h")
	bad("1dd")
	bad("--1d")
	bad("1000000y")
}

func TestParseSize(t *testing.T) {
	f := func(in string, want int64) {
		t.Helper()
		got, err := parseSize(in)
		if err != nil {
			t.Fatalf("parseSize(%q): %v", in, err)
		}
		if got != want {
			t.Fatalf("parseSize(%q) = %d, want %d", in, got, want)
		}
	}
	f("0", 0)
	f("5000", 5000)
	f("-1", -1)
	f("64MiB", 64<<20)
	f("64mib", 64<<20)
	f("32MB", 32_000_000)
	f("1KB", 1000)
	f("1KiB", 1024)
	f("2GiB", 2<<30)
	f("1GB", 1_000_000_000)
	f("1TiB", 1<<40)
	f("1.5GiB", 3<<29)
	f("512 KiB", 512<<10)
	f("100B", 100)

	bad := func(in string) {
		t.Helper()
		if got, err := parseSize(in); err == nil {
			t.Fatalf("parseSize(%q) = %d, want an error", in, got)
		}
	}
	bad("")
	bad("abc")
	bad("MiB")
	bad("12XB")
	bad("-1MiB")
	bad("1e3MB")
	bad("NaNMB")
	bad("64 M")
	bad("99999999TiB")
}

func TestFormatDuration(t *testing.T) {
	f := func(d time.Duration, want string) {
		t.Helper()
		if got := formatDuration(d); got != want {
			t.Fatalf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	f(30*24*time.Hour, "30d")
	f(time.Hour, "1h")
	f(90*time.Minute, "1h30m")
	f(5*time.Minute, "5m")
	f(10*time.Second, "10s")
	f(0, "0s")
	f(25*time.Hour, "25h")
}

func TestFormatSize(t *testing.T) {
	f := func(n int64, want string) {
		t.Helper()
		if got := formatSize(n); got != want {
			t.Fatalf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
	f(64<<20, "64MiB")
	f(256<<10, "256KiB")
	f(1<<30, "1GiB")
	f(1000, "1000")
	f(0, "0")
}
