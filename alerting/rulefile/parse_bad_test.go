package rulefile

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"outpost/query"
)

// errorLines renders every *Error of err as "line:col|group|rule|msg", one
// per problem, checking on the way that each names file.
func errorLines(t *testing.T, err error, file string) []string {
	t.Helper()
	var out []string
	for _, e := range Errors(err) {
		if e.File != file {
			t.Errorf("error %q names file %q, want %q", e, e.File, file)
		}
		out = append(out, fmt.Sprintf("%d:%d|%s|%s|%s", e.Line, e.Col, e.Group, e.Rule, e.Msg))
	}
	return out
}

// TestParse_BadFiles loads each testdata/rules/bad-*.yaml and asserts
// every problem: line, column, group, rule and message.
func TestParse_BadFiles(t *testing.T) {
	f := func(name string, want ...string) {
		t.Helper()
		path := filepath.Join("testdata", "rules", name)
		file, err := Load(path)
		if err == nil || file != nil {
			t.Fatalf("Load(%s) = %v, %v; want an error and no file", name, file, err)
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Load(%s): errors.As finds no *Error in %v", name, err)
		}
		got := errorLines(t, err, path)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("Load(%s) problems:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	f("bad-yaml.yaml", `3:0|||invalid YAML: did not find expected '-' indicator`)
	f("bad-unknown-field.yaml",
		`5:9|disk|DiskFull|unknown field "exprs"`,
		`7:5|disk||unknown field "evaluation_interval"`)
	f("bad-expr.yaml",
		`5:9|cpu|instance:cpu:rate5m|expr: 1:24: parse error: argList: unexpected token ""; want ",", ")"; unparsed data: ""`,
		`7:9|cpu|NoSuchFunction|expr: unknown function "frobnicate"`)
	f("bad-template.yaml",
		`7:11|templates|Misspelt|labels.severity: template: severity:1: unclosed action`,
		`9:11|templates|Misspelt|annotations.summary: template: summary:1: function "humanise" not defined`)
	f("bad-duplicate-group.yaml",
		`6:5|hosts||duplicate group name (first at line 2)`,
		`10:5|group 3||name must not be empty`)
	f("bad-duplicate-rule.yaml",
		`10:9|dup|InstanceDown|duplicate rule: same alert name, expr and labels as the rule at line 4`)
	f("bad-alert-and-record.yaml",
		`4:9|kinds|Both|only one of alert, record and flatline may be set (found alert and record)`,
		`7:9|kinds|rule 2|one of alert, record or flatline must be set`,
		`10:9|kinds|job:up:avg|for: not allowed in a record rule`,
		`11:9|kinds|job:up:avg|annotations: not allowed in a record rule`)
	f("bad-condition.yaml",
		`6:15|levels|Words|warn: invalid condition "greater than 80": want an operator (>, >=, <, <=, ==, !=) and a number, like "> 80"`,
		`7:15|levels|Words|crit: invalid condition "=> 90": want an operator (>, >=, <, <=, ==, !=) and a number, like "> 80"`,
		`11:9|levels|Backwards|crit: "> 80" is less strict than warn "> 90", so warn would never show`,
		`12:16|levels|Backwards|clear: invalid condition "< NaN": NaN never compares true`,
		`15:9|levels|ClearAlone|clear: needs warn or crit (it ends what they start)`)
	f("bad-duration.yaml",
		`3:15|durations||interval: invalid duration "1.5m": want integers with units y, w, d, h, m, s, ms, largest first, like 5m or 1h30m`,
		`7:14|durations|Negative|for: negative duration "-5m"`,
		`8:26|durations|Negative|keep_firing_for: invalid duration "5 minutes": want integers with units y, w, d, h, m, s, ms, largest first, like 5m or 1h30m`,
		`11:14|durations|Disorder|for: invalid duration "30s5m": want integers with units y, w, d, h, m, s, ms, largest first, like 5m or 1h30m`,
		`12:31|durations|Disorder|repeat: unknown severity "page" (want warning or critical)`)
	f("bad-m-over-n.yaml",
		`7:9|m-of-n|MoreThanN|datapoints_to_alarm: 5 is more than evaluation_periods (3)`,
		`12:9|m-of-n|ZeroM|datapoints_to_alarm: must be at least 1, got 0`,
		`16:9|m-of-n|HugeN|evaluation_periods: 2000 is more than 1440`)
	f("bad-flatline-no-by.yaml",
		`4:9|flatline|HostSilent|by: a flatline rule must list the labels that name a group, like [host]`,
		`7:9|flatline|NoFor|for: a flatline rule must say how long a group may be silent (for > 0)`,
		`10:9|flatline|NoFor|warn: not allowed in a flatline rule`,
		`14:9|flatline|ForgetsTooSoon|by: "bad-label" is not a valid label name`,
		`16:9|flatline|ForgetsTooSoon|forget_after: 1h is shorter than for (2h)`)
	f("bad-vmalert-type.yaml",
		`3:5|graphite||type: "graphite" groups query Graphite's render API, which outpost does not speak: outpost evaluates MetricsQL (type prometheus) only`,
		`5:7|graphite||params.extra_label: filters the group's queries, which outpost cannot do; add the filter to each expr`,
		`6:5|graphite||query_offset and eval_delay are the same setting: give one`)
}

func TestParse_BadExpr_WrapsQueryError(t *testing.T) {
	_, err := Parse("x.yml", []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'up +'\n"))
	if !errors.Is(err, query.ErrSyntax) {
		t.Fatalf("Parse: %v does not wrap query.ErrSyntax", err)
	}
	var qe *query.ParseError
	if !errors.As(err, &qe) {
		t.Fatalf("Parse: errors.As finds no *query.ParseError in %v", err)
	}
}

func TestError_Error(t *testing.T) {
	f := func(e *Error, want string) {
		t.Helper()
		if got := e.Error(); got != want {
			t.Fatalf("Error() = %q, want %q", got, want)
		}
	}
	l := loc{file: "rules/disk.yml", group: "disk", groupN: 1}
	f(l.inRule("DiskFull", 2).problemAt(12, 5, `unknown field "exprs"`, nil),
		`rules/disk.yml:12:5: group "disk", rule "DiskFull": unknown field "exprs"`)
	f(l.inRule("", 3).problemAt(12, 0, "one of alert, record or flatline must be set", nil),
		`rules/disk.yml:12: group "disk", rule 3: one of alert, record or flatline must be set`)
	f(loc{file: "a.yml", groupN: 2}.problemAt(4, 3, "name must not be empty", nil),
		`a.yml:4:3: group 2: name must not be empty`)
	f(loc{file: "a.yml"}.problemAt(0, 0, "invalid YAML: x", nil), `a.yml: invalid YAML: x`)
	f(loc{}.problemAt(0, 0, "bare", nil), `bare`)
	f(&Error{File: "a.yml", Line: 1, Group: "rule 1", Msg: "m"}, `a.yml:1: group "rule 1": m`)
}

func TestErrors_Joined(t *testing.T) {
	a := &Error{Msg: "a"}
	b := &Error{Msg: "b"}
	got := Errors(errors.Join(a, errors.Join(b, errors.New("plain")), nil))
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("Errors = %v, want [a b]", got)
	}
	if Errors(nil) != nil {
		t.Fatalf("Errors(nil) is not nil")
	}
}
