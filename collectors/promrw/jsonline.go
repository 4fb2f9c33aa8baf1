package promrw

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"outpost/tsdb"
)

// Bounds on one line of an import body, besides its length.
const (
	// MaxLineSamples is the most samples one import line may hold: twice
	// what a line of /api/v1/export holds (65,536), so a line's values and
	// timestamps take at most 2 MiB however short its numbers.
	MaxLineSamples = 1 << 17
	// maxMetricBytes caps the metric object of a line (its labels).
	maxMetricBytes = 64 << 10
	// maxSkipDepth caps the nesting of a value under a key the format
	// does not have, which is skipped.
	maxSkipDepth = 64
)

// ErrSyntax is what a line that is not the export format's JSON wraps.
var ErrSyntax = errors.New("bad JSON line")

// ImportLine is one line of VictoriaMetrics' JSON lines format, as
// /api/v1/export writes it and /api/v1/import reads it:
//
//	{"metric":{"__name__":"m","a":"b"},"values":[1,2.5,"NaN"],"timestamps":[1700000000000,1700000010000,1700000020000]}
//
// ParseImportLine fills it, reusing its slices. Its label strings point
// into the line or into the ImportLine's own scratch space: they are valid
// until the next ParseImportLine and as long as the line does not change.
type ImportLine struct {
	// Labels are the labels of "metric" as sent, in their order, empty
	// values included (see Normalize).
	Labels tsdb.Labels
	// Values are the samples' values: JSON numbers, or strings that
	// strconv.ParseFloat reads ("NaN", "+Inf", "-Inf" as export writes
	// values JSON cannot hold).
	Values []float64
	// Timestamps are the samples' times in milliseconds, JSON integers.
	Timestamps []int64
	// Metric is the text of the "metric" object as it is in the line: equal
	// texts always mean equal label sets, which makes it a series key.
	Metric []byte

	scratch []byte // unescaped strings
}

// ParseImportLine parses one line (without its '\n'; a final '\r' is
// allowed) into l. Keys other than metric, values and timestamps are
// skipped; each of those three must appear once, and values and
// timestamps must be as long as each other. The error wraps ErrSyntax and
// says at which byte of the line it went wrong.
func ParseImportLine(line []byte, l *ImportLine) error {
	l.Labels, l.Values, l.Timestamps, l.Metric = l.Labels[:0], l.Values[:0], l.Timestamps[:0], nil
	l.scratch = l.scratch[:0]
	p := jsonParser{b: line, scratch: &l.scratch}
	if err := p.line(l); err != nil {
		return fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	return nil
}

// jsonParser reads one line of JSON.
type jsonParser struct {
	b       []byte
	i       int
	scratch *[]byte
}

// line parses the whole line.
func (p *jsonParser) line(l *ImportLine) error {
	p.ws()
	if err := p.expect('{'); err != nil {
		return err
	}
	var seen [3]bool // metric, values, timestamps
	for first := true; ; first = false {
		p.ws()
		if p.peek() == '}' && first {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if err := p.expect(':'); err != nil {
			return err
		}
		p.ws()
		k := -1
		switch key {
		case "metric":
			k, err = 0, p.metric(l)
		case "values":
			k, err = 1, p.values(l)
		case "timestamps":
			k, err = 2, p.timestamps(l)
		default:
			err = p.skip(0)
		}
		if err != nil {
			return err
		}
		if k >= 0 {
			if seen[k] {
				return fmt.Errorf("key %q given twice", key)
			}
			seen[k] = true
		}
		p.ws()
		if p.peek() == ',' {
			p.i++
			continue
		}
		if err := p.expect('}'); err != nil {
			return err
		}
		break
	}
	p.ws()
	if p.i < len(p.b) && !(p.b[p.i] == '\r' && p.i == len(p.b)-1) {
		return p.errorf("unexpected %s after the object", p.what())
	}
	for k, name := range []string{"metric", "values", "timestamps"} {
		if !seen[k] {
			return fmt.Errorf("no %q key", name)
		}
	}
	if len(l.Values) != len(l.Timestamps) {
		return fmt.Errorf("%d values but %d timestamps", len(l.Values), len(l.Timestamps))
	}
	return nil
}

// metric parses the "metric" object: label names and string values.
func (p *jsonParser) metric(l *ImportLine) error {
	start := p.i
	if err := p.expect('{'); err != nil {
		return fmt.Errorf("metric: %w", err)
	}
	for first := true; ; first = false {
		p.ws()
		if p.peek() == '}' && first {
			p.i++
			break
		}
		name, err := p.str()
		if err != nil {
			return fmt.Errorf("metric: %w", err)
		}
		p.ws()
		if err := p.expect(':'); err != nil {
			return fmt.Errorf("metric: %w", err)
		}
		p.ws()
		if p.peek() != '"' {
			return p.errorf("metric: the value of label %q is %s, not a string", name, p.what())
		}
		value, err := p.str()
		if err != nil {
			return fmt.Errorf("metric: label %q: %w", name, err)
		}
		l.Labels = append(l.Labels, tsdb.Label{Name: name, Value: value})
		if len(l.Labels) > MaxLabels {
			return fmt.Errorf("metric: more than %d labels", MaxLabels)
		}
		p.ws()
		if p.peek() == ',' {
			p.i++
			continue
		}
		if err := p.expect('}'); err != nil {
			return fmt.Errorf("metric: %w", err)
		}
		break
	}
	if p.i-start > maxMetricBytes {
		return fmt.Errorf("metric: %d bytes, the limit is %d", p.i-start, maxMetricBytes)
	}
	l.Metric = p.b[start:p.i]
	return nil
}

// values parses the "values" array.
func (p *jsonParser) values(l *ImportLine) error {
	return p.array("values", func() error {
		if len(l.Values) == MaxLineSamples {
			return fmt.Errorf("more than %d values: split the series into several lines", MaxLineSamples)
		}
		var v float64
		var err error
		switch c := p.peek(); {
		case c == '"':
			start := p.i
			var s string
			if s, err = p.str(); err == nil {
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					p.i = start
					return p.errorf("values[%d]: %q is not a number", len(l.Values), s)
				}
			}
		case c == '-' || isDigit(c):
			start := p.i
			num, ok := p.number()
			if !ok {
				return p.errorf("values[%d]: %q is not a JSON number", len(l.Values), num)
			}
			if v, err = strconv.ParseFloat(bytesString(num), 64); err != nil {
				p.i = start
				return p.errorf("values[%d]: %s is not a float64", len(l.Values), num)
			}
		default:
			return p.errorf("values[%d]: %s is not a number", len(l.Values), p.what())
		}
		l.Values = append(l.Values, v)
		return err
	})
}

// timestamps parses the "timestamps" array.
func (p *jsonParser) timestamps(l *ImportLine) error {
	return p.array("timestamps", func() error {
		if len(l.Timestamps) == MaxLineSamples {
			return fmt.Errorf("more than %d timestamps: split the series into several lines", MaxLineSamples)
		}
		if c := p.peek(); c != '-' && !isDigit(c) {
			return p.errorf("timestamps[%d]: %s is not a number", len(l.Timestamps), p.what())
		}
		start := p.i
		num, ok := p.number()
		if !ok {
			return p.errorf("timestamps[%d]: %q is not a JSON number", len(l.Timestamps), num)
		}
		t, err := strconv.ParseInt(bytesString(num), 10, 64)
		if err != nil {
			p.i = start
			return p.errorf("timestamps[%d]: %s is not an int64 number of milliseconds", len(l.Timestamps), num)
		}
		l.Timestamps = append(l.Timestamps, t)
		return nil
	})
}

// array parses a JSON array, calling elem at the start of each element.
func (p *jsonParser) array(name string, elem func() error) error {
	if err := p.expect('['); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	for first := true; ; first = false {
		p.ws()
		if p.peek() == ']' && first {
			p.i++
			return nil
		}
		if err := elem(); err != nil {
			return err
		}
		p.ws()
		if p.peek() == ',' {
			p.i++
			continue
		}
		if err := p.expect(']'); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
}

// skip passes over one JSON value of any kind.
func (p *jsonParser) skip(depth int) error {
	if depth > maxSkipDepth {
		return p.errorf("values nested deeper than %d", maxSkipDepth)
	}
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || isDigit(c):
		if num, ok := p.number(); !ok {
			return p.errorf("%q is not a JSON number", num)
		}
		return nil
	case c == '[':
		return p.array("array", func() error { return p.skip(depth + 1) })
	case c == '{':
		p.i++
		for first := true; ; first = false {
			p.ws()
			if p.peek() == '}' && first {
				p.i++
				return nil
			}
			if _, err := p.str(); err != nil {
				return err
			}
			p.ws()
			if err := p.expect(':'); err != nil {
				return err
			}
			p.ws()
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.peek() == ',' {
				p.i++
				continue
			}
			return p.expect('}')
		}
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			return nil
		}
	}
	return p.errorf("expected a value, found %s", p.what())
}

// number passes over a JSON number and returns its text, and false when
// the text is not one ("-", "1.", "1e": JSON's grammar is stricter than
// strconv's).
func (p *jsonParser) number() ([]byte, bool) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits := func() bool {
		from := p.i
		for p.i < len(p.b) && isDigit(p.b[p.i]) {
			p.i++
		}
		return p.i > from
	}
	ok := true
	if p.peek() == '0' {
		p.i++
	} else {
		ok = digits()
	}
	if ok && p.peek() == '.' {
		p.i++
		ok = digits()
	}
	if c := p.peek(); ok && (c == 'e' || c == 'E') {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		ok = digits()
	}
	return p.b[start:p.i], ok
}

// ws passes over JSON white space.
func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n':
		case '\r':
			if p.i == len(p.b)-1 {
				return // the line's own "\r\n"
			}
		default:
			return
		}
		p.i++
	}
}

// peek returns the byte at the cursor, or 0 at the end.
func (p *jsonParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// expect consumes c or fails.
func (p *jsonParser) expect(c byte) error {
	if p.peek() != c {
		return p.errorf("expected %q, found %s", c, p.what())
	}
	p.i++
	return nil
}

// what describes the input at the cursor for an error message.
func (p *jsonParser) what() string {
	if p.i >= len(p.b) {
		return "the end of the line"
	}
	r, _ := utf8.DecodeRune(p.b[p.i:])
	return strconv.QuoteRune(r)
}

// errorf is an error at the cursor.
func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", p.i+1, fmt.Sprintf(format, args...))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
