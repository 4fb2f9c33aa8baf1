package notify

import (
	"fmt"
	"slices"
	"strings"
)

// inhibitRule is a compiled InhibitRule.
type inhibitRule struct {
	source []Matcher
	target []Matcher
	equal  []string
}

func compileInhibitRule(r InhibitRule, path string) (inhibitRule, error) {
	src, err := compileMatchers(r.SourceMatch, r.SourceMatchRE, r.SourceMatchers, path+".source_", "match_re")
	if err != nil {
		return inhibitRule{}, err
	}
	tgt, err := compileMatchers(r.TargetMatch, r.TargetMatchRE, r.TargetMatchers, path+".target_", "match_re")
	if err != nil {
		return inhibitRule{}, err
	}
	for i, l := range r.Equal {
		if !validLabelName(l) {
			return inhibitRule{}, fmt.Errorf("%s.equal[%d]: bad label name %q", path, i, l)
		}
	}
	return inhibitRule{source: src, target: tgt, equal: slices.Clone(r.Equal)}, nil
}

func compileInhibitRules(rs []InhibitRule) ([]inhibitRule, error) {
	out := make([]inhibitRule, 0, len(rs))
	for i, r := range rs {
		c, err := compileInhibitRule(r, fmt.Sprintf("inhibit_rules[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// equalKey joins the values of the equal labels; a label an alert lacks
// has the value "", so it is equal to another alert's missing label, as
// in Alertmanager.
func (r *inhibitRule) equalKey(labels map[string]string) string {
	var b strings.Builder
	for _, l := range r.equal {
		b.WriteString(labels[l])
		b.WriteByte(0xff) // not in UTF-8 text, so values cannot run together
	}
	return b.String()
}

// inhibitSource is a firing alert that matches a rule's source side.
type inhibitSource struct {
	fp     string
	labels map[string]string
}

// inhibitor answers which firing alerts inhibit an alert. It is built over
// one snapshot of the dispatcher's alerts and used under the lock that
// guards them; it holds the alerts' label maps without copying.
type inhibitor struct {
	rules   []inhibitRule
	sources []map[string][]inhibitSource // per rule: equalKey -> sources
}

// newInhibitor indexes the firing alerts that match each rule's source
// side. firing yields fingerprint and labels of every firing alert.
func newInhibitor(rules []inhibitRule, firing func(yield func(fp string, labels map[string]string) bool)) *inhibitor {
	in := &inhibitor{rules: rules, sources: make([]map[string][]inhibitSource, len(rules))}
	for i := range in.sources {
		in.sources[i] = map[string][]inhibitSource{}
	}
	if len(rules) == 0 {
		return in
	}
	for fp, labels := range firing {
		for i := range rules {
			r := &rules[i]
			if matchAll(r.source, labels) {
				k := r.equalKey(labels)
				in.sources[i][k] = append(in.sources[i][k], inhibitSource{fp: fp, labels: labels})
			}
		}
	}
	return in
}

// inhibitedBy returns the fingerprints of alerts that inhibit the alert fp
// with these labels, one per rule that applies, as Alertmanager reports
// them. An alert never inhibits itself; when the alert matches both sides
// of a rule, sources that also match both sides are ignored, so two such
// alerts do not mute each other.
func (in *inhibitor) inhibitedBy(fp string, labels map[string]string) []string {
	var by []string
	for i := range in.rules {
		r := &in.rules[i]
		if !matchAll(r.target, labels) {
			continue
		}
		twoSided := matchAll(r.source, labels)
		for _, s := range in.sources[i][r.equalKey(labels)] {
			if s.fp == fp || twoSided && matchAll(r.target, s.labels) {
				continue
			}
			if !slices.Contains(by, s.fp) {
				by = append(by, s.fp)
			}
			break
		}
	}
	return by
}
