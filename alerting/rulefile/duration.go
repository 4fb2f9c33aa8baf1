package rulefile

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// durationUnits are Prometheus' duration units in the order a duration
// must write them (model.ParseDuration): each at most once, largest first.
var durationUnits = [...]struct {
	name string
	d    time.Duration
}{
	{"y", 365 * 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"d", 24 * time.Hour},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// errBadDuration is the reason given for any duration that is not in
// Prometheus' syntax.
var errBadDuration = errors.New("want integers with units y, w, d, h, m, s, ms, largest first, like 5m or 1h30m")

// parseDuration parses a duration in Prometheus' syntax: "0", or integers
// each followed by a unit, the units in the order y w d h m s ms, each at
// most once ("1h30m", "1d", "500ms"). A day is 24h, a week 7d, a year
// 365d. Negative durations and overflows are errors.
func parseDuration(s string) (time.Duration, error) {
	switch {
	case s == "":
		return 0, errors.New("empty duration")
	case s == "0":
		return 0, nil
	case strings.HasPrefix(s, "-"):
		return 0, fmt.Errorf("negative duration %q", s)
	}
	var total time.Duration
	next := 0 // index in durationUnits of the smallest unit still allowed
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("invalid duration %q: %w", s, errBadDuration)
		}
		u, unitLen := unitAt(rest[i:], next)
		if u < 0 {
			return 0, fmt.Errorf("invalid duration %q: %w", s, errBadDuration)
		}
		n, ok := parseDigits(rest[:i])
		unit := durationUnits[u].d
		if !ok || n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(n) * unit
		next = u + 1
		rest = rest[i+unitLen:]
	}
	return total, nil
}

// unitAt finds the unit at the start of s among durationUnits[from:],
// returning its index and length, or -1.
func unitAt(s string, from int) (int, int) {
	for u := from; u < len(durationUnits); u++ {
		name := durationUnits[u].name
		if name == "m" && strings.HasPrefix(s, "ms") {
			continue // "5ms" is milliseconds, not minutes then "s"
		}
		if strings.HasPrefix(s, name) {
			return u, len(name)
		}
	}
	return -1, 0
}

// parseDigits parses a run of ASCII digits, reporting overflow as !ok.
func parseDigits(s string) (int64, bool) {
	var n int64
	for i := 0; i < len(s); i++ {
		d := int64(s[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// formatDuration writes d in Prometheus' syntax, the inverse of
// parseDuration for whole milliseconds: 90m is "1h30m", 0 is "0s".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range durationUnits {
		if n := d / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			d -= n * u.d
		}
	}
	return b.String()
}
