package rulefile

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// conditionOps are the comparison operators, two-character ones first so
// that ">=" is not read as ">" followed by "=".
var conditionOps = [...]string{">=", "<=", "==", "!=", ">", "<"}

// errBadCondition is the reason given for a condition that does not parse.
var errBadCondition = errors.New(`want an operator (>, >=, <, <=, ==, !=) and a number, like "> 80"`)

// ParseCondition parses a rule file's condition: an operator (>, >=, <,
// <=, ==, !=) and a number, spaces allowed around both: "> 80", ">=90",
// "< -0.5", "> 1e6", "< +Inf". NaN is refused: no value compares to it.
func ParseCondition(s string) (*Condition, error) {
	t := strings.TrimSpace(s)
	op := ""
	for _, o := range conditionOps {
		if strings.HasPrefix(t, o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, fmt.Errorf("invalid condition %q: %w", s, errBadCondition)
	}
	num := strings.TrimSpace(t[len(op):])
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return nil, fmt.Errorf("invalid condition %q: %s is out of range", s, num)
		}
		return nil, fmt.Errorf("invalid condition %q: %w", s, errBadCondition)
	}
	if math.IsNaN(v) {
		return nil, fmt.Errorf("invalid condition %q: NaN never compares true", s)
	}
	return &Condition{Op: op, Value: v}, nil
}

// Holds reports whether v satisfies c. A NaN v never does, whatever the
// operator (a missing value is not a breach, nor a recovery); an unknown
// Op never holds either.
func (c Condition) Holds(v float64) bool {
	if math.IsNaN(v) {
		return false
	}
	switch c.Op {
	case ">":
		return v > c.Value
	case ">=":
		return v >= c.Value
	case "<":
		return v < c.Value
	case "<=":
		return v <= c.Value
	case "==":
		return v == c.Value
	case "!=":
		return v != c.Value
	}
	return false
}

// String returns c as a rule file writes it, "> 80"; ParseCondition reads
// it back to an equal Condition.
func (c Condition) String() string {
	return c.Op + " " + strconv.FormatFloat(c.Value, 'g', -1, 64)
}

// valid reports what is wrong with a Condition built in code, or "".
func (c Condition) valid() string {
	for _, o := range conditionOps {
		if c.Op == o {
			if math.IsNaN(c.Value) {
				return "the value must not be NaN"
			}
			return ""
		}
	}
	return fmt.Sprintf("unknown operator %q (want >, >=, <, <=, == or !=)", c.Op)
}

// upward reports whether c is a "greater than" condition, downward a
// "less than" one; == and != are neither.
func (c Condition) upward() bool   { return c.Op == ">" || c.Op == ">=" }
func (c Condition) downward() bool { return c.Op == "<" || c.Op == "<=" }
