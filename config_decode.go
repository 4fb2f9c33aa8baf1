package main

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"outpost/ui"
)

// The value types the decode hooks convert strings into.
var (
	durationType   = reflect.TypeFor[time.Duration]()
	stringListType = reflect.TypeFor[[]string]()
	tokenListType  = reflect.TypeFor[[]ui.Token]()
)

// decodeHook turns the strings of the YAML file, the environment and the
// flags into typed values, with errors that name the bad value:
//
//   - durations: Go syntax ("1h30m", "250ms") or Prometheus units d, w, y
//     ("30d", "1w", "30d12h"); a bare 0 is zero, any other bare number is
//     an error (no unit guessed);
//   - integers: plain ("5000") or a size ("64MiB", "32MB", "1.5GiB");
//   - booleans: strconv.ParseBool's words (true, false, 1, 0, ...);
//   - string lists: "a,b,c";
//   - auth.tokens: "TOKEN:ROLE,TOKEN:ROLE".
func decodeHook() mapstructure.DecodeHookFunc {
	return mapstructure.ComposeDecodeHookFunc(durationHook, integerHook, boolHook, listHook, emptyListHook)
}

func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType || from == durationType {
		return data, nil
	}
	switch v := data.(type) {
	case string:
		d, err := parseDuration(v)
		if err != nil {
			return nil, err
		}
		return d, nil
	case int, int64, uint64, float64:
		if reflect.ValueOf(v).IsZero() {
			return time.Duration(0), nil
		}
		return nil, fmt.Errorf("%v is not a duration: give a unit, such as %vs", v, v)
	}
	return data, nil
}

func integerHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || to == durationType {
		return data, nil
	}
	switch to.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
	default:
		return data, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return nil, err
	}
	if n < 0 && to.Kind() >= reflect.Uint {
		return nil, fmt.Errorf("%q is negative", s)
	}
	return n, nil
}

func boolHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || to.Kind() != reflect.Bool {
		return data, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%q is not a boolean (true or false)", s)
	}
	return b, nil
}

// listHook splits the comma-separated lists of the environment and flags.
func listHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok {
		return data, nil
	}
	switch to {
	case stringListType:
		return splitList(s), nil
	case tokenListType:
		var out []ui.Token
		for i, item := range splitList(s) {
			tok, role, ok := strings.Cut(item, ":")
			if !ok {
				// Never print the item: it holds a token.
				return nil, fmt.Errorf("item %d is not TOKEN:ROLE", i+1)
			}
			out = append(out, ui.Token{Token: tok, Role: ui.Role(role)})
		}
		return out, nil
	}
	return data, nil
}

// emptyListHook leaves a list field nil when its value is an empty list, so
// "typesdb: []" and the defaults' nil decode alike.
func emptyListHook(from, to reflect.Type, data any) (any, error) {
	if to.Kind() == reflect.Slice && data != nil {
		if v := reflect.ValueOf(data); v.Kind() == reflect.Slice && v.Len() == 0 {
			return nil, nil
		}
	}
	return data, nil
}

// splitList splits "a, b,c" into its non-empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// durationUnits are the units parseDuration knows, longer suffixes first.
var durationUnits = []struct {
	name string
	d    time.Duration
}{
	{"ms", time.Millisecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"ns", time.Nanosecond},
	{"y", 365 * 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour},
	{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
}

// parseDuration parses Go's duration syntax plus Prometheus' d (24h), w
// (7d) and y (365d) units, in any combination: "30d", "1w2d", "30d12h",
// "1.5d", "90s", "-5m".
func parseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if d, err := time.ParseDuration(in); err == nil {
		return d, nil
	}
	bad := fmt.Errorf("%q is not a duration", s)
	neg := strings.HasPrefix(in, "-")
	in = strings.TrimPrefix(in, "-")
	if in == "" {
		return 0, bad
	}
	var total float64
	for in != "" {
		i := strings.IndexFunc(in, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, bad
		}
		n, err := strconv.ParseFloat(in[:i], 64)
		if err != nil {
			return 0, bad
		}
		in = in[i:]
		unit := time.Duration(0)
		for _, u := range durationUnits {
			if strings.HasPrefix(in, u.name) {
				unit, in = u.d, in[len(u.name):]
				break
			}
		}
		if unit == 0 {
			return 0, bad
		}
		total += n * float64(unit)
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("%q is too long a duration", s)
	}
	if neg {
		total = -total
	}
	return time.Duration(math.Round(total)), nil
}

// sizeUnits are the units parseSize knows, matched case-insensitively,
// longer suffixes first.
var sizeUnits = []struct {
	name string
	n    float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseSize parses a plain integer ("5000", "-1") or a size with a unit:
// KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024) or
// B, optionally with a fraction ("1.5GiB") and a space before the unit.
func parseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if n, err := strconv.ParseInt(in, 10, 64); err == nil {
		return n, nil
	}
	bad := fmt.Errorf("%q is not an integer or a size such as 64MiB", s)
	for _, u := range sizeUnits {
		if len(in) <= len(u.name) || !strings.EqualFold(in[len(in)-len(u.name):], u.name) {
			continue
		}
		num := strings.TrimSpace(in[:len(in)-len(u.name)])
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || f < 0 || strings.ContainsAny(num, "eEnN") {
			return 0, bad
		}
		v := math.Round(f * u.n)
		if v >= math.MaxInt64 {
			return 0, fmt.Errorf("%q is too large", s)
		}
		return int64(v), nil
	}
	return 0, bad
}

// formatDuration prints d as the help text shows defaults: "30d", "10s",
// "1h30m".
func formatDuration(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// formatSize prints n bytes in the largest binary unit that divides it:
// "64MiB", "256KiB", "1000".
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		n    int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.n && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}
