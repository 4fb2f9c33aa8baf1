package graphite

import (
	"fmt"
	"slices"
	"strings"

	"outpost/tsdb"
)

// templateSet is the compiled graphite.templates and graphite.tags. It is
// immutable once built and shared by every connection.
type templateSet struct {
	list   []*template  // in configuration order
	root   *filterNode  // the filtered templates, by path element
	def    *template    // the configured default template, or the built-in one
	global []tsdb.Label // graphite.tags, sorted by name
}

// filterNode is one element of the filter tree: the templates whose filters
// share a prefix hang below the same nodes, so matching a path costs one map
// lookup per path element (plus a wildcard branch), whatever the number of
// templates.
type filterNode struct {
	exact map[string]*filterNode // children by literal element
	wild  *filterNode            // the "*" child
	tmpl  *template              // the template whose filter ends here
}

// compileTemplates compiles graphite.templates and graphite.tags. Errors name
// the offending key and index.
func compileTemplates(entries, tags []string, sep string) (*templateSet, error) {
	ts := &templateSet{root: &filterNode{}}
	byFilter := make(map[string]int, len(entries))
	for i, e := range entries {
		t, err := compileTemplate(i, e, sep)
		if err != nil {
			return nil, err
		}
		if j, dup := byFilter[t.filter]; dup {
			if t.filter == "" {
				return nil, fmt.Errorf("graphite.templates[%d]: a second default template (no filter); graphite.templates[%d] is one already", i, j)
			}
			return nil, fmt.Errorf("graphite.templates[%d]: filter %q is already used by graphite.templates[%d]", i, t.filter, j)
		}
		byFilter[t.filter] = i
		ts.list = append(ts.list, t)
		if t.filter == "" {
			ts.def = t
		} else {
			ts.root.insert(t.filterE, t)
		}
	}
	if ts.def == nil {
		ts.def = builtinDefault()
	}
	for i, kv := range tags {
		l, err := parseTag(kv)
		if err != nil {
			return nil, fmt.Errorf("graphite.tags[%d]: %w", i, err)
		}
		ts.global = setLabel(ts.global, l)
	}
	return ts, nil
}

// insert hangs t below the nodes of its filter elements.
func (n *filterNode) insert(elems []string, t *template) {
	for _, e := range elems {
		var next *filterNode
		if e == "*" {
			if n.wild == nil {
				n.wild = &filterNode{}
			}
			next = n.wild
		} else {
			if n.exact == nil {
				n.exact = make(map[string]*filterNode)
			}
			if next = n.exact[e]; next == nil {
				next = &filterNode{}
				n.exact[e] = next
			}
		}
		n = next
	}
	n.tmpl = t
}

// search returns the most specific template whose filter matches elems, or
// nil. Exact elements are tried before the wildcard and deeper filters
// before shorter ones, backtracking when a branch ends without a template.
// InfluxDB 1.x walks the same tree greedily and falls back to the default
// template at such a dead end; backtracking gives the same answer wherever
// InfluxDB finds a filter, and the most specific matching filter elsewhere.
func (n *filterNode) search(elems []string) *template {
	if len(elems) > 0 {
		if c := n.exact[elems[0]]; c != nil {
			if t := c.search(elems[1:]); t != nil {
				return t
			}
		}
		if n.wild != nil {
			if t := n.wild.search(elems[1:]); t != nil {
				return t
			}
		}
	}
	return n.tmpl
}

// match returns the template for a path split on ".".
func (ts *templateSet) match(elems []string) *template {
	if t := ts.root.search(elems); t != nil {
		return t
	}
	return ts.def
}

// filterMatch reports whether filter elements f match path elements p, and
// if not, why, for the explain answer.
func filterMatch(f, p []string) (bool, string) {
	if len(f) > len(p) {
		return false, fmt.Sprintf("the filter has %d elements, the path only %d", len(f), len(p))
	}
	for i, e := range f {
		if e != "*" && e != p[i] {
			return false, fmt.Sprintf("element %d is %q, the filter wants %q", i+1, p[i], e)
		}
	}
	return true, "every element of the filter matches the start of the path"
}

// compareSpecificity orders filters from the most specific to the least:
// element by element, a literal before "*" (literals in byte order), and a
// longer filter before its prefix. Of the filters matching one path, the
// first in this order is the one search returns.
func compareSpecificity(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch wa, wb := a[i] == "*", b[i] == "*"; {
		case wa && !wb:
			return 1
		case !wa && wb:
			return -1
		}
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(b) - len(a)
}

// bySpecificity returns the filtered templates, most specific filter first.
func (ts *templateSet) bySpecificity() []*template {
	out := make([]*template, 0, len(ts.list))
	for _, t := range ts.list {
		if t.filter != "" {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *template) int { return compareSpecificity(a.filterE, b.filterE) })
	return out
}
