package rulefile

import (
	"math"
	"testing"
	"time"
)

// The expected outputs below are those Prometheus' template tests and
// documentation give for the same inputs.

func TestHumanize(t *testing.T) {
	f := func(fn func(any) (string, error), in any, want string) {
		t.Helper()
		got, err := fn(in)
		if err != nil || got != want {
			t.Fatalf("(%v) = %q, %v; want %q", in, got, err, want)
		}
	}
	inf, nan := math.Inf(1), math.NaN()
	f(humanize, 0.0, "0")
	f(humanize, 1.0, "1")
	f(humanize, 1234567.0, "1.235M")
	f(humanize, 0.12, "120m")
	f(humanize, -1234.0, "-1.234k")
	f(humanize, 1e27, "1000Y")
	f(humanize, 0.0000012, "1.2u")
	f(humanize, "2048", "2.048k")
	f(humanize, 1500*time.Millisecond, "1.5")
	f(humanize, inf, "+Inf")
	f(humanize, -inf, "-Inf")
	f(humanize, nan, "NaN")
	f(humanize1024, 0.0, "0")
	f(humanize1024, 1.0, "1")
	f(humanize1024, 1048576.0, "1Mi")
	f(humanize1024, 0.12, "0.12")
	f(humanize1024, 1023.0, "1023")
	f(humanize1024, 1536, "1.5ki")
	f(humanize1024, inf, "+Inf")
	f(humanizePercentage, -0.22222, "-22.22%")
	f(humanizePercentage, 0.0, "0%")
	f(humanizePercentage, 0.1234567, "12.35%")
	f(humanizePercentage, 1.23456, "123.5%")
	f(humanizePercentage, "0.5", "50%")
}

func TestHumanizeDuration(t *testing.T) {
	f := func(in any, want string) {
		t.Helper()
		got, err := humanizeDuration(in)
		if err != nil || got != want {
			t.Fatalf("humanizeDuration(%v) = %q, %v; want %q", in, got, err, want)
		}
	}
	f(0, "0s")
	f(1, "1s")
	f(60, "1m 0s")
	f(3600, "1h 0m 0s")
	f(86400, "1d 0h 0m 0s")
	f(86400+3600, "1d 1h 0m 0s")
	f(-(86400*2 + 3600*3 + 60*4 + 5), "-2d 3h 4m 5s")
	f(899.99, "14m 59s")
	f(.1, "100ms")
	f(.0001, "100us")
	f(.12345, "123.5ms")
	f(60.1, "1m 0s")
	f(60.5, "1m 0s")
	f(1.2345, "1.234s")
	f(12.345, "12.35s")
	f("3600", "1h 0m 0s")
	f(int64(1234567), "14d 6h 56m 7s")
	f(uint64(1), "1s")
	f(-1, "-1s")
	f(-0.5, "-500ms")
	f(90*time.Second, "1m 30s")
	f(math.Inf(-1), "-Inf")
	f(math.NaN(), "NaN")
	if _, err := humanizeDuration("one"); err == nil {
		t.Fatalf(`humanizeDuration("one") did not fail`)
	}
	if _, err := humanizeDuration([]int{1}); err == nil || err.Error() != "can't convert []int to float" {
		t.Fatalf("humanizeDuration([]int) error = %v", err)
	}
}

func TestHumanizeTimestamp(t *testing.T) {
	f := func(in any, want string) {
		t.Helper()
		got, err := humanizeTimestamp(in)
		if err != nil || got != want {
			t.Fatalf("humanizeTimestamp(%v) = %q, %v; want %q", in, got, err, want)
		}
	}
	f(0, "1970-01-01 00:00:00 +0000 UTC")
	f(-1, "1969-12-31 23:59:59 +0000 UTC")
	f(1234567, "1970-01-15 06:56:07 +0000 UTC")
	f(int64(9223372036), "2262-04-11 23:47:16 +0000 UTC")
	f(uint64(1), "1970-01-01 00:00:01 +0000 UTC")
	f(1435065584.128, "2015-06-23 13:19:44.128 +0000 UTC")
	f("1435065584.128", "2015-06-23 13:19:44.128 +0000 UTC")
	f("+Inf", "+Inf")
	f(math.Inf(-1), "-Inf")
	f(math.NaN(), "NaN")
	if _, err := humanizeTimestamp(int64(math.MaxInt64)); err == nil {
		t.Fatalf("humanizeTimestamp(MaxInt64) did not fail")
	}
}

func TestToTimeToDuration(t *testing.T) {
	tm, err := toTime(1435065584.1289)
	if err != nil || tm.String() != "2015-06-23 13:19:44.128 +0000 UTC" {
		t.Fatalf("toTime = %v, %v", tm, err)
	}
	if _, err := toTime(math.NaN()); err != errNaNOrInf {
		t.Fatalf("toTime(NaN) error = %v", err)
	}
	d, err := toDuration(90.5)
	if err != nil || *d != 90*time.Second+500*time.Millisecond {
		t.Fatalf("toDuration(90.5) = %v, %v", d, err)
	}
	if _, err := toDuration(1e10); err == nil {
		t.Fatalf("toDuration(1e10) did not overflow")
	}
	if _, err := toDuration(math.Inf(1)); err != errNaNOrInf {
		t.Fatalf("toDuration(+Inf) error = %v", err)
	}
	s, err := parseDurationSeconds("1h30m")
	if err != nil || s != 5400 {
		t.Fatalf("parseDuration(1h30m) = %v, %v", s, err)
	}
	if _, err := parseDurationSeconds("1.5h"); err == nil {
		t.Fatalf("parseDuration(1.5h) did not fail")
	}
}
