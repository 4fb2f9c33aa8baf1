package notify

import (
	"strings"
)

// ParseMatchers parses Alertmanager's matcher syntax: a comma-separated
// list of name op value, optionally in braces, such as
//
//	{severity="critical", host=~"web.*"}
//	alertname = DiskFull, env != staging,
//
// The operator is =, !=, =~ or !~. The value is either in double quotes,
// where \" is a quote, \\ a backslash and \n a line feed (a backslash
// before any other character stands for itself, as in Alertmanager), or
// unquoted: everything up to the next comma, spaces around it trimmed, with
// no double quote in it. Whitespace around the tokens is ignored and a
// trailing comma is allowed. The empty string and "{}" give no matchers.
// Label names are Prometheus label names; Alertmanager 0.27's quoted UTF-8
// names are not accepted.
//
// Errors are *ParseError values naming the column.
func ParseMatchers(s string) ([]Matcher, error) {
	p := matcherParser{in: s}
	return p.parse()
}

type matcherParser struct {
	in  string
	pos int // byte offset in in
	end int // byte offset of the end of the list (before a closing brace)
}

func (p *matcherParser) fail(pos int, msg string) error {
	return &ParseError{Input: p.in, Col: pos + 1, Msg: msg}
}

func (p *matcherParser) parse() ([]Matcher, error) {
	p.end = len(p.in)
	p.skipSpace()
	trimmed := strings.TrimRight(p.in, " \t\r\n")
	switch {
	case p.pos < len(p.in) && p.in[p.pos] == '{':
		if !strings.HasSuffix(trimmed, "}") || len(trimmed)-1 == p.pos {
			return nil, p.fail(len(trimmed), "missing closing '}'")
		}
		p.pos++
		p.end = len(trimmed) - 1
	case strings.HasSuffix(trimmed, "}") && !strings.Contains(trimmed, "{"):
		return nil, p.fail(len(trimmed)-1, "'}' without an opening '{'")
	}
	var ms []Matcher
	for {
		p.skipSpace()
		if p.pos >= p.end {
			return ms, nil
		}
		m, err := p.matcher()
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		p.skipSpace()
		if p.pos >= p.end {
			return ms, nil
		}
		if p.in[p.pos] != ',' {
			return nil, p.fail(p.pos, "expected ',' between matchers")
		}
		p.pos++
	}
}

func (p *matcherParser) skipSpace() {
	for p.pos < p.end && strings.IndexByte(" \t\r\n", p.in[p.pos]) >= 0 {
		p.pos++
	}
}

// matcher parses one name op value at p.pos.
func (p *matcherParser) matcher() (Matcher, error) {
	start := p.pos
	for p.pos < p.end && isNameByte(p.in[p.pos], p.pos == start) {
		p.pos++
	}
	name := p.in[start:p.pos]
	if name == "" {
		return Matcher{}, p.fail(start, "expected a label name")
	}
	p.skipSpace()
	opPos := p.pos
	var isRegex, isEqual bool
	switch rest := p.in[p.pos:p.end]; {
	case strings.HasPrefix(rest, "=~"):
		isRegex, isEqual = true, true
	case strings.HasPrefix(rest, "!~"):
		isRegex = true
	case strings.HasPrefix(rest, "!="):
	case strings.HasPrefix(rest, "="):
		isEqual = true
	default:
		return Matcher{}, p.fail(opPos, "expected an operator (=, !=, =~, !~) after "+quote(name))
	}
	if isRegex || !isEqual {
		p.pos += 2
	} else {
		p.pos++
	}
	p.skipSpace()
	value, err := p.value()
	if err != nil {
		return Matcher{}, err
	}
	m, err := NewMatcher(name, value, isRegex, isEqual)
	if err != nil {
		return Matcher{}, &ParseError{Input: p.in, Msg: err.Error()}
	}
	return m, nil
}

// value parses a quoted or an unquoted value at p.pos.
func (p *matcherParser) value() (string, error) {
	if p.pos < p.end && p.in[p.pos] == '"' {
		return p.quoted()
	}
	start := p.pos
	for p.pos < p.end && p.in[p.pos] != ',' {
		if p.in[p.pos] == '"' {
			return "", p.fail(p.pos, "double quote inside an unquoted value (quote the whole value)")
		}
		p.pos++
	}
	return strings.TrimRight(p.in[start:p.pos], " \t\r\n"), nil
}

// quoted parses "..." at p.pos, undoing the escapes.
func (p *matcherParser) quoted() (string, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	for p.pos < p.end {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\' && p.pos+1 < p.end:
			switch e := p.in[p.pos+1]; e {
			case '"', '\\':
				b.WriteByte(e)
				p.pos += 2
				continue
			case 'n':
				b.WriteByte('\n')
				p.pos += 2
				continue
			}
		}
		b.WriteByte(c)
		p.pos++
	}
	return "", p.fail(open, "unterminated quoted value")
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}
