package rulefile

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"outpost/query"
)

// maxEvaluationPeriods bounds N of "M of N": a day of one-minute
// evaluations, CloudWatch's limit of N × period.
const maxEvaluationPeriods = 1440

// Validate checks f as Parse checks a file, for a File built or changed in
// code: it returns every problem, each an *Error, joined. It knows each
// group's and rule's line (Group.Line, Rule.Line) but no column. Validate
// does not change f; templates that Parse did not compile are compiled to
// be checked, then dropped.
func (f *File) Validate() error {
	var errs []error
	groupLines := make(map[string]int, len(f.Groups))
	for gi := range f.Groups {
		g := &f.Groups[gi]
		l := loc{file: f.Path, group: g.Name, groupN: gi + 1}
		for _, pr := range checkGroup(g) {
			errs = append(errs, l.problemAt(g.Line, 0, pr.msg, pr.err))
		}
		if line, dup := groupLines[g.Name]; dup && g.Name != "" {
			errs = append(errs, l.problemAt(g.Line, 0, fmt.Sprintf("duplicate group name (first at line %d)", line), nil))
		} else {
			groupLines[g.Name] = g.Line
		}
		seen := make(map[string]int, len(g.Rules))
		for ri := range g.Rules {
			r := &g.Rules[ri]
			rl := l.inRule(r.Name, ri+1)
			m, n := r.DatapointsToAlarm, r.EvaluationPeriods
			for _, pr := range append(checkRule(r, m != 0 || n != 0), compileTemplates(r, false)...) {
				errs = append(errs, rl.problemAt(r.Line, 0, pr.msg, pr.err))
			}
			if line, dup := seen[ruleKey(r)]; dup {
				errs = append(errs, rl.problemAt(r.Line, 0, duplicateMsg(r, line), nil))
			} else {
				seen[ruleKey(r)] = r.Line
			}
		}
	}
	return errors.Join(errs...)
}

// checkGroup returns what is wrong with g's own fields.
func checkGroup(g *Group) []problem {
	var ps []problem
	if g.Name == "" {
		ps = append(ps, problemf("name", "name must not be empty"))
	}
	for _, f := range []struct {
		at string
		v  int64
	}{{"interval", int64(g.Interval)}, {"eval_offset", int64(g.EvalOffset)}, {"eval_delay", int64(g.EvalDelay)},
		{"limit", int64(g.Limit)}, {"concurrency", int64(g.Concurrency)}} {
		if f.v < 0 {
			ps = append(ps, problemf(f.at, "%s: must not be negative", f.at))
		}
	}
	if g.Interval > 0 && g.EvalOffset > g.Interval {
		ps = append(ps, problemf("eval_offset", "eval_offset: %s is longer than the interval (%s)",
			formatDuration(g.EvalOffset), formatDuration(g.Interval)))
	}
	switch g.Type {
	case "", "prometheus":
	case "graphite", "vlogs":
		ps = append(ps, problemf("type", "type: %q groups query %s, which outpost does not speak: outpost evaluates MetricsQL (type prometheus) only",
			g.Type, map[string]string{"graphite": "Graphite's render API", "vlogs": "VictoriaLogs"}[g.Type]))
	default:
		ps = append(ps, problemf("type", "type: unknown datasource type %q (want prometheus)", g.Type))
	}
	return append(ps, checkLabels(g.Labels)...)
}

// checkLabels returns what is wrong with the names and values of labels.
func checkLabels(labels map[string]string) []problem {
	var ps []problem
	for _, k := range sortedKeys(labels) {
		at := "labels." + k
		if !validLabelName(k) || k == "__name__" {
			ps = append(ps, problemf(at, "labels: %q is not a valid label name", k))
		}
		if !utf8.ValidString(labels[k]) {
			ps = append(ps, problemf(at, "labels.%s: the value is not valid UTF-8", k))
		}
	}
	return ps
}

// checkRule returns what is wrong with r, short of its templates.
// mnGiven says that datapoints_to_alarm or evaluation_periods was given.
func checkRule(r *Rule, mnGiven bool) []problem {
	var ps []problem
	kind := kindName(r.Kind)
	switch {
	case r.Kind < KindAlert || r.Kind > KindFlatline:
		ps = append(ps, problemf("", "unknown rule kind %d", int(r.Kind)))
	case r.Name == "":
		ps = append(ps, problemf(kind, "%s: the name must not be empty", kind))
	case r.Kind == KindRecord && !validMetricName(r.Name):
		ps = append(ps, problemf(kind, "record: %q is not a valid metric name", r.Name))
	case !utf8.ValidString(r.Name):
		ps = append(ps, problemf(kind, "%s: the name is not valid UTF-8", kind))
	}
	if strings.TrimSpace(r.Expr) == "" {
		ps = append(ps, problemf("expr", "expr: must not be empty"))
	} else if _, err := query.Parse(r.Expr); err != nil {
		ps = append(ps, problem{at: "expr", msg: "expr: " + err.Error(), err: err})
	}
	for _, f := range []struct {
		at string
		v  int64
	}{{"for", int64(r.For)}, {"keep_firing_for", int64(r.KeepFiringFor)}, {"forget_after", int64(r.ForgetAfter)}} {
		if f.v < 0 {
			ps = append(ps, problemf(f.at, "%s: must not be negative", f.at))
		}
	}
	for _, sev := range sortedKeys(r.Repeat) {
		if r.Repeat[sev] < 0 {
			ps = append(ps, problemf("repeat", "repeat: must not be negative"))
		}
		if sev != "" && sev != "warning" && sev != "critical" {
			ps = append(ps, problemf("repeat", "repeat: unknown severity %q (want warning or critical)", sev))
		}
	}
	ps = append(ps, checkLabels(r.Labels)...)
	for _, k := range sortedKeys(r.Annotations) {
		if !validLabelName(k) {
			ps = append(ps, problemf("annotations."+k, "annotations: %q is not a valid annotation name", k))
		}
	}
	ps = append(ps, checkRemediate(r)...)
	switch r.Kind {
	case KindRecord:
		ps = append(ps, checkRecord(r)...)
	case KindFlatline:
		ps = append(ps, checkFlatline(r)...)
	default:
		ps = append(ps, checkAlert(r, mnGiven)...)
	}
	return ps
}

// forbidden returns a problem for each field set that kind ("a record")
// of rule may not have.
func forbidden(kind string, set map[string]bool) []problem {
	var ps []problem
	for _, k := range sortedKeys(set) {
		if set[k] {
			ps = append(ps, problemf(k, "%s: not allowed in %s rule", k, kind))
		}
	}
	return ps
}

// thresholdFields reports which of outpost's threshold fields r sets.
func thresholdFields(r *Rule) map[string]bool {
	return map[string]bool{
		"warn": r.Warn != nil, "crit": r.Crit != nil, "clear": r.Clear != nil,
		"datapoints_to_alarm": r.DatapointsToAlarm != 0, "evaluation_periods": r.EvaluationPeriods != 0,
		"missing_data": r.MissingData != MissingDefault,
	}
}

// checkRecord returns what a record rule has that it may not.
func checkRecord(r *Rule) []problem {
	set := thresholdFields(r)
	set["for"] = r.For != 0
	set["keep_firing_for"] = r.KeepFiringFor != 0
	set["annotations"] = len(r.Annotations) > 0
	set["repeat"] = len(r.Repeat) > 0
	set["by"] = len(r.By) > 0
	set["forget_after"] = r.ForgetAfter != 0
	return forbidden("a record", set)
}

// checkFlatline checks a flatline rule: it groups by labels, needs a
// silence to wait for, and has no thresholds.
func checkFlatline(r *Rule) []problem {
	ps := forbidden("a flatline", thresholdFields(r))
	if len(r.By) == 0 {
		ps = append(ps, problemf("by", "by: a flatline rule must list the labels that name a group, like [host]"))
	}
	for _, b := range r.By {
		if !validLabelName(b) {
			ps = append(ps, problemf("by", "by: %q is not a valid label name", b))
		}
	}
	if r.For <= 0 {
		ps = append(ps, problemf("for", "for: a flatline rule must say how long a group may be silent (for > 0)"))
	}
	if r.ForgetAfter > 0 && r.ForgetAfter < r.For {
		ps = append(ps, problemf("forget_after", "forget_after: %s is shorter than for (%s)",
			formatDuration(r.ForgetAfter), formatDuration(r.For)))
	}
	return ps
}
