package ruletest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// staleBits is the staleness marker written for a "stale" value: the NaN
// bit pattern Prometheus uses.
const staleBits uint64 = 0x7ff0000000000002

// StaleNaN returns the staleness marker value.
func StaleNaN() float64 { return math.Float64frombits(staleBits) }

// maxExpand bounds the values one series may expand to, so a typo such
// as 1x1000000000 is an error rather than an allocation of gigabytes.
const maxExpand = 1_000_000

// Value is one step of an input series.
type Value struct {
	V float64
	// Missing is set for "_": no sample at this step.
	Missing bool
}

// Expand parses a series' values in promtool's expanding notation, one
// Value per step: numbers (1, -2.5, Inf, NaN), "_" (missing), "stale",
// "a+bxn" and "a-bxn" (n+1 values from a in steps of b), "axn" (a n+1
// times) and "_xn" (n+1 missing steps).
func Expand(s string) ([]Value, error) {
	var out []Value
	for _, tok := range strings.Fields(s) {
		vs, err := expandToken(tok)
		if err != nil {
			return nil, fmt.Errorf("values %q: %w", s, err)
		}
		if len(out)+len(vs) > maxExpand {
			return nil, fmt.Errorf("values %q: more than %d values", s, maxExpand)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// expandToken expands one whitespace-separated item.
func expandToken(tok string) ([]Value, error) {
	switch tok {
	case "_":
		return []Value{{Missing: true}}, nil
	case "stale":
		return []Value{{V: StaleNaN()}}, nil
	}
	i := strings.LastIndexByte(tok, 'x')
	if i < 0 {
		v, err := parseNumber(tok)
		if err != nil {
			return nil, err
		}
		return []Value{{V: v}}, nil
	}
	n, err := strconv.ParseUint(tok[i+1:], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("%q: bad repeat count %q", tok, tok[i+1:])
	}
	if n >= maxExpand {
		return nil, fmt.Errorf("%q: repeat count over %d", tok, maxExpand)
	}
	head := tok[:i]
	if head == "_" {
		out := make([]Value, n+1)
		for k := range out {
			out[k].Missing = true
		}
		return out, nil
	}
	start, step, err := splitStep(head)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", tok, err)
	}
	out := make([]Value, 0, n+1)
	for k := uint64(0); k <= n; k++ {
		out = append(out, Value{V: start + float64(k)*step})
	}
	return out, nil
}

// splitStep splits "a+b" or "a-b" (a and b numbers, a possibly signed)
// into a and the signed step; a lone "a" has step 0.
func splitStep(s string) (start, step float64, err error) {
	// The sign of the step is the last + or - that follows a digit, a dot
	// or a letter of Inf/NaN and is not an exponent's sign (1e-3).
	for i := len(s) - 1; i > 0; i-- {
		c := s[i]
		if c != '+' && c != '-' {
			continue
		}
		if p := s[i-1]; p == 'e' || p == 'E' {
			if _, err := strconv.ParseFloat(s[:i-1], 64); err == nil && !isInfNaN(s[:i-1]) {
				continue // an exponent: 1e-3
			}
		}
		a, errA := parseNumber(s[:i])
		b, errB := parseNumber(s[i+1:])
		if errA != nil || errB != nil {
			continue
		}
		if c == '-' {
			b = -b
		}
		return a, b, nil
	}
	v, err := parseNumber(s)
	return v, 0, err
}

// isInfNaN tells whether s spells an infinity or NaN.
func isInfNaN(s string) bool {
	s = strings.TrimLeft(strings.ToLower(s), "+-")
	return s == "inf" || s == "nan"
}

// parseNumber parses a float as PromQL writes them (Inf, -Inf, NaN,
// hexadecimal and exponents included).
func parseNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return v, nil
}
