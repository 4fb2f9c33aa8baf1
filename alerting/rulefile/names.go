package rulefile

import (
	"slices"
	"strconv"
	"strings"
)

// validLabelName reports whether s is a Prometheus label name,
// [a-zA-Z_][a-zA-Z0-9_]*.
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// validMetricName reports whether s is a Prometheus metric name,
// [a-zA-Z_:][a-zA-Z0-9_:]* (the colons are for recording rules' names,
// level:metric:operations).
func validMetricName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// sortedKeys returns the keys of m in order, so problems come out in a
// stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ruleKey identifies a rule within its group as vmalert does: two rules
// with the same kind, name, expr and labels are the same rule twice.
func ruleKey(r *Rule) string {
	var b strings.Builder
	b.WriteString(kindName(r.Kind))
	b.WriteString(strconv.Quote(r.Name))
	b.WriteString(strconv.Quote(r.Expr))
	for _, k := range sortedKeys(r.Labels) {
		b.WriteString(strconv.Quote(k))
		b.WriteString(strconv.Quote(r.Labels[k]))
	}
	return b.String()
}

// kindName is k.String() for a Kind that may be out of range (a Rule
// built in code): such a kind is named, not panicked on.
func kindName(k Kind) string {
	if k < KindAlert || k > KindFlatline {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return k.String()
}
