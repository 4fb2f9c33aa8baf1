package promrw

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// JSON strings of an import line: the metric object's names and values,
// keys, and values written as strings ("NaN").

// str parses a JSON string. Without escapes, the result points into the
// line; with them, into the scratch space.
func (p *jsonParser) str() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if !utf8.Valid(s) {
				return "", fmt.Errorf("string at byte %d is not valid UTF-8", start)
			}
			return bytesString(s), nil
		case c == '\\':
			return p.unescape(start)
		case c < 0x20:
			return "", p.errorf("control character %#02x in a string", c)
		}
		p.i++
	}
	return "", fmt.Errorf("string at byte %d is not closed", start-1)
}

// unescape finishes a string that holds escapes, writing it to scratch.
func (p *jsonParser) unescape(start int) (string, error) {
	s := *p.scratch
	from := len(s)
	s = append(s, p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			*p.scratch = s
			out := s[from:]
			if !utf8.Valid(out) {
				return "", fmt.Errorf("string at byte %d is not valid UTF-8", start)
			}
			return bytesString(out), nil
		case c < 0x20:
			return "", p.errorf("control character %#02x in a string", c)
		case c != '\\':
			s = append(s, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			break
		}
		e := p.b[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			s = append(s, e)
		case 'b':
			s = append(s, '\b')
		case 'f':
			s = append(s, '\f')
		case 'n':
			s = append(s, '\n')
		case 'r':
			s = append(s, '\r')
		case 't':
			s = append(s, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r = p.lowSurrogate(r)
			}
			s = utf8.AppendRune(s, r)
		default:
			p.i -= 2
			return "", p.errorf("bad escape \\%c", e)
		}
	}
	*p.scratch = s
	return "", fmt.Errorf("string at byte %d is not closed", start-1)
}

// lowSurrogate completes the high surrogate r with the \u escape of a low
// one at the cursor, if there is one; else r is a lone surrogate, which
// becomes U+FFFD (as encoding/json reads it), and the cursor stays.
func (p *jsonParser) lowSurrogate(r rune) rune {
	if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
		save := p.i
		p.i += 2
		if r2, ok := p.hex4(); ok {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return dec
			}
		}
		p.i = save
	}
	return utf8.RuneError
}

// hex4 reads the four hex digits of a \u escape.
func (p *jsonParser) hex4() (rune, bool) {
	if len(p.b)-p.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}
