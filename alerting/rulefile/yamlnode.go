package rulefile

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxAliasExpansion bounds how many nodes aliases may add to a document
// (a "billion laughs" file is refused before it is walked).
const maxAliasExpansion = 100_000

// maxSizedNodes is where checkAliases stops counting a document's nodes.
const maxSizedNodes = 1 << 40

// decoder walks the yaml.Node tree of one rule file, collecting every
// problem as an *Error rather than stopping at the first.
type decoder struct {
	file string
	errs []error
	// groupN counts the groups seen so far, over every document, and
	// groupLines holds the line of each group name, to find duplicates.
	groupN     int
	groupLines map[string]int
}

// pair is one key and value of a mapping, aliases resolved.
type pair struct {
	key, val *yaml.Node
}

// errorf records a problem at node n (its line and column).
func (d *decoder) errorf(l loc, n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, l.problemAt(n.Line, n.Column, fmt.Sprintf(format, args...), nil))
}

// resolve follows n to the node an alias names.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null ("~", "null", or
// nothing after the colon).
func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// pairs returns the keys and values of the mapping n, with YAML merge keys
// ("<<: *base") applied: a key written in n wins over a merged one. A key
// written twice is an error, as in Prometheus' strict decoding. A null n
// is an empty mapping.
func (d *decoder) pairs(l loc, n *yaml.Node, what string) []pair {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(l, n, "%s: want a mapping, got %s", what, DescribeNode(n))
		return nil
	}
	var own, merged []pair
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(l, k, "%s: keys must be strings, got %s", what, DescribeNode(k))
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergeSource(l, v, what)...)
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			d.errorf(l, k, "field %q given twice (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		own = append(own, pair{k, v})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			own = append(own, p)
		}
	}
	return own
}

// mergeSource returns the pairs a merge key's value brings: a mapping, or
// a sequence of mappings of which the earlier win.
func (d *decoder) mergeSource(l loc, v *yaml.Node, what string) []pair {
	if v.Kind != yaml.SequenceNode {
		return d.pairs(l, v, what)
	}
	var out []pair
	for _, c := range v.Content {
		out = append(out, d.pairs(l, c, what)...)
	}
	return out
}

// peek returns the scalar value of the first of keys found in mapping n,
// before n is decoded, so that problems found while decoding it can name
// the group or rule.
func peek(n *yaml.Node, keys ...string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode && !isNull(v) {
			for _, want := range keys {
				if k.Value == want {
					return v.Value
				}
			}
		}
	}
	return ""
}

// DescribeNode names what a node is, for "want X, got Y" messages (also
// used by the dashboard files of ui/pages, which share the style).
func DescribeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return strconv.Quote(n.Value)
	}
	return "a YAML node"
}

// str returns the scalar n as a string (null is ""), as Prometheus' decoder
// reads any scalar into a string field.
func (d *decoder) str(l loc, n *yaml.Node, what string) (string, bool) {
	switch {
	case isNull(n):
		return "", true
	case n.Kind == yaml.ScalarNode:
		return n.Value, true
	}
	d.errorf(l, n, "%s: want a string, got %s", what, DescribeNode(n))
	return "", false
}

// integer returns the scalar n as an int (null is 0).
func (d *decoder) integer(l loc, n *yaml.Node, what string) (int, bool) {
	if isNull(n) {
		return 0, true
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.ParseInt(n.Value, 0, 32); err == nil {
			return int(v), true
		}
	}
	d.errorf(l, n, "%s: want an integer, got %s", what, DescribeNode(n))
	return 0, false
}

// boolean returns the scalar n as a bool (null is false).
func (d *decoder) boolean(l loc, n *yaml.Node, what string) (bool, bool) {
	if isNull(n) {
		return false, true
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	d.errorf(l, n, "%s: want true or false, got %s", what, DescribeNode(n))
	return false, false
}

// duration returns the scalar n as a Prometheus duration (null is 0).
func (d *decoder) duration(l loc, n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := d.str(l, n, what)
	if !ok || isNull(n) {
		return 0, ok
	}
	v, err := parseDuration(s)
	if err != nil {
		d.errs = append(d.errs, l.problemAt(n.Line, n.Column, what+": "+err.Error(), nil))
		return 0, false
	}
	return v, true
}

// stringMap returns the mapping n as a map of strings, with the key node
// of each entry in keys under prefix+"."+key.
func (d *decoder) stringMap(l loc, n *yaml.Node, what string, keys map[string]*yaml.Node) map[string]string {
	ps := d.pairs(l, n, what)
	if ps == nil {
		return nil
	}
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		if v, ok := d.str(l, p.val, what+"."+p.key.Value); ok {
			m[p.key.Value] = v
			if keys != nil {
				keys[what+"."+p.key.Value] = p.key
			}
		}
	}
	return m
}

// stringList returns the sequence n as strings (null is none).
func (d *decoder) stringList(l loc, n *yaml.Node, what string) []string {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(l, n, "%s: want a list, got %s", what, DescribeNode(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		if s, ok := d.str(l, resolve(c), what); ok {
			out = append(out, s)
		}
	}
	return out
}

// checkAliases refuses a document whose aliases refer to a node that
// contains them, or expand it by more than maxAliasExpansion nodes.
func checkAliases(root *yaml.Node) (*yaml.Node, string) {
	sizes := make(map[*yaml.Node]int) // -1 while a node is being sized
	var size func(n *yaml.Node) (int, *yaml.Node)
	size = func(n *yaml.Node) (int, *yaml.Node) {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1, nil
			}
			s, bad := size(n.Alias)
			if bad == nil && sizes[n.Alias] == -1 {
				bad = n // n names a node still being sized: one that contains n
			}
			return min(s+1, maxSizedNodes), bad
		}
		switch sizes[n] {
		case -1:
			return 0, nil // a cycle: the alias that closes it reports it
		case 0:
		default:
			return sizes[n], nil
		}
		sizes[n] = -1
		total := 1
		for _, c := range n.Content {
			s, bad := size(c)
			if bad != nil {
				return 0, bad
			}
			total = min(total+s, maxSizedNodes) // saturate: 40 levels of 10 aliases overflow an int
		}
		sizes[n] = total
		return total, nil
	}
	total, bad := size(root)
	if bad != nil {
		return bad, fmt.Sprintf("alias *%s refers to a node that contains it", bad.Value)
	}
	if total-len(sizes) > maxAliasExpansion {
		return root, fmt.Sprintf("aliases expand the document by more than %d nodes", maxAliasExpansion)
	}
	return nil, ""
}
