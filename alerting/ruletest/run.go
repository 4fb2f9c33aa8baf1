package ruletest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/rulefile"
	"outpost/query"
	"outpost/tsdb"
)

// epoch is promtool's time zero: eval_time 5m is epoch()+5m.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// Run runs the unit-test file at path and writes promtool's report: the
// header and SUCCESS to stdout, FAILED and its messages to stderr. It
// returns whether every test passed. ctx bounds the whole run.
func Run(ctx context.Context, path string, stdout, stderr io.Writer) bool {
	fmt.Fprintln(stdout, "Unit Testing: ", path)
	errs := runFile(ctx, path)
	if len(errs) == 0 {
		fmt.Fprintln(stdout, "  SUCCESS")
		fmt.Fprintln(stdout)
		return true
	}
	fmt.Fprintln(stderr, "  FAILED:")
	for _, e := range errs {
		fmt.Fprintln(stderr, e.Error())
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout)
	return false
}

// runFile parses the file at path and runs each of its test groups.
func runFile(ctx context.Context, path string) []error {
	data, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	f, err := Parse(data)
	if err != nil {
		return []error{err}
	}
	rules, err := resolveRuleFiles(filepath.Dir(path), f.RuleFiles)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for i := range f.Tests {
		if ctx.Err() != nil {
			return append(errs, ctx.Err())
		}
		errs = append(errs, runTest(ctx, f, &f.Tests[i], rules)...)
	}
	return errs
}

// resolveRuleFiles joins relative rule_files to the test file's directory
// and expands their globs.
func resolveRuleFiles(dir string, pats []string) ([]string, error) {
	var out []string
	for _, p := range pats {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule_files %q: %w", p, err)
		}
		out = append(out, m...)
	}
	return out, nil
}

// maxEvalTime is the latest eval_time of t's expectations.
func (t *Test) maxEvalTime() time.Duration {
	var d Duration
	for _, a := range t.AlertRuleTests {
		d = max(d, a.EvalTime)
	}
	for _, e := range t.ExprTests {
		d = max(d, e.EvalTime)
	}
	return time.Duration(d)
}

// runTest runs one test group in a store and alerting manager of its own.
func runTest(ctx context.Context, f *File, t *Test, ruleFiles []string) []error {
	// The same loader as the server: a rule file with a problem fails the
	// test with every problem it has.
	var errs []error
	for _, p := range ruleFiles {
		if _, err := rulefile.Load(p); err != nil {
			for _, e := range rulefile.Errors(err) {
				errs = append(errs, e)
			}
			if len(rulefile.Errors(err)) == 0 {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	dir, err := os.MkdirTemp("", "outpost-ruletest-")
	if err != nil {
		return []error{fmt.Errorf("make a temporary directory: %w", err)}
	}
	defer os.RemoveAll(dir)
	if len(f.GroupEvalOrder) > 0 {
		if ruleFiles, err = orderGroups(dir, ruleFiles, f.GroupEvalOrder); err != nil {
			return []error{fmt.Errorf("order the groups: %w", err)}
		}
	}
	end := epoch().Add(t.maxEvalTime())
	inputEnd := end
	for _, s := range t.InputSeries {
		if vs, err := Expand(s.Values); err == nil {
			inputEnd = maxTime(inputEnd, epoch().Add(time.Duration(len(vs))*time.Duration(t.Interval)))
		}
	}
	now := func() time.Time { return inputEnd.Add(time.Hour) }
	scfg := tsdb.DefaultConfig()
	scfg.Path = filepath.Join(dir, "data")
	scfg.Retention = inputEnd.Sub(epoch()) + scfg.Retention
	scfg.MaxSeries = 0
	db, err := tsdb.Open(scfg, tsdb.Options{Now: now, MaintainEvery: time.Hour})
	if err != nil {
		return []error{fmt.Errorf("open the test store: %w", err)}
	}
	defer db.Close()
	if err := load(ctx, db, t); err != nil {
		return []error{err}
	}
	engine := query.NewEngine(db, query.Options{})
	acfg := alerting.DefaultConfig()
	acfg.Rules = ruleFiles
	acfg.Defaults = false
	acfg.EvaluationInterval = time.Duration(f.EvaluationInterval)
	acfg.ExternalLabels = t.ExternalLabels
	acfg.ExternalURL = t.ExternalURL
	m, err := alerting.Open(acfg, alerting.Options{Dir: dir, Query: engine.InstantVector, Writer: db, Now: now})
	if err != nil {
		return []error{fmt.Errorf("open the alerting manager: %w", err)}
	}
	defer m.Close()
	return evaluate(ctx, m, engine, f, t)
}

// maxTime returns the later of a and b.
func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// load writes t's input series to db, one sample per step.
func load(ctx context.Context, db *tsdb.DB, t *Test) error {
	var pts []tsdb.Point
	for _, s := range t.InputSeries {
		ls, err := parseLabels(s.Series)
		if err != nil {
			return fmt.Errorf("input_series %q: %w", s.Series, err)
		}
		vs, err := Expand(s.Values)
		if err != nil {
			return fmt.Errorf("input_series %q: %w", s.Series, err)
		}
		for i, v := range vs {
			if v.Missing {
				continue
			}
			ts := epoch().Add(time.Duration(i) * time.Duration(t.Interval))
			pts = append(pts, tsdb.Point{Labels: ls, T: ts.UnixMilli(), V: v.V})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	if err := db.Write(ctx, pts); err != nil {
		return fmt.Errorf("load input_series: %w", err)
	}
	return nil
}

// parseLabels parses a series as promtool takes it: a metric name and
// labels, `up{job="a"}` or `{__name__="up",job="a"}`.
func parseLabels(s string) (tsdb.Labels, error) {
	sets, err := query.ParseSelectors([]string{s})
	if err != nil {
		return nil, err
	}
	if len(sets) != 1 {
		return nil, errors.New("not one series")
	}
	m := map[string]string{}
	for _, mt := range sets[0] {
		if mt.Type != tsdb.MatchEqual {
			return nil, fmt.Errorf("label %s: only = names a series", mt.Name)
		}
		m[mt.Name] = mt.Value
	}
	return tsdb.FromMap(m), nil
}

// evaluate runs every group at each evaluation step from 0 to the last
// eval_time, checks the alert expectations at their steps, then the
// query expectations.
func evaluate(ctx context.Context, m *alerting.Manager, engine *query.Engine, f *File, t *Test) []error {
	step := time.Duration(f.EvaluationInterval)
	tests := slices.Clone(t.AlertRuleTests)
	slices.SortStableFunc(tests, func(a, b AlertTest) int { return int(a.EvalTime - b.EvalTime) })
	var errs []error
	next := 0
	for ts := epoch(); !ts.After(epoch().Add(t.maxEvalTime())); ts = ts.Add(step) {
		if ctx.Err() != nil {
			return append(errs, ctx.Err())
		}
		m.Evaluate(ctx, ts)
		if evalErrs := ruleErrors(m, ts); len(evalErrs) > 0 {
			return append(errs, evalErrs...)
		}
		for next < len(tests) && time.Duration(tests[next].EvalTime) < ts.Sub(epoch())+step {
			if err := checkAlerts(m, t, &tests[next]); err != nil {
				errs = append(errs, err)
			}
			next++
		}
	}
	for i := range t.ExprTests {
		if err := checkExpr(ctx, engine, &t.ExprTests[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// ruleErrors lists the rules whose evaluation at ts failed, in
// promtool's words.
func ruleErrors(m *alerting.Manager, ts time.Time) []error {
	var errs []error
	for _, g := range m.Groups() {
		for _, r := range g.Rules {
			if r.LastError != "" {
				errs = append(errs, fmt.Errorf("    rule: %s, time: %s, err: %s", r.Spec.Name, Duration(ts.Sub(epoch())), r.LastError))
			}
		}
	}
	return errs
}

// labelPair is one label or annotation.
type labelPair struct{ name, value string }

// pairs sorts a map into labelPairs.
func pairs(m map[string]string) []labelPair {
	out := make([]labelPair, 0, len(m))
	for k, v := range m {
		out = append(out, labelPair{k, v})
	}
	slices.SortFunc(out, func(a, b labelPair) int { return strings.Compare(a.name, b.name) })
	return out
}

// formatPairs writes pairs as Prometheus prints labels: {a="1", b="2"}.
func formatPairs(ps []labelPair) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.name + "=" + strconv.Quote(p.value))
	}
	b.WriteByte('}')
	return b.String()
}

// alertText is one alert as promtool prints it; sorted and compared as text.
type alertText struct{ labels, annotations string }

// checkAlerts compares the firing alerts of a.Alertname with a's
// expectations.
func checkAlerts(m *alerting.Manager, t *Test, a *AlertTest) error {
	var got, exp []alertText
	for _, v := range m.Alerts() {
		if v.RuleName != a.Alertname || v.State != alerting.StateFiring {
			continue
		}
		ls := maps(v.Labels)
		if v.Severity != "" {
			ls["severity"] = v.Severity
		}
		got = append(got, alertText{formatPairs(pairs(ls)), formatPairs(pairs(v.Annotations))})
	}
	for _, e := range a.ExpAlerts {
		ls := maps(e.ExpLabels)
		ls["alertname"] = a.Alertname
		exp = append(exp, alertText{formatPairs(pairs(ls)), formatPairs(pairs(e.ExpAnnotations))})
	}
	cmp := func(x, y alertText) int {
		if c := strings.Compare(x.labels, y.labels); c != 0 {
			return c
		}
		return strings.Compare(x.annotations, y.annotations)
	}
	slices.SortFunc(got, cmp)
	slices.SortFunc(exp, cmp)
	if slices.Equal(got, exp) {
		return nil
	}
	name := ""
	if t.Name != "" {
		name = fmt.Sprintf("    name: %s,\n", t.Name)
	}
	return fmt.Errorf("%s    alertname: %s, time: %s, \n        exp:%v, \n        got:%v", name, a.Alertname, a.EvalTime,
		indent(alertsString(exp), "            "), indent(alertsString(got), "            "))
}

// maps copies m (nil gives an empty map).
func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+2)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// alertsString lists alerts as promtool does: "[\n0:\n  Labels:...\n]".
func alertsString(as []alertText) string {
	if len(as) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i, a := range as {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%d:", i)
		b.WriteString(indent("\nLabels:"+a.labels+"\nAnnotations:"+a.annotations, "  "))
	}
	b.WriteString("\n]")
	return b.String()
}

// indent prefixes every line of s but the first with prefix.
func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// sampleText is one sample of a query result as promtool prints it.
type sampleText struct {
	labels string
	v      float64
}

// String formats s as promtool does: {a="1"} 1E+00.
func (s sampleText) String() string {
	return s.labels + " " + strconv.FormatFloat(s.v, 'E', -1, 64)
}

// checkExpr runs e's query at its eval_time and compares the result.
func checkExpr(ctx context.Context, engine *query.Engine, e *ExprTest) error {
	at := epoch().Add(time.Duration(e.EvalTime))
	v, err := engine.InstantVector(ctx, e.Expr, at)
	if err != nil {
		return fmt.Errorf("    expr: %q, time: %s, err: %s", e.Expr, e.EvalTime, err)
	}
	var got, exp []sampleText
	for _, s := range v {
		ls := map[string]string{}
		for _, l := range s.Labels {
			ls[l.Name] = l.Value
		}
		got = append(got, sampleText{formatPairs(pairs(ls)), s.V})
	}
	for _, s := range e.ExpSamples {
		ls, err := parseLabels(s.Labels)
		if err != nil {
			return fmt.Errorf("    expr: %q, time: %s, err: labels %q: %s", e.Expr, e.EvalTime, s.Labels, err)
		}
		m := map[string]string{}
		for _, l := range ls {
			m[l.Name] = l.Value
		}
		exp = append(exp, sampleText{formatPairs(pairs(m)), s.Value})
	}
	cmp := func(a, b sampleText) int { return strings.Compare(a.labels, b.labels) }
	slices.SortFunc(got, cmp)
	slices.SortFunc(exp, cmp)
	if slices.EqualFunc(got, exp, func(a, b sampleText) bool {
		return a.labels == b.labels && (a.v == b.v || math.IsNaN(a.v) && math.IsNaN(b.v))
	}) {
		return nil
	}
	return fmt.Errorf("    expr: %q, time: %s,\n        exp: %s\n        got: %s", e.Expr, e.EvalTime, samplesString(exp), samplesString(got))
}

// samplesString lists samples as promtool does, "nil" for none.
func samplesString(ss []sampleText) string {
	if len(ss) == 0 {
		return "nil"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}
