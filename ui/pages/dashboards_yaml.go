package pages

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"outpost/alerting/rulefile"
)

// DashboardError is one problem of a dashboard file, with where it is.
type DashboardError struct {
	File      string
	Line, Col int    // 1-based; 0 when unknown
	Field     string // the key's path, as rows[0].panels[1].unit; "" for the file as a whole
	Msg       string
}

// Error formats e as `file:line:col: field: msg`, leaving out what is
// unknown.
func (e *DashboardError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
		if e.Col > 0 {
			b.WriteString(":" + strconv.Itoa(e.Col))
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Bounds of what one dashboard file may cost to read.
const (
	maxDashboardBytes  = 1 << 20 // a file larger than this is refused unread
	maxDashboardNodes  = 100_000 // YAML nodes visited, aliases expanded
	maxDashboardErrors = 50      // problems reported for one file
)

// dashDecoder walks the yaml.Node tree of one dashboard file, collecting
// every problem rather than stopping at the first.
type dashDecoder struct {
	file  string
	errs  []*DashboardError
	more  int  // problems past maxDashboardErrors
	nodes int  // nodes visited so far
	stop  bool // the node budget ran out: walk no further
}

// errorf records a problem about field at node n.
func (d *dashDecoder) errorf(n *yaml.Node, field, format string, args ...any) {
	if len(d.errs) >= maxDashboardErrors {
		d.more++
		return
	}
	e := &DashboardError{File: d.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// visit resolves aliases in n and charges it to the node budget; it
// returns nil once the budget is spent (aliases can make a small file a
// huge tree).
func (d *dashDecoder) visit(n *yaml.Node) *yaml.Node {
	if d.stop {
		return nil
	}
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	if d.nodes++; d.nodes > maxDashboardNodes {
		d.stop = true // reported whatever the count of problems so far
		d.errs = append(d.errs, &DashboardError{File: d.file, Line: n.Line, Col: n.Column,
			Msg: fmt.Sprintf("the document is too large: aliases expand it past %d nodes", maxDashboardNodes)})
		return nil
	}
	return n
}

// yamlNull reports whether n is absent or an explicit null.
func yamlNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// fieldPath appends key to the field path.
func fieldPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// dashField is one key a mapping may have, and what decodes its value.
type dashField struct {
	name   string
	decode func(v *yaml.Node, path string)
}

// mapping decodes the mapping n key by key: unknown keys and keys given
// twice are errors; YAML merge keys ("<<: *base") are applied, a key
// written in n winning over a merged one. A null n is an empty mapping.
func (d *dashDecoder) mapping(n *yaml.Node, path string, fields []dashField) {
	n = d.visit(n)
	if yamlNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "want a mapping, got %s", rulefile.DescribeNode(n))
		return
	}
	type pair struct{ k, v *yaml.Node }
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content) && !d.stop; i += 2 {
		k, v := d.visit(n.Content[i]), n.Content[i+1]
		switch {
		case k == nil:
			return
		case k.Kind != yaml.ScalarNode:
			d.errorf(k, path, "keys must be strings, got %s", rulefile.DescribeNode(k))
		case k.Tag == "!!merge":
			for _, src := range d.mergeSources(v, path) {
				for j := 0; j+1 < len(src.Content); j += 2 {
					if mk := d.visit(src.Content[j]); mk != nil && mk.Kind == yaml.ScalarNode {
						merged = append(merged, pair{mk, src.Content[j+1]})
					}
				}
			}
		case seen[k.Value] != nil:
			d.errorf(k, fieldPath(path, k.Value), "given twice (first at line %d)", seen[k.Value].Line)
		default:
			seen[k.Value] = k
			own = append(own, pair{k, v})
		}
	}
	for _, p := range merged {
		if seen[p.k.Value] == nil {
			seen[p.k.Value] = p.k
			own = append(own, p)
		}
	}
	for _, p := range own {
		i := slices.IndexFunc(fields, func(f dashField) bool { return f.name == p.k.Value })
		if i < 0 {
			names := make([]string, len(fields))
			for j, f := range fields {
				names[j] = f.name
			}
			d.errorf(p.k, fieldPath(path, p.k.Value), "unknown field (want one of %s)", strings.Join(names, ", "))
			continue
		}
		fields[i].decode(p.v, fieldPath(path, p.k.Value))
	}
}

// mergeSources returns the mappings a merge key's value names.
func (d *dashDecoder) mergeSources(v *yaml.Node, path string) []*yaml.Node {
	v = d.visit(v)
	switch {
	case v == nil:
		return nil
	case v.Kind == yaml.MappingNode:
		return []*yaml.Node{v}
	case v.Kind == yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range v.Content {
			if c = d.visit(c); c != nil && c.Kind == yaml.MappingNode {
				out = append(out, c)
			}
		}
		return out
	}
	d.errorf(v, path, "<<: want a mapping or a list of mappings, got %s", rulefile.DescribeNode(v))
	return nil
}

// list decodes each element of the sequence n with each; null is empty.
func (d *dashDecoder) list(n *yaml.Node, path string, each func(i int, v *yaml.Node, path string)) {
	n = d.visit(n)
	if yamlNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, path, "want a list, got %s", rulefile.DescribeNode(n))
		return
	}
	for i, c := range n.Content {
		if d.stop {
			return
		}
		each(i, c, path+"["+strconv.Itoa(i)+"]")
	}
}

// str decodes a scalar as a string (null is ""), as YAML readers commonly
// accept a number where a string belongs.
func (d *dashDecoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = d.visit(n); n == nil || yamlNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "want a string, got %s", rulefile.DescribeNode(n))
			return
		}
		*dst = n.Value
	}
}

// boolean decodes true or false.
func (d *dashDecoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = d.visit(n); n == nil || yamlNull(n) {
			return
		}
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "want true or false, got %s", rulefile.DescribeNode(n))
			return
		}
		*dst = n.Value == "true" || n.Value == "True" || n.Value == "TRUE"
	}
}

// number decodes an integer or a float into *dst (allocated).
func (d *dashDecoder) number(dst **float64) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = d.visit(n); n == nil || yamlNull(n) {
			return
		}
		var f float64
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil ||
			math.IsNaN(f) || math.IsInf(f, 0) {
			d.errorf(n, path, "want a finite number, got %s", rulefile.DescribeNode(n))
			return
		}
		*dst = &f
	}
}

// stringList decodes a list of strings.
func (d *dashDecoder) stringList(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		d.list(n, path, func(_ int, v *yaml.Node, path string) {
			var s string
			d.str(&s)(v, path)
			*dst = append(*dst, s)
		})
	}
}

// dashYAMLLineRE finds the line in a YAML syntax error's text ("yaml: line 3:
// did not find expected key"): the library has no typed syntax error.
var dashYAMLLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError records a YAML syntax error with its line.
func (d *dashDecoder) syntaxError(err error) {
	e := &DashboardError{File: d.file, Msg: "invalid YAML: " + err.Error()}
	if m := dashYAMLLineRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	d.errs = append(d.errs, e)
}
