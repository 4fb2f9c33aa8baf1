package collectors

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"outpost/tsdb"
)

// TextSample is one sample line of the Prometheus text exposition format.
// Name and the Labels' strings are copies: the sample outlives the input.
type TextSample struct {
	Name   string
	Labels tsdb.Labels // as written (not sorted), without the metric name
	Value  float64
	// T is the sample's timestamp in milliseconds when HasT is set.
	T    int64
	HasT bool
}

// TextVisitor receives what ParseText finds; a nil field skips that kind.
// An error it returns stops the parse and is returned as is.
type TextVisitor struct {
	// Family is called for each # TYPE line (typ as written) and for each
	// # HELP line (typ empty, help unescaped).
	Family func(name, typ, help string) error
	// Sample is called for each sample line.
	Sample func(s TextSample) error
}

// ParseError is a malformed line of the text format: its 1-based line
// and byte column, and what is wrong.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("line %d col %d: %s", e.Line, e.Col, e.Msg)
}

// ParseText parses data in the Prometheus text exposition format
// (version 0.0.4): # HELP and # TYPE lines, other comments (skipped),
// and sample lines `name{label="value",...} value [timestamp]`, whatever
// the family's type (a histogram's _bucket, _sum and _count lines are
// samples like any other). Label values may hold the escapes \\, \" and
// \n; values may be +Inf, -Inf or NaN. It stops at the first malformed
// line with a *ParseError.
func ParseText(data []byte, v TextVisitor) error {
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		p := textLine{s: line, n: n}
		p.skipSpace()
		if p.i == len(p.s) {
			continue
		}
		var err error
		if p.s[p.i] == '#' {
			err = p.comment(v.Family)
		} else {
			err = p.sample(v.Sample)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// textLine is one line being parsed: s, read up to i.
type textLine struct {
	s []byte
	i int
	n int // line number
}

func (p *textLine) fail(format string, args ...any) error {
	return &ParseError{Line: p.n, Col: p.i + 1, Msg: fmt.Sprintf(format, args...)}
}

func (p *textLine) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// token returns the next run of non-blank bytes.
func (p *textLine) token() []byte {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' && p.s[p.i] != '\t' {
		p.i++
	}
	return p.s[start:p.i]
}

// comment parses a line starting with '#': HELP and TYPE are checked and
// reported, anything else is a comment.
func (p *textLine) comment(fn func(name, typ, help string) error) error {
	p.i++
	p.skipSpace()
	kw := string(p.token())
	if kw != "HELP" && kw != "TYPE" {
		return nil
	}
	p.skipSpace()
	name := p.token()
	if !validMetricName(name) {
		return p.fail("# %s: invalid metric name %q", kw, name)
	}
	p.skipSpace()
	rest := string(p.s[p.i:])
	if kw == "TYPE" {
		switch rest {
		case "counter", "gauge", "histogram", "summary", "untyped":
		default:
			return p.fail("# TYPE %s: unknown type %q", name, rest)
		}
		if fn != nil {
			return fn(string(name), rest, "")
		}
		return nil
	}
	if fn != nil {
		return fn(string(name), "", unescape(rest, false))
	}
	return nil
}

// sample parses a sample line.
func (p *textLine) sample(fn func(TextSample) error) error {
	start := p.i
	for p.i < len(p.s) && isNameByte(p.s[p.i], p.i == start) {
		p.i++
	}
	if p.i == start {
		return p.fail("want a metric name, got %q", p.s[p.i])
	}
	s := TextSample{Name: string(p.s[start:p.i])}
	if p.i < len(p.s) && p.s[p.i] == '{' {
		p.i++
		var err error
		if s.Labels, err = p.labels(); err != nil {
			return err
		}
	}
	if p.i >= len(p.s) || (p.s[p.i] != ' ' && p.s[p.i] != '\t') {
		return p.fail("want a space and a value after %s", s.Name)
	}
	p.skipSpace()
	tok := p.token()
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || bytes.ContainsAny(tok, "_xX") { // ParseFloat takes Go's hex and underscores too
		return p.fail("invalid value %q", tok)
	}
	s.Value = v
	p.skipSpace()
	if p.i < len(p.s) {
		tok := p.token()
		t, err := strconv.ParseInt(string(tok), 10, 64)
		if err != nil {
			return p.fail("invalid timestamp %q", tok)
		}
		s.T, s.HasT = t, true
		p.skipSpace()
		if p.i < len(p.s) {
			return p.fail("unexpected %q after the timestamp", p.s[p.i:])
		}
	}
	if fn != nil {
		return fn(s)
	}
	return nil
}

// labels parses `name="value",...}` (the '{' read), a trailing comma
// allowed.
func (p *textLine) labels() (tsdb.Labels, error) {
	var ls tsdb.Labels
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return ls, nil
		}
		start := p.i
		for p.i < len(p.s) && isLabelByte(p.s[p.i], p.i == start) {
			p.i++
		}
		if p.i == start {
			return nil, p.fail("want a label name or '}'")
		}
		name := string(p.s[start:p.i])
		p.skipSpace()
		if p.i+1 >= len(p.s) || p.s[p.i] != '=' {
			return nil, p.fail("want '=' after label %s", name)
		}
		p.i++
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.fail("want '\"' to open the value of label %s", name)
		}
		p.i++
		vstart, escaped := p.i, false
		for ; p.i < len(p.s) && p.s[p.i] != '"'; p.i++ {
			if p.s[p.i] == '\\' {
				escaped = true
				p.i++
			}
		}
		if p.i >= len(p.s) {
			return nil, p.fail("unterminated value of label %s", name)
		}
		val := string(p.s[vstart:p.i])
		if escaped {
			val = unescape(val, true)
		}
		p.i++
		ls = append(ls, tsdb.Label{Name: name, Value: val})
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i >= len(p.s) || p.s[p.i] != '}' {
			return nil, p.fail("want ',' or '}' after label %s", name)
		}
	}
}

// unescape undoes the text format's escapes: \\ and \n, and \" in label
// values (quote set). An unknown escape is kept as written.
func unescape(s string, quote bool) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch n := s[i+1]; {
		case n == '\\':
			b.WriteByte('\\')
		case n == 'n':
			b.WriteByte('\n')
		case n == '"' && quote:
			b.WriteByte('"')
		default:
			b.WriteByte(c)
			continue
		}
		i++
	}
	return b.String()
}

// isNameByte reports whether c may be in a metric name ([a-zA-Z_:] first,
// then digits too).
func isNameByte(c byte, first bool) bool {
	return c == ':' || isLabelByte(c, first)
}

// isLabelByte reports whether c may be in a label name ([a-zA-Z_] first,
// then digits too).
func isLabelByte(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

// validMetricName reports whether b is a valid metric name.
func validMetricName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for i, c := range b {
		if !isNameByte(c, i == 0) {
			return false
		}
	}
	return true
}
