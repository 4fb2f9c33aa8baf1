package alerting

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"outpost/alerting/rulefile"
)

// The Prometheus export of a rule group (GET
// /api/v1/alerting/rules/{group}/export?format=prometheus): a rule file
// that `promtool check rules` (2.42 and later) accepts. outpost's fields
// with a Prometheus equivalent are translated; the others are named in a
// comment at the top, rule by rule, so nobody takes the export for the
// same alerting.

// exportedGroup and exportedRule are a Prometheus rule file's group and rule, in
// the key order promtool's own files use.
type exportedGroup struct {
	Name     string         `yaml:"name"`
	Interval string         `yaml:"interval,omitempty"`
	Limit    int            `yaml:"limit,omitempty"`
	Rules    []exportedRule `yaml:"rules"`
}

type exportedRule struct {
	Record        string            `yaml:"record,omitempty"`
	Alert         string            `yaml:"alert,omitempty"`
	Expr          string            `yaml:"expr"`
	For           string            `yaml:"for,omitempty"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// ExportPrometheus writes g as a Prometheus rule file:
//
//   - warn and crit become one alerting rule per level, with a severity
//     label: crit "(expr) > 90", warn "(expr) > 80 unless (expr) > 90"
//     (outpost reports the higher level only; so does the pair);
//   - the group's labels go into each rule's labels (the rule's own win),
//     as outpost applies them;
//   - clear, datapoints_to_alarm/evaluation_periods, missing_data, repeat,
//     remediate, flatline rules, eval_offset, eval_delay and concurrency
//     have no Prometheus equivalent (before 2.53 for eval_delay, which is
//     query_offset there) and are listed as dropped.
//
// Expressions are copied as written: a MetricsQL-only function stays, and
// promtool then names it.
func ExportPrometheus(g *rulefile.Group) ([]byte, error) {
	pg := exportedGroup{Name: g.Name, Limit: g.Limit}
	if g.Interval > 0 {
		pg.Interval = rulefile.FormatDuration(g.Interval)
	}
	var dropped []string
	drop := func(what string) { dropped = append(dropped, what) }
	if g.EvalOffset > 0 {
		drop("eval_offset " + rulefile.FormatDuration(g.EvalOffset))
	}
	if g.EvalDelay > 0 {
		drop("eval_delay " + rulefile.FormatDuration(g.EvalDelay) + " (query_offset in Prometheus 2.53+)")
	}
	if g.Concurrency > 1 {
		drop(fmt.Sprintf("concurrency %d", g.Concurrency))
	}
	for i := range g.Rules {
		r := &g.Rules[i]
		rs, lost := exportRule(g, r)
		pg.Rules = append(pg.Rules, rs...)
		for _, l := range lost {
			drop(fmt.Sprintf("%s %q (line %d): %s", r.Kind, r.Name, r.Line, l))
		}
	}
	var b bytes.Buffer
	b.WriteString("# Exported by outpost for Prometheus from rule group " + yamlComment(g.Name) + ".\n")
	if len(dropped) == 0 {
		b.WriteString("# Every field has a Prometheus equivalent.\n")
	} else {
		b.WriteString("# Dropped, no Prometheus equivalent:\n")
		for _, d := range dropped {
			b.WriteString("#   - " + yamlComment(d) + "\n")
		}
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(map[string][]exportedGroup{"groups": {pg}}); err != nil {
		return nil, fmt.Errorf("encode the Prometheus export of %q: %w", g.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode the Prometheus export of %q: %w", g.Name, err)
	}
	return b.Bytes(), nil
}

// yamlComment keeps s on one comment line.
func yamlComment(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// exportRule translates one rule, returning what it had to drop.
func exportRule(g *rulefile.Group, r *rulefile.Rule) ([]exportedRule, []string) {
	if r.Kind == rulefile.KindFlatline {
		return nil, []string{"the whole rule (flatline rules learn their groups; Prometheus has no such rule)"}
	}
	labels := maps.Clone(g.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, r.Labels)
	base := exportedRule{Expr: r.Expr, Labels: labels, Annotations: r.Annotations}
	if r.Kind == rulefile.KindRecord {
		base.Record = r.Name
		return []exportedRule{nonEmpty(base)}, nil
	}
	base.Alert = r.Name
	if r.For > 0 {
		base.For = rulefile.FormatDuration(r.For)
	}
	if r.KeepFiringFor > 0 {
		base.KeepFiringFor = rulefile.FormatDuration(r.KeepFiringFor)
	}
	var lost []string
	if r.Clear != nil {
		lost = append(lost, "clear "+r.Clear.String())
	}
	if r.DatapointsToAlarm > 0 || r.EvaluationPeriods > 0 {
		lost = append(lost, fmt.Sprintf("datapoints_to_alarm %d of evaluation_periods %d", r.DatapointsToAlarm, r.EvaluationPeriods))
	}
	if r.MissingData != rulefile.MissingDefault {
		lost = append(lost, "missing_data "+string(r.MissingData))
	}
	for _, sev := range slices.Sorted(maps.Keys(r.Repeat)) {
		lost = append(lost, fmt.Sprintf("repeat %s %s (repeat_interval of an Alertmanager route)", orNone(sev), rulefile.FormatDuration(r.Repeat[sev])))
	}
	if r.Remediate != nil {
		lost = append(lost, "remediate")
	}
	if r.Warn == nil && r.Crit == nil {
		return []exportedRule{nonEmpty(base)}, lost
	}
	expr := "(" + r.Expr + ")"
	var out []exportedRule
	if r.Crit != nil {
		c := base
		c.Expr = expr + " " + r.Crit.String()
		c.Labels = withLabel(labels, "severity", "critical")
		out = append(out, nonEmpty(c))
	}
	if r.Warn != nil {
		w := base
		w.Expr = expr + " " + r.Warn.String()
		if r.Crit != nil {
			w.Expr += " unless " + expr + " " + r.Crit.String()
		}
		w.Labels = withLabel(labels, "severity", "warning")
		out = append(out, nonEmpty(w))
	}
	return out, lost
}

// withLabel returns a copy of ls with name=value.
func withLabel(ls map[string]string, name, value string) map[string]string {
	out := maps.Clone(ls)
	out[name] = value
	return out
}

// nonEmpty leaves out empty label and annotation maps.
func nonEmpty(r exportedRule) exportedRule {
	if len(r.Labels) == 0 {
		r.Labels = nil
	}
	if len(r.Annotations) == 0 {
		r.Annotations = nil
	}
	return r
}

// orNone names the severity "" of a rule without levels.
func orNone(sev string) string {
	if sev == "" {
		return "(any severity)"
	}
	return sev
}
