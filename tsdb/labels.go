package tsdb

import (
	"fmt"
	"hash/maphash"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// MetricName is the label that holds a series' metric name, as in Prometheus.
const MetricName = "__name__"

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// Labels is a set of labels sorted by name, with unique names. A series is
// identified by its Labels, metric name (MetricName) included. Labels values
// handed to the store are not retained: the store copies what it keeps.
type Labels []Label

// FromStrings builds Labels from name, value pairs, sorting them. It panics on
// an odd number of arguments, which is a programmer error.
func FromStrings(nv ...string) Labels {
	if len(nv)%2 != 0 {
		panic("tsdb.FromStrings: odd number of arguments")
	}
	ls := make(Labels, 0, len(nv)/2)
	for i := 0; i < len(nv); i += 2 {
		ls = append(ls, Label{nv[i], nv[i+1]})
	}
	ls.Sort()
	return ls
}

// FromMap builds sorted Labels from a map.
func FromMap(m map[string]string) Labels {
	ls := make(Labels, 0, len(m))
	for n, v := range m {
		ls = append(ls, Label{n, v})
	}
	ls.Sort()
	return ls
}

// Sort sorts ls by name in place.
func (ls Labels) Sort() {
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
}

// Get returns the value of the label called name, or "" when there is none.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Has reports whether ls holds a label called name.
func (ls Labels) Has(name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// Validate reports the first problem that makes ls unusable as a series:
// no metric name, an empty label name or value-less duplicate, or names out
// of order.
func (ls Labels) Validate() error {
	if ls.Get(MetricName) == "" {
		return fmt.Errorf("series %s: %w", ls, ErrNoMetricName)
	}
	for i, l := range ls {
		if l.Name == "" {
			return fmt.Errorf("series %s: %w", ls, ErrEmptyLabelName)
		}
		if i > 0 && ls[i-1].Name >= l.Name {
			return fmt.Errorf("series %s: %w", ls, ErrUnsortedLabels)
		}
	}
	return nil
}

// WithoutEmpty returns ls without the labels whose value is empty, which
// Prometheus treats as absent: {a=""} and {} are one series. It returns ls
// itself when there is nothing to drop.
func (ls Labels) WithoutEmpty() Labels {
	for i, l := range ls {
		if l.Value == "" {
			out := make(Labels, i, len(ls)-1)
			copy(out, ls[:i])
			for _, l := range ls[i+1:] {
				if l.Value != "" {
					out = append(out, l)
				}
			}
			return out
		}
	}
	return ls
}

// Equal reports whether ls and o hold the same labels.
func (ls Labels) Equal(o Labels) bool {
	return slices.Equal(ls, o)
}

// Compare orders label sets the way Prometheus sorts series.
func Compare(a, b Labels) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

// Copy returns a copy of ls whose backing array is not shared.
func (ls Labels) Copy() Labels {
	return slices.Clone(ls)
}

// Hash returns a hash of ls under seed. It is stable within one process only
// (maphash), which is all the in-memory series lookup needs.
func (ls Labels) Hash(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
	return h.Sum64()
}

// String formats ls as metric{name="value", ...}.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteString(ls.Get(MetricName))
	b.WriteByte('{')
	first := true
	for _, l := range ls {
		if l.Name == MetricName {
			continue
		}
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// MatchType is the kind of comparison a Matcher makes.
type MatchType int

// The matcher kinds of PromQL and MetricsQL label filters.
const (
	MatchEqual MatchType = iota
	MatchNotEqual
	MatchRegexp
	MatchNotRegexp
)

// String returns the operator as written in a selector.
func (t MatchType) String() string {
	switch t {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegexp:
		return "=~"
	case MatchNotRegexp:
		return "!~"
	}
	panic("tsdb: unknown MatchType " + strconv.Itoa(int(t)))
}

// Matcher selects series by one label. A missing label matches as the empty
// string, as in Prometheus: {a=""} selects series without label a.
type Matcher struct {
	Type  MatchType
	Name  string
	Value string

	re *regexp.Regexp // anchored; set for the regexp kinds
}

// NewMatcher builds a matcher; regexp values are anchored at both ends.
func NewMatcher(t MatchType, name, value string) (*Matcher, error) {
	m := &Matcher{Type: t, Name: name, Value: value}
	if t == MatchRegexp || t == MatchNotRegexp {
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return nil, fmt.Errorf("label matcher %s%s%q: %w", name, t, value, err)
		}
		m.re = re
	}
	return m, nil
}

// MustNewMatcher is NewMatcher for tests and constant matchers; it panics on a
// bad regexp.
func MustNewMatcher(t MatchType, name, value string) *Matcher {
	m, err := NewMatcher(t, name, value)
	if err != nil {
		panic(err)
	}
	return m
}

// Matches reports whether the label value v matches.
func (m *Matcher) Matches(v string) bool {
	switch m.Type {
	case MatchEqual:
		return v == m.Value
	case MatchNotEqual:
		return v != m.Value
	case MatchRegexp:
		return m.re.MatchString(v)
	case MatchNotRegexp:
		return !m.re.MatchString(v)
	}
	panic("tsdb: unknown MatchType " + strconv.Itoa(int(m.Type)))
}

// MatchesEmpty reports whether the matcher selects series that lack the label.
func (m *Matcher) MatchesEmpty() bool { return m.Matches("") }

// LiteralValues returns the finite set of values a regexp matcher accepts
// when its pattern is a plain alternation such as "a|b|c", and nil otherwise.
// The index uses it to look postings up directly instead of scanning values.
func (m *Matcher) LiteralValues() []string {
	if m.Type != MatchRegexp && m.Type != MatchEqual {
		return nil
	}
	if m.Type == MatchEqual {
		return []string{m.Value}
	}
	if m.Value == "" || strings.ContainsAny(m.Value, `.+*?()[]{}^$\`) {
		return nil
	}
	return strings.Split(m.Value, "|")
}

// String formats the matcher as written in a selector.
func (m *Matcher) String() string {
	return m.Name + m.Type.String() + strconv.Quote(m.Value)
}
