package notify

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Matcher is one label condition, Alertmanager's: name="v" (IsEqual, not
// IsRegex), name!="v", name=~"re" (IsRegex, IsEqual) and name!~"re". A
// regular expression is anchored at both ends, as in Alertmanager and
// PromQL: "web.*" matches "web-1" but not "old-web-1". A label the alert
// lacks has the value "", so host!="" requires the label.
//
// The JSON form is Alertmanager's silence matcher; isEqual defaults to true
// when absent. Build matchers with NewMatcher or ParseMatchers (or decode
// them from JSON): they compile the regular expression once.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual bool   `json:"isEqual"`

	re *regexp.Regexp // anchored Value when IsRegex; nil for a literal Matcher
}

// NewMatcher returns a matcher, compiling value when isRegex.
func NewMatcher(name, value string, isRegex, isEqual bool) (Matcher, error) {
	m := Matcher{Name: name, Value: value, IsRegex: isRegex, IsEqual: isEqual}
	if !validLabelName(name) {
		return Matcher{}, fmt.Errorf("bad label name %q", name)
	}
	if !utf8.ValidString(value) {
		return Matcher{}, fmt.Errorf("value %q is not valid UTF-8", value)
	}
	if isRegex {
		// Compiled bare first so that the error shows the operator's
		// expression, not the anchored one.
		if _, err := regexp.Compile(value); err != nil {
			return Matcher{}, fmt.Errorf("bad regexp %q: %w", value, err)
		}
		m.re = regexp.MustCompile("^(?:" + value + ")$")
	}
	return m, nil
}

// Matches reports whether a label value v satisfies m.
func (m Matcher) Matches(v string) bool {
	if !m.IsRegex {
		return (v == m.Value) == m.IsEqual
	}
	re := m.re
	if re == nil { // a Matcher built as a literal; slow but correct
		var err error
		if re, err = regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
			return false
		}
	}
	return re.MatchString(v) == m.IsEqual
}

// Op returns the operator: "=", "!=", "=~" or "!~".
func (m Matcher) Op() string {
	switch {
	case m.IsRegex && m.IsEqual:
		return "=~"
	case m.IsRegex:
		return "!~"
	case m.IsEqual:
		return "="
	}
	return "!="
}

// String returns m in the syntax ParseMatchers reads back: name, operator
// and the value in double quotes, with \, " and line feeds escaped.
func (m Matcher) String() string {
	return m.Name + m.Op() + quote(m.Value)
}

// equal reports whether a and b are the same condition.
func (m Matcher) equal(o Matcher) bool {
	return m.Name == o.Name && m.Value == o.Value && m.IsRegex == o.IsRegex && m.IsEqual == o.IsEqual
}

// UnmarshalJSON decodes Alertmanager's silence matcher and compiles it.
func (m *Matcher) UnmarshalJSON(b []byte) error {
	var raw struct {
		Name    string `json:"name"`
		Value   string `json:"value"`
		IsRegex bool   `json:"isRegex"`
		IsEqual *bool  `json:"isEqual"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	isEqual := raw.IsEqual == nil || *raw.IsEqual
	nm, err := NewMatcher(raw.Name, raw.Value, raw.IsRegex, isEqual)
	if err != nil {
		return err
	}
	*m = nm
	return nil
}

// matchAll reports whether labels satisfy every matcher.
func matchAll(ms []Matcher, labels map[string]string) bool {
	for i := range ms {
		if !ms[i].Matches(labels[ms[i].Name]) {
			return false
		}
	}
	return true
}

// matchersString renders ms as {a="1",b=~"2"}, the form of Alertmanager's
// route keys.
func matchersString(ms []Matcher) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.String())
	}
	b.WriteByte('}')
	return b.String()
}

// validLabelName reports whether s is a Prometheus label name (the colon
// is accepted as Alertmanager's matcher parser does).
func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quote puts s in double quotes, escaping what unquote undoes.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
