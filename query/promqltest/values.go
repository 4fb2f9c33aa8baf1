package promqltest

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"outpost/tsdb"
)

// staleNaN is Prometheus' staleness marker bit pattern.
const staleNaN uint64 = 0x7ff0000000000002

// Value is one expanded item of a series line: a number, a staleness
// marker, or an omitted position.
type Value struct {
	V       float64
	Omitted bool // "_": no sample here
}

// SeriesLine is a `metric{labels} values...` line of a load or eval block.
type SeriesLine struct {
	Labels    tsdb.Labels
	Values    []Value
	Histogram bool // the line holds native-histogram items ({{...}})
}

// parseDuration parses a Prometheus duration ("5m", "1h30m", "10s53ms",
// "0") into milliseconds.
func parseDuration(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	neg := strings.HasPrefix(s, "-")
	rest := strings.TrimPrefix(s, "-")
	if rest == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total int64
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad duration %q: %w", s, err)
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit int64
		switch rest[:j] {
		case "ms":
			unit = 1
		case "s":
			unit = 1000
		case "m":
			unit = 60_000
		case "h":
			unit = 3_600_000
		case "d":
			unit = 86_400_000
		case "w":
			unit = 7 * 86_400_000
		case "y":
			unit = 365 * 86_400_000
		default:
			return 0, fmt.Errorf("bad duration unit in %q", s)
		}
		total += n * unit
		rest = rest[j:]
	}
	if neg {
		total = -total
	}
	return total, nil
}

// parseNumber parses a PromQL number: decimal, hex, Inf, NaN, or a
// duration meaning seconds.
func parseNumber(s string) (float64, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(s, "+"), "-")) {
	case "inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f, nil
	}
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(n), nil
	}
	if d, err := parseDuration(s); err == nil {
		return float64(d) / 1000, nil
	}
	return 0, fmt.Errorf("bad number %q", s)
}

// expandItem expands one value item into values.
func expandItem(item string) ([]Value, error) {
	switch {
	case item == "_":
		return []Value{{Omitted: true}}, nil
	case item == "stale":
		return []Value{{V: math.Float64frombits(staleNaN)}}, nil
	case strings.HasPrefix(item, "_x"):
		k, err := strconv.Atoi(item[2:])
		if err != nil {
			return nil, fmt.Errorf("bad item %q", item)
		}
		out := make([]Value, k)
		for i := range out {
			out[i].Omitted = true
		}
		return out, nil
	}
	if f, err := parseNumber(item); err == nil {
		return []Value{{V: f}}, nil
	}
	x := strings.LastIndexByte(item, 'x')
	if x <= 0 {
		return nil, fmt.Errorf("bad item %q", item)
	}
	k, err := strconv.Atoi(item[x+1:])
	if err != nil || k < 0 {
		return nil, fmt.Errorf("bad repeat in %q", item)
	}
	base := item[:x]
	start, delta := base, "0"
	for i := 1; i < len(base); i++ {
		if (base[i] == '+' || base[i] == '-') && base[i-1] != 'e' && base[i-1] != 'E' {
			start, delta = base[:i], base[i:]
			break
		}
	}
	a, err := parseNumber(start)
	if err != nil {
		return nil, fmt.Errorf("bad item %q: %w", item, err)
	}
	d, err := parseNumber(strings.TrimPrefix(delta, "+"))
	if err != nil {
		return nil, fmt.Errorf("bad item %q: %w", item, err)
	}
	out := make([]Value, k+1)
	for i := range out {
		out[i].V = a + float64(i)*d
	}
	return out, nil
}

// parseSeriesLine parses `metric{l="v",...} item item ...`.
func parseSeriesLine(line string) (SeriesLine, error) {
	var sl SeriesLine
	ls, rest, err := parseLabels(line)
	if err != nil {
		return sl, err
	}
	sl.Labels = ls
	if strings.Contains(rest, "{{") {
		sl.Histogram = true
		return sl, nil
	}
	for _, item := range strings.Fields(rest) {
		vs, err := expandItem(item)
		if err != nil {
			return sl, err
		}
		sl.Values = append(sl.Values, vs...)
	}
	return sl, nil
}

// parseLabels parses the series part of a line and returns the rest.
func parseLabels(s string) (tsdb.Labels, string, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (isIdent(s[i]) || s[i] == ':') {
		i++
	}
	m := map[string]string{}
	if i > 0 {
		m[tsdb.MetricName] = s[:i]
	}
	rest := s[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			if rest == "" {
				return nil, "", fmt.Errorf("unterminated labels in %q", s)
			}
			var name string
			if rest[0] == '"' || rest[0] == '\'' || rest[0] == '`' {
				q, r, err := unquote(rest)
				if err != nil {
					return nil, "", err
				}
				name, rest = q, strings.TrimLeft(r, " \t")
				if !strings.HasPrefix(rest, "=") {
					m[tsdb.MetricName] = name
					continue
				}
			} else {
				j := 0
				for j < len(rest) && isIdent(rest[j]) {
					j++
				}
				name, rest = rest[:j], strings.TrimLeft(rest[j:], " \t")
			}
			if !strings.HasPrefix(rest, "=") {
				return nil, "", fmt.Errorf("expected = after label %q in %q", name, s)
			}
			v, r, err := unquote(strings.TrimLeft(rest[1:], " \t"))
			if err != nil {
				return nil, "", err
			}
			m[name] = v
			rest = r
		}
	}
	return tsdb.FromMap(m), rest, nil
}

func isIdent(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// unquote reads a quoted string at the start of s.
func unquote(s string) (string, string, error) {
	if s == "" {
		return "", "", fmt.Errorf("expected a quoted string")
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		if s[i] == '\\' && q != '`' {
			i++
			continue
		}
		if s[i] == q {
			body := s[:i+1]
			if q == '\'' {
				body = `"` + strings.ReplaceAll(strings.ReplaceAll(body[1:i], `\'`, `'`), `"`, `\"`) + `"`
			}
			v, err := strconv.Unquote(body)
			if err != nil {
				return "", "", fmt.Errorf("bad string %s: %w", body, err)
			}
			return v, s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("unterminated string in %q", s)
}
