package rulefile

import (
	"go.yaml.in/yaml/v3"
)

// groupDraft is a Group being decoded, with the column of its name key.
type groupDraft struct {
	Group
	col int
	// queryOffset holds the node of Prometheus' query_offset, which sets
	// EvalDelay, to refuse it next to vmalert's eval_delay.
	queryOffset, evalDelay *yaml.Node
	// keys holds the key node of each field ("labels.team" for a label),
	// so a problem points at its key.
	keys map[string]*yaml.Node
}

// vmalertParams are the keys of vmalert's group params that change what a
// query returns; outpost cannot honour them, so they are refused.
var vmalertParams = map[string]bool{"extra_label": true, "extra_filters": true, "extra_filters[]": true}

// group decodes the n-th group of the file from the mapping gn.
func (d *decoder) group(gn *yaml.Node, n int) *groupDraft {
	g := &groupDraft{Group: Group{File: d.file, Line: gn.Line}, col: gn.Column, keys: make(map[string]*yaml.Node)}
	l := loc{file: d.file, group: peek(gn, "name"), groupN: n}
	if gn.Kind != yaml.MappingNode {
		d.errorf(l, gn, "group: want a mapping, got %s", DescribeNode(gn))
		return g
	}
	ps := d.pairs(l, gn, "group")
	for _, p := range ps {
		if p.key.Value == "name" {
			g.Name, _ = d.str(l, p.val, "name")
			g.Line, g.col = p.key.Line, p.key.Column
		}
	}
	l.group = g.Name
	var rules *yaml.Node
	for _, p := range ps {
		switch p.key.Value {
		case "name":
		case "rules":
			rules = p.val
		default:
			g.keys[p.key.Value] = p.key
			if !d.groupField(g, l, p) {
				d.errorf(l, p.key, "unknown field %q", p.key.Value)
			}
		}
	}
	if g.queryOffset != nil && g.evalDelay != nil {
		d.errorf(l, g.queryOffset, "query_offset and eval_delay are the same setting: give one")
	}
	for _, pr := range checkGroup(&g.Group) {
		d.report(l, pr, g.Line, g.col, g.keys)
	}
	d.rules(g, l, rules)
	return g
}

// groupField decodes one group key other than name and rules, reporting
// whether the key is known.
func (d *decoder) groupField(g *groupDraft, l loc, p pair) bool {
	k, v := p.key.Value, p.val
	switch k {
	case "interval":
		g.Interval, _ = d.duration(l, v, k)
	case "query_offset": // Prometheus 2.53+: vmalert's eval_delay
		g.EvalDelay, _ = d.duration(l, v, k)
		g.queryOffset = p.key
	case "eval_delay":
		g.EvalDelay, _ = d.duration(l, v, k)
		g.evalDelay = p.key
	case "eval_offset":
		g.EvalOffset, _ = d.duration(l, v, k)
	case "limit":
		g.Limit, _ = d.integer(l, v, k)
	case "concurrency":
		g.Concurrency, _ = d.integer(l, v, k)
	case "type":
		g.Type, _ = d.str(l, v, k)
	case "labels":
		g.Labels = d.stringMap(l, v, k, g.keys)
	case "params":
		d.params(l, v)
	case "headers", "notifier_headers":
		d.stringList(l, v, k) // vmalert's HTTP headers: nothing to send them to
	case "eval_alignment":
		d.boolean(l, v, k) // outpost aligns evaluations its own way
	default:
		return false
	}
	return true
}

// params checks vmalert's group params (HTTP parameters of the group's
// queries): accepted and ignored, except those that filter the results.
func (d *decoder) params(l loc, n *yaml.Node) {
	for _, p := range d.pairs(l, n, "params") {
		if vmalertParams[p.key.Value] {
			d.errorf(l, p.key, "params.%s: filters the group's queries, which outpost cannot do; add the filter to each expr", p.key.Value)
			continue
		}
		if v := resolve(p.val); v.Kind == yaml.SequenceNode {
			d.stringList(l, v, "params."+p.key.Value)
		} else {
			d.str(l, v, "params."+p.key.Value)
		}
	}
}

// report records pr, at the key it names when keys has it, else at line
// and col.
func (d *decoder) report(l loc, pr problem, line, col int, keys map[string]*yaml.Node) {
	if n := keyFor(keys, pr.at); n != nil {
		line, col = n.Line, n.Column
	}
	d.errs = append(d.errs, l.problemAt(line, col, pr.msg, pr.err))
}

// keyFor finds the key node for a problem about at ("labels.severity"),
// falling back to its parent ("labels").
func keyFor(keys map[string]*yaml.Node, at string) *yaml.Node {
	for at != "" {
		if n := keys[at]; n != nil {
			return n
		}
		i := len(at) - 1
		for i >= 0 && at[i] != '.' {
			i--
		}
		if i < 0 {
			return nil
		}
		at = at[:i]
	}
	return nil
}
