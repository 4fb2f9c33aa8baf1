package rulefile

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ruleDraft is a Rule being decoded.
type ruleDraft struct {
	r   Rule
	col int // the column of the rule's alert, record or flatline key
	// keys holds the key node of each field ("annotations.summary" for an
	// annotation), so a problem points at its key.
	keys map[string]*yaml.Node
	// bad holds the keys whose values did not decode: checks of those
	// keys' values would only repeat the problem.
	bad map[string]bool
	// invalid says the rule is not a mapping or has no kind: it is not
	// compared with the others for duplicates.
	invalid bool
}

// kindKeys are the keys that name a rule and give its kind.
var kindKeys = map[string]Kind{"alert": KindAlert, "record": KindRecord, "flatline": KindFlatline}

// rules decodes the rules list of group g.
func (d *decoder) rules(g *groupDraft, l loc, n *yaml.Node) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(l, n, "rules: want a list, got %s", DescribeNode(n))
		return
	}
	seen := make(map[string]int, len(n.Content)) // ruleKey -> line
	for i, rn := range n.Content {
		dr := d.rule(l, resolve(rn), i+1)
		r := dr.r
		k := ruleKey(&r)
		if line, dup := seen[k]; dup && !dr.invalid {
			at, col := r.Line, dr.col
			if rn.Kind == yaml.AliasNode { // the alias repeats the rule, not its anchor
				at, col = rn.Line, rn.Column
			}
			rl := l.inRule(r.Name, i+1)
			d.errs = append(d.errs, rl.problemAt(at, col, duplicateMsg(&r, line), nil))
		} else if !dr.invalid {
			seen[k] = r.Line
		}
		g.Rules = append(g.Rules, r)
	}
}

// rule decodes the n-th rule of a group from the mapping rn.
func (d *decoder) rule(l loc, rn *yaml.Node, n int) *ruleDraft {
	dr := &ruleDraft{r: Rule{Line: rn.Line}, col: rn.Column, keys: make(map[string]*yaml.Node), bad: make(map[string]bool)}
	if rn.Kind != yaml.MappingNode {
		d.errorf(l.inRule("", n), rn, "rule: want a mapping, got %s", DescribeNode(rn))
		dr.invalid = true
		return dr
	}
	ps := d.pairs(l.inRule(peek(rn, "alert", "record", "flatline"), n), rn, "rule")
	kinds := d.ruleKind(dr, l.inRule("", n), ps)
	l = l.inRule(dr.r.Name, n)
	switch {
	case len(kinds) == 0:
		d.errorf(l, rn, "one of alert, record or flatline must be set")
		dr.invalid = true
	case len(kinds) > 1:
		d.errorf(l, rn, "only one of alert, record and flatline may be set (found %s)", strings.Join(kinds, " and "))
	}
	var mGiven, nGiven bool
	for _, p := range ps {
		k := p.key.Value
		dr.keys[k] = p.key
		if _, isKind := kindKeys[k]; isKind {
			continue
		}
		mGiven = mGiven || k == "datapoints_to_alarm"
		nGiven = nGiven || k == "evaluation_periods"
		before := len(d.errs)
		if !d.ruleField(dr, l, p) {
			d.errorf(l, p.key, "unknown field %q", k)
		}
		if len(d.errs) > before {
			dr.bad[k] = true
		}
	}
	// One of M and N alone: the other takes its value (M of M, N of N).
	if mGiven && !nGiven {
		dr.r.EvaluationPeriods = dr.r.DatapointsToAlarm
	} else if nGiven && !mGiven {
		dr.r.DatapointsToAlarm = dr.r.EvaluationPeriods
	}
	probs := append(checkRule(&dr.r, mGiven || nGiven), compileTemplates(&dr.r, true)...)
	for _, pr := range probs {
		if len(kinds) == 0 && pr.at == "alert" || dr.bad[pr.at] {
			continue // say "must be set" or "want a string" once, not also "must not be empty"
		}
		d.report(l, pr, dr.r.Line, dr.col, dr.keys)
	}
	return dr
}

// ruleKind sets the kind, name and line of dr from the first of its
// alert, record and flatline keys, and returns every such key found.
func (d *decoder) ruleKind(dr *ruleDraft, l loc, ps []pair) []string {
	var kinds []string
	for _, p := range ps {
		k, ok := kindKeys[p.key.Value]
		if !ok {
			continue
		}
		if len(kinds) == 0 {
			dr.r.Kind = k
			dr.r.Name, ok = d.str(l, p.val, p.key.Value)
			dr.r.Line, dr.col = p.key.Line, p.key.Column
			dr.bad[p.key.Value] = !ok
		}
		kinds = append(kinds, p.key.Value)
	}
	return kinds
}

// ruleField decodes one rule key other than alert, record and flatline,
// reporting whether the key is known.
func (d *decoder) ruleField(dr *ruleDraft, l loc, p pair) bool {
	r, k, v := &dr.r, p.key.Value, p.val
	switch k {
	case "expr":
		r.Expr, _ = d.str(l, v, k)
	case "for":
		r.For, _ = d.duration(l, v, k)
	case "keep_firing_for":
		r.KeepFiringFor, _ = d.duration(l, v, k)
	case "labels":
		r.Labels = d.stringMap(l, v, k, dr.keys)
	case "annotations":
		r.Annotations = d.stringMap(l, v, k, dr.keys)
	case "debug": // vmalert: log the rule's evaluations
		d.boolean(l, v, k)
	case "update_entries_limit": // vmalert: its state history size
		d.integer(l, v, k)
	default:
		return d.outpostField(r, l, p)
	}
	return true
}

// outpostField decodes one of outpost's own rule keys, reporting whether
// the key is known.
func (d *decoder) outpostField(r *Rule, l loc, p pair) bool {
	k, v := p.key.Value, p.val
	switch k {
	case "warn":
		r.Warn = d.condition(l, v, k)
	case "crit":
		r.Crit = d.condition(l, v, k)
	case "clear":
		r.Clear = d.condition(l, v, k)
	case "datapoints_to_alarm":
		r.DatapointsToAlarm, _ = d.integer(l, v, k)
	case "evaluation_periods":
		r.EvaluationPeriods, _ = d.integer(l, v, k)
	case "missing_data":
		r.MissingData = d.missingData(l, v)
	case "repeat":
		r.Repeat = d.repeat(l, v)
	case "by":
		r.By = d.stringList(l, v, k)
	case "forget_after":
		r.ForgetAfter, _ = d.duration(l, v, k)
	case "remediate":
		r.Remediate = d.remediate(l, p.key, v)
	default:
		return false
	}
	return true
}

// condition decodes a warn, crit or clear condition.
func (d *decoder) condition(l loc, n *yaml.Node, what string) *Condition {
	s, ok := d.str(l, n, what)
	if !ok {
		return nil
	}
	c, err := ParseCondition(s)
	if err != nil {
		d.errs = append(d.errs, l.problemAt(n.Line, n.Column, what+": "+err.Error(), nil))
		return nil
	}
	return c
}

// missingDataNames maps the accepted missing_data words to policies,
// CloudWatch's camelCase notBreaching among them.
var missingDataNames = map[string]MissingData{
	"missing": MissingMissing, "breaching": MissingBreaching, "not_breaching": MissingNotBreaching,
	"notBreaching": MissingNotBreaching, "ignore": MissingIgnore,
}

// missingData decodes missing_data.
func (d *decoder) missingData(l loc, n *yaml.Node) MissingData {
	s, ok := d.str(l, n, "missing_data")
	if !ok || isNull(n) {
		return MissingDefault
	}
	md, ok := missingDataNames[s]
	if !ok {
		d.errorf(l, n, "missing_data: unknown policy %q (want missing, breaching, not_breaching or ignore)", s)
	}
	return md
}

// repeat decodes repeat: one duration for every severity, or a mapping of
// severity (warn or warning, crit or critical) to duration. The result is
// keyed "warning" and "critical"; one duration is stored under "",
// "warning" and "critical".
func (d *decoder) repeat(l loc, n *yaml.Node) map[string]time.Duration {
	n = resolve(n)
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		v, ok := d.duration(l, n, "repeat")
		if !ok {
			return nil
		}
		return map[string]time.Duration{"": v, "warning": v, "critical": v}
	}
	m := make(map[string]time.Duration, 2)
	for _, p := range d.pairs(l, n, "repeat") {
		sev, ok := repeatSeverities[p.key.Value]
		if !ok {
			d.errorf(l, p.key, "repeat: unknown severity %q (want warning or critical)", p.key.Value)
			continue
		}
		if _, dup := m[sev]; dup {
			d.errorf(l, p.key, "repeat: %s given twice", sev)
			continue
		}
		if v, ok := d.duration(l, p.val, "repeat."+p.key.Value); ok {
			m[sev] = v
		}
	}
	return m
}

// repeatSeverities maps repeat's keys to the severities they stand for.
var repeatSeverities = map[string]string{
	"warn": "warning", "warning": "warning", "crit": "critical", "critical": "critical",
}
