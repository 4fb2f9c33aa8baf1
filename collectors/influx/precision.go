package influx

import (
	"fmt"
	"math"
	"time"
)

// Precision is the unit of the timestamps in a write body, in nanoseconds.
type Precision int64

// The units of the precision query parameter. The store keeps milliseconds;
// finer timestamps are rounded down (towards minus infinity).
const (
	Nanosecond  Precision = 1
	Microsecond Precision = 1e3
	Millisecond Precision = 1e6
	Second      Precision = 1e9
	Minute      Precision = 60e9
	Hour        Precision = 3600e9
)

// parsePrecisionV1 reads the precision parameter of POST /write. InfluxDB
// 1.x spells n, u, ms, s, m, h; the longer ns, us and µs are accepted too.
func parsePrecisionV1(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return Nanosecond, nil
	case "u", "us", "µs", "μs": // micro sign U+00B5 and Greek mu U+03BC
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, fmt.Errorf("%w %q (use n, ns, u, us, µs, ms, s, m or h)", ErrInvalidPrecision, s)
}

// parsePrecisionV2 reads the precision parameter of POST /api/v2/write.
func parsePrecisionV2(s string) (Precision, error) {
	switch s {
	case "", "ns":
		return Nanosecond, nil
	case "us":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	}
	return 0, fmt.Errorf("%w %q; valid precision units are ns, us, ms, and s", ErrInvalidPrecision, s)
}

// toMillis converts a timestamp in unit p to milliseconds. It reports false
// when the timestamp, scaled to nanoseconds, does not fit an int64 (before
// 1677 or after 2262), which InfluxDB and the line-protocol decoder reject.
func toMillis(t int64, p Precision) (int64, bool) {
	if p <= Nanosecond {
		return floorDiv(t, 1e6), true
	}
	d := int64(p)
	if t > math.MaxInt64/d || t < math.MinInt64/d {
		return 0, false
	}
	return floorDiv(t*d, 1e6), true
}

// receiveMillis is the timestamp of a line without one: now, rounded down to
// the precision (as InfluxDB does), in milliseconds.
func receiveMillis(now time.Time, p Precision) int64 {
	ns := now.UnixNano()
	if p > Nanosecond {
		ns -= floorMod(ns, int64(p))
	}
	return floorDiv(ns, 1e6)
}

// floorDiv divides rounding towards minus infinity, so -1 ns is in the
// millisecond before the epoch, not in millisecond 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// floorMod is the remainder matching floorDiv; it has the sign of b.
func floorMod(a, b int64) int64 {
	return a - floorDiv(a, b)*b
}

// parseTimestamp reads the decimal integer of a timestamp. The decoder has
// already restricted b to '-' and digits.
func parseTimestamp(b []byte) (int64, string) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 {
		return 0, fmt.Sprintf("invalid timestamp %q", b)
	}
	var u uint64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Sprintf("invalid timestamp %q", b)
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, fmt.Sprintf("timestamp %q out of range", b)
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, fmt.Sprintf("timestamp %q out of range", b)
		}
		return -int64(u), ""
	}
	if u > math.MaxInt64 {
		return 0, fmt.Sprintf("timestamp %q out of range", b)
	}
	return int64(u), ""
}
