package rulefile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem found in a rule file, with where it is. Parse and
// Validate return every problem they find, joined with errors.Join; use
// errors.As to get the first *Error, or Errors to get them all.
type Error struct {
	// File is the path the file was loaded from.
	File string
	// Line and Col are 1-based; 0 when unknown (Col is 0 for YAML syntax
	// errors and for problems found by Validate, which knows only the
	// rule's line).
	Line, Col int
	// Group is the group's name, or "group N" (its 1-based position) when
	// it has none; "" for a problem outside any group.
	Group string
	// Rule is the rule's name, or "rule N" (its 1-based position in the
	// group) when it has none; "" for a problem outside any rule.
	Rule string
	// Msg says what is wrong, starting with the offending key when there
	// is one: `unknown field "exprs"`, `for: invalid duration "5x"`.
	Msg string
	// Err is the underlying error (a query parse error, a template error,
	// a YAML syntax error), or nil.
	Err error

	// groupNumbered and ruleNumbered say that Group and Rule are "group N"
	// and "rule N" rather than names, so Error prints them unquoted.
	groupNumbered, ruleNumbered bool
}

// Error formats e as `file:line:col: group "g", rule "r": msg`, leaving
// out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
		if e.Col > 0 {
			b.WriteString(strconv.Itoa(e.Col))
			b.WriteByte(':')
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	where := false
	if e.Group != "" {
		writeName(&b, "group", e.Group, e.groupNumbered)
		where = true
	}
	if e.Rule != "" {
		if where {
			b.WriteString(", ")
		}
		writeName(&b, "rule", e.Rule, e.ruleNumbered)
		where = true
	}
	if where {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// writeName writes `group "name"`, or name as is when it is already
// "group N".
func writeName(b *strings.Builder, what, name string, numbered bool) {
	if numbered {
		b.WriteString(name)
		return
	}
	b.WriteString(what)
	b.WriteByte(' ')
	b.WriteString(strconv.Quote(name))
}

// Unwrap returns the underlying error, so errors.Is(err, query.ErrSyntax)
// holds for a bad expression.
func (e *Error) Unwrap() error { return e.Err }

// Errors returns every *Error in err (as joined by Parse, Validate or
// LoadGlobs), in order; nil when err holds none.
func Errors(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		var e *Error
		switch x := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, c := range x.Unwrap() {
				walk(c)
			}
		default:
			if errors.As(err, &e) {
				out = append(out, e)
			}
		}
	}
	walk(err)
	return out
}

// loc is where in a file a problem is: the group and rule it belongs to.
type loc struct {
	file          string
	group, rule   string
	groupN, ruleN int // 1-based positions; 0 outside a group or rule
}

// inRule returns l narrowed to the rule named name at position n.
func (l loc) inRule(name string, n int) loc {
	l.rule, l.ruleN = name, n
	return l
}

// problemAt builds the *Error for msg at line and col of l.
func (l loc) problemAt(line, col int, msg string, err error) *Error {
	e := &Error{File: l.file, Line: line, Col: col, Msg: msg, Err: err}
	if l.groupN > 0 {
		e.Group = l.group
		if e.Group == "" {
			e.Group, e.groupNumbered = fmt.Sprintf("group %d", l.groupN), true
		}
	}
	if l.ruleN > 0 {
		e.Rule = l.rule
		if e.Rule == "" {
			e.Rule, e.ruleNumbered = fmt.Sprintf("rule %d", l.ruleN), true
		}
	}
	return e
}

// problem is a check's finding: at names the key it is about ("expr",
// "labels.severity"), so the decoder can point at that key's line.
type problem struct {
	at  string
	msg string
	err error
}

// problemf returns a problem about key at with a formatted message.
func problemf(at, format string, args ...any) problem {
	return problem{at: at, msg: fmt.Sprintf(format, args...)}
}
