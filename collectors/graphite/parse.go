package graphite

import (
	"bytes"
	"math"
	"strconv"
	"unsafe"

	"outpost/tsdb"
)

// Parser maps Graphite plaintext lines to points: the path through the
// templates (if any) to a metric name and labels, the value to a float64,
// the timestamp in seconds to milliseconds. A Parser is immutable and safe
// for concurrent use.
type Parser struct {
	ts *templateSet
	// fixedLabels and maxSep feed mappingBound: the most labels a path
	// gets besides its ";" tags (the metric name, graphite.tags, one
	// template's tags and tag parts), and the longest separator.
	fixedLabels int
	maxSep      int
}

// NewParser compiles cfg's templates, separator and tags. Errors name the
// offending key, as Config.Validate does.
func NewParser(cfg Config) (*Parser, error) {
	ts, err := compileTemplates(cfg.Templates, cfg.Tags, cfg.separator())
	if err != nil {
		return nil, err
	}
	p := &Parser{ts: ts, fixedLabels: 1 + len(ts.global), maxSep: 1}
	most := 0
	for _, t := range append([]*template{ts.def}, ts.list...) {
		n := len(t.tags)
		for _, part := range t.parts {
			if part.kind == partTag {
				n++
			}
		}
		most = max(most, n)
		p.maxSep = max(p.maxSep, len(t.sep))
	}
	p.fixedLabels += most
	return p, nil
}

// ParseLine parses one line, given without its "\n" (a trailing "\r" is
// ignored), and appends its point to dst. now, in milliseconds, stands for
// a missing timestamp and for -1 or 0. A blank line appends nothing and
// returns nil. A NaN value appends nothing and returns ErrNaN. Any other
// problem is a *ParseError whose Line is 1.
func (p *Parser) ParseLine(dst []tsdb.Point, line []byte, now int64) ([]tsdb.Point, error) {
	d := decoder{p: p}
	return d.parse(dst, line, now)
}

// rawLine is a line split into its fields, before the path is mapped.
type rawLine struct {
	path    []byte // the path, with any ";k=v" tags
	value   float64
	t       int64 // milliseconds; meaningful when !useNow
	useNow  bool  // no timestamp, or -1 or 0
	pathCol int   // 1-based column of the path
}

// isBlank reports whether c separates fields: carbon and VictoriaMetrics
// accept runs of spaces and tabs.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// splitLine splits "path value [timestamp]", surrounded and separated by any
// runs of spaces and tabs. ok is false for a blank line.
func splitLine(line []byte) (r rawLine, ok bool, perr *ParseError) {
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	var tok [4][]byte
	var col [4]int
	n := 0
	for i := 0; i < len(line); {
		for i < len(line) && isBlank(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		for i < len(line) && !isBlank(line[i]) {
			i++
		}
		if n == len(tok) {
			break // a fifth field: the error below points at the fourth
		}
		tok[n], col[n] = line[start:i], start+1
		n++
	}
	switch n {
	case 0:
		return r, false, nil
	case 1:
		return r, false, &ParseError{Line: 1, Col: len(line) + 1, Msg: "missing value, want: path value [timestamp]"}
	case 4:
		return r, false, &ParseError{Line: 1, Col: col[3], Msg: "more than 3 fields, want: path value [timestamp]"}
	}
	r.path, r.pathCol = tok[0], col[0]
	v, vok := parseValue(tok[1])
	if !vok {
		return r, false, &ParseError{Line: 1, Col: col[1], Msg: "invalid value " + strconv.Quote(string(tok[1]))}
	}
	r.value = v
	if n == 2 {
		r.useNow = true
		return r, true, nil
	}
	t, useNow, tok2 := parseTimestamp(tok[2])
	if !tok2 {
		return r, false, &ParseError{Line: 1, Col: col[2], Msg: "invalid timestamp " + strconv.Quote(string(tok[2])) + ", want seconds since the epoch"}
	}
	r.t, r.useNow = t, useNow
	return r, true, nil
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseDecimal parses [+-]digits[.digits] of at most 15 significant digits
// exactly (both operands of the division are exact, so the quotient is
// correctly rounded). ok is false for anything else.
func parseDecimal(b []byte) (v float64, ok bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg, i = b[0] == '-', 1
	}
	var mant uint64
	all, sig, frac, dot := 0, 0, 0, false // digits seen, significant digits, digits after the dot
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9':
			all++
			if sig > 0 || c != '0' {
				sig++
			}
			mant = mant*10 + uint64(c-'0')
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if all == 0 || sig > 15 || frac >= len(pow10) {
		return 0, false
	}
	v = float64(mant) / pow10[frac]
	if neg {
		v = -v
	}
	return v, true
}

// parseValue parses a sample value: a decimal number, an exponent form,
// "[+-]nan" or "[+-]inf"/"infinity" in any case, as carbon's float() and
// VictoriaMetrics accept them. Hexadecimal floats and digit separators,
// which strconv would take, are refused.
func parseValue(b []byte) (float64, bool) {
	if v, ok := parseDecimal(b); ok {
		return v, true
	}
	if len(b) == 0 || bytes.ContainsAny(b, "xX_") {
		return 0, false
	}
	if u := bytes.TrimLeft(b, "+-"); len(b)-len(u) <= 1 && bytes.EqualFold(u, []byte("nan")) {
		return math.NaN(), true // glibc's printf writes "-nan" for a negative NaN
	}
	// The string aliases b only for the call; the *NumError holding it is dropped.
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// maxSeconds bounds timestamps so that milliseconds fit an int64.
const maxSeconds = math.MaxInt64 / 1000

// parseTimestamp parses seconds since the epoch, fractional or not, into
// milliseconds. -1 (carbon's "now") and 0 (VictoriaMetrics' "now") set useNow.
func parseTimestamp(b []byte) (ms int64, useNow, ok bool) {
	if n, isInt := parseInt(b); isInt {
		if n == -1 || n == 0 {
			return 0, true, true
		}
		if n > maxSeconds || n < -maxSeconds {
			return 0, false, false
		}
		return n * 1000, false, true
	}
	f, vok := parseValue(b)
	switch {
	case !vok || math.IsNaN(f) || math.Abs(f) >= maxSeconds:
		return 0, false, false
	case f == -1 || f == 0:
		return 0, true, true
	}
	return int64(math.Round(f * 1000)), false, true
}

// parseInt parses [-]digits of at most 18 digits.
func parseInt(b []byte) (int64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	if i == len(b) || len(b)-i > 18 {
		return 0, false
	}
	var n int64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
