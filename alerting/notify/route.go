package notify

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Tree is a compiled routing tree. It is immutable and safe for concurrent
// use.
type Tree struct {
	root *Node
}

// Node is one route of a Tree with its effective settings: what the route
// left out is filled in from its parent, and the root's from the defaults.
// A Node is read-only.
type Node struct {
	// Key identifies the route in group keys, as Alertmanager's route key
	// does: the matchers of the route and its ancestors, such as
	// {}/{severity="critical"}. When two routes of the tree would have the
	// same key, each gets its position path appended (/1.0 for
	// route.routes[1].routes[0]), so groups of different routes never mix.
	Key            string
	Receiver       string
	GroupBy        []string // sorted; empty with GroupByAll
	GroupByAll     bool     // group_by: ['...']
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
	Continue       bool

	matchers []Matcher
	children []*Node
	path     string // position path from the root: "" for the root, "1.0" for routes[1].routes[0]
}

// NewTree compiles and checks a route tree (Config.Validate also checks
// the receiver names). The root must name a receiver and may have neither
// matchers nor continue.
func NewTree(cfg Route) (*Tree, error) {
	switch {
	case cfg.Receiver == "":
		return nil, errors.New("route.receiver: the root route needs a receiver")
	case len(cfg.Match) > 0 || len(cfg.MatchRE) > 0 || len(cfg.Matchers) > 0:
		return nil, errors.New("route: the root route must not have matchers (it takes every alert)")
	case cfg.Continue:
		return nil, errors.New("route.continue: not allowed on the root route")
	}
	root := &Node{
		GroupWait:      DefaultGroupWait,
		GroupInterval:  DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval,
	}
	if err := root.compile(cfg, "route"); err != nil {
		return nil, err
	}
	root.Key = "{}"
	root.setKeys()
	uniqueKeys(root)
	return &Tree{root: root}, nil
}

// compile fills n (which holds the inherited settings) from cfg and builds
// its children.
func (n *Node) compile(cfg Route, path string) error {
	if err := checkDurations(cfg, path); err != nil {
		return err
	}
	if err := checkGroupBy(cfg.GroupBy, path); err != nil {
		return err
	}
	ms, err := compileMatchers(cfg.Match, cfg.MatchRE, cfg.Matchers, path+".", "match_re")
	if err != nil {
		return err
	}
	n.matchers = ms
	n.Continue = cfg.Continue
	if cfg.Receiver != "" {
		n.Receiver = cfg.Receiver
	}
	if cfg.GroupBy != nil {
		n.GroupByAll = slices.Contains(cfg.GroupBy, groupByAll)
		n.GroupBy = nil
		if !n.GroupByAll {
			n.GroupBy = slices.Sorted(slices.Values(cfg.GroupBy))
		}
	}
	n.GroupWait = cmp.Or(cfg.GroupWait, n.GroupWait)
	n.GroupInterval = cmp.Or(cfg.GroupInterval, n.GroupInterval)
	n.RepeatInterval = cmp.Or(cfg.RepeatInterval, n.RepeatInterval)
	for i, cc := range cfg.Routes {
		child := &Node{
			Receiver: n.Receiver, GroupBy: n.GroupBy, GroupByAll: n.GroupByAll,
			GroupWait: n.GroupWait, GroupInterval: n.GroupInterval, RepeatInterval: n.RepeatInterval,
			path: strings.TrimPrefix(n.path+"."+strconv.Itoa(i), "."),
		}
		if err := child.compile(cc, fmt.Sprintf("%s.routes[%d]", path, i)); err != nil {
			return err
		}
		n.children = append(n.children, child)
	}
	return nil
}

// setKeys gives every descendant of n its Alertmanager route key.
func (n *Node) setKeys() {
	for _, c := range n.children {
		c.Key = n.Key + "/" + matchersString(c.matchers)
		c.setKeys()
	}
}

// uniqueKeys appends the position path to every key the tree holds twice.
func uniqueKeys(root *Node) {
	count := map[string]int{}
	root.walk(func(n *Node) { count[n.Key]++ })
	root.walk(func(n *Node) {
		if count[n.Key] > 1 {
			n.Key += "/" + n.path
		}
	})
}

func (n *Node) walk(visit func(*Node)) {
	visit(n)
	for _, c := range n.children {
		c.walk(visit)
	}
}

// Match returns the routes that take an alert with these labels: a
// depth-first, left-to-right search in which a matching route's children
// are tried first, the route itself counts only when none of them matched,
// and the search stops at the first matching sibling unless that sibling
// has Continue. The root takes every alert, so the result is never empty.
func (t *Tree) Match(labels map[string]string) []*Node {
	return t.root.match(labels, nil)
}

func (n *Node) match(labels map[string]string, out []*Node) []*Node {
	if !matchAll(n.matchers, labels) {
		return out
	}
	before := len(out)
	for _, c := range n.children {
		had := len(out)
		out = c.match(labels, out)
		if len(out) > had && !c.Continue {
			break
		}
	}
	if len(out) == before {
		out = append(out, n)
	}
	return out
}

// Walk calls visit for every route, depth-first, the root first.
func (t *Tree) Walk(visit func(*Node)) { t.root.walk(visit) }

// GroupLabels returns the labels of an alert that decide its group on n:
// the GroupBy labels it has, or all of them with GroupByAll.
func (n *Node) GroupLabels(labels map[string]string) map[string]string {
	if n.GroupByAll {
		return maps.Clone(labels)
	}
	out := make(map[string]string, len(n.GroupBy))
	for _, name := range n.GroupBy {
		if v, ok := labels[name]; ok {
			out[name] = v
		}
	}
	return out
}

// GroupKey returns Alertmanager's group key for a group of n with these
// group labels: the route key, a colon and the labels, such as
// {}/{severity="critical"}:{alertname="DiskFull"}.
func (n *Node) GroupKey(groupLabels map[string]string) string {
	return n.Key + ":" + labelsString(groupLabels)
}

// labelsString renders labels sorted by name as {a="1", b="2"}, the form of
// Alertmanager's label sets.
func labelsString(labels map[string]string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, name := range slices.Sorted(maps.Keys(labels)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(labels[name]))
	}
	b.WriteByte('}')
	return b.String()
}
