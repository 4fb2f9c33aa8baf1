package pages

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"outpost/alerting/rulefile"
)

// ruleYAML writes a loaded rule back in rule file syntax, keys in the
// order a rule file usually has them. It shows what outpost understood;
// comments and anchors of the file are not kept.
func ruleYAML(s *rulefile.Rule) (string, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, ruleYAMLString(k), v) }
	str := func(k, v string) {
		if v != "" {
			add(k, ruleYAMLString(v))
		}
	}
	str(s.Kind.String(), s.Name)
	expr := strings.TrimSpace(s.Expr)
	en := ruleYAMLString(expr)
	if strings.Contains(expr, "\n") {
		en.Style = yaml.LiteralStyle
	}
	add("expr", en)
	if s.For > 0 {
		str("for", ruleDuration(s.For))
	}
	if s.KeepFiringFor > 0 {
		str("keep_firing_for", ruleDuration(s.KeepFiringFor))
	}
	for _, c := range []struct {
		k    string
		cond *rulefile.Condition
	}{{"warn", s.Warn}, {"crit", s.Crit}, {"clear", s.Clear}} {
		if c.cond != nil {
			n := ruleYAMLString(c.cond.String())
			n.Style = yaml.DoubleQuotedStyle
			add(c.k, n)
		}
	}
	for _, c := range []struct {
		k string
		n int
	}{{"datapoints_to_alarm", s.DatapointsToAlarm}, {"evaluation_periods", s.EvaluationPeriods}} {
		if c.n > 0 {
			add(c.k, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(c.n)})
		}
	}
	str("missing_data", string(s.MissingData))
	if len(s.By) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, b := range s.By {
			seq.Content = append(seq.Content, ruleYAMLString(b))
		}
		add("by", seq)
	}
	if s.ForgetAfter > 0 {
		str("forget_after", ruleDuration(s.ForgetAfter))
	}
	if len(s.Repeat) > 0 {
		if d, ok := s.Repeat[""]; ok && len(s.Repeat) == 1 {
			str("repeat", ruleDuration(d))
		} else {
			rep := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			for _, k := range ruleKeysSorted(s.Repeat) {
				rep.Content = append(rep.Content, ruleYAMLString(k), ruleYAMLString(ruleDuration(s.Repeat[k])))
			}
			add("repeat", rep)
		}
	}
	for _, kv := range []struct {
		k string
		m map[string]string
	}{{"labels", s.Labels}, {"annotations", s.Annotations}} {
		if len(kv.m) == 0 {
			continue
		}
		mm := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range ruleKeysSorted(kv.m) {
			v := ruleYAMLString(kv.m[k])
			if strings.Contains(kv.m[k], "\n") {
				v.Style = yaml.LiteralStyle
			}
			mm.Content = append(mm.Content, ruleYAMLString(k), v)
		}
		add(kv.k, mm)
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{m}}); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ruleYAMLString is a YAML string node; the encoder quotes it when it must.
func ruleYAMLString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// ruleKeysSorted returns m's keys in order.
func ruleKeysSorted[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
