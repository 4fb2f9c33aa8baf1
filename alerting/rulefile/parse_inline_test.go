package rulefile

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// problemsTest returns an f-test that parses a small document and
// asserts its problems ("line:col|group|rule|msg" each), or none.
func problemsTest(t *testing.T) func(doc string, want ...string) {
	return func(doc string, want ...string) {
		t.Helper()
		file, err := Parse("t.yml", []byte(doc))
		got := errorLines(t, err, "t.yml")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("Parse(%q) problems:\n%s\nwant:\n%s", doc, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if (err == nil) != (file != nil) {
			t.Fatalf("Parse(%q) = %v, %v: want a file or an error", doc, file, err)
		}
	}
}

// inRule wraps a rule's text in a file with one group.
func inRule(body string) string { return "groups:\n- name: g\n  rules:\n  - " + body + "\n" }

func TestParse_Problems_FileAndGroup(t *testing.T) {
	f := problemsTest(t)
	// Empty and near-empty files.
	f("")
	f("# only a comment\n")
	f("---\n")
	f("groups:\n")
	f("groups: []\n")
	f("- a\n", "1:1|||rule file: want a mapping, got a list")
	f("groups: 3\n", "1:9|||groups: want a list, got \"3\"")
	f("groups: []\nrules: []\n", `2:1|||unknown field "rules"`)
	f("groups:\n- 3\n", `2:3|group 1||group: want a mapping, got "3"`)
	f("groups:\n- name: g\n  rules: [x]\n", `3:11|g|rule 1|rule: want a mapping, got "x"`)

	// Keys and types.
	f("groups:\n- name: g\n  name: h\n", `3:3|g||field "name" given twice (first at line 2)`)
	f("groups:\n- name: g\n  limit: ten\n", `3:10|g||limit: want an integer, got "ten"`)
	f("groups:\n- name: g\n  limit: -1\n", `3:3|g||limit: must not be negative`)
	f("groups:\n- name: g\n  labels: [a]\n", `3:11|g||labels: want a mapping, got a list`)
	f("groups:\n- name: g\n  labels: {a: [b]}\n", `3:15|g||labels.a: want a string, got a list`)
	f("groups:\n- name: g\n  interval: 1m\n  eval_offset: 2m\n", `4:3|g||eval_offset: 2m is longer than the interval (1m)`)
	f("groups:\n- name: g\n  type: vlogs\n",
		`3:3|g||type: "vlogs" groups query VictoriaLogs, which outpost does not speak: outpost evaluates MetricsQL (type prometheus) only`)
	f("groups:\n- name: g\n  type: loki\n", `3:3|g||type: unknown datasource type "loki" (want prometheus)`)
	f("groups:\n- name: g\n  eval_alignment: maybe\n", `3:19|g||eval_alignment: want true or false, got "maybe"`)
	f("groups: &g\n- *g\n", `2:3|||alias *g refers to a node that contains it`)
	f("groups:\n- name: g\n  labels:\n    <<: [{a: '1'}, {a: '2', b: '3'}]\n    b: '4'\n")
	f("groups:\n- name: g\n  labels: {<<: 3}\n", `3:16|g||labels: want a mapping, got "3"`)
}

func TestParse_Problems_Rule(t *testing.T) {
	f, rule := problemsTest(t), inRule
	f(rule("alert: A\n    expr: up\n    debug: 1"), `6:12|g|A|debug: want true or false, got "1"`)
	f(rule("alert: 42\n    expr: 1"))
	f(rule("alert: A\n    expr: [up]"), `5:11|g|A|expr: want a string, got a list`)
	f(rule("alert: A\n    expr: up\n    labels: {severity: page, __name__: x, 1a: b}"),
		`6:30|g|A|labels: "__name__" is not a valid label name`, `6:43|g|A|labels: "1a" is not a valid label name`)
	f(rule("alert: A\n    expr: up\n    annotations: {a-b: x}"), `6:19|g|A|annotations: "a-b" is not a valid annotation name`)
	f(rule("alert: \"\"\n    expr: up"), `4:5|g|rule 1|alert: the name must not be empty`)
	f(rule("record: job:up\n    expr: up\n    labels: {x: '{{ .Bad'}"))
	f(rule("alert: A\n    expr: up\n    warn: '> 1'\n    labels: {severity: page}"),
		`7:14|g|A|labels.severity: set by warn and crit (warning or critical); remove it`)
	f(rule("alert: A\n    expr: up\n    warn: '> 1'\n    crit: '< 0'"), `7:5|g|A|crit: "< 0" and warn "> 1" point in opposite directions`)
	f(rule("alert: A\n    expr: up\n    missing_data: sometimes"),
		`6:19|g|A|missing_data: unknown policy "sometimes" (want missing, breaching, not_breaching or ignore)`)
	f(rule("alert: A\n    expr: up\n    repeat: {warn: 1h, warning: 2h}"), `6:24|g|A|repeat: warning given twice`)
	f(rule("alert: A\n    expr: up\n    by: host"), `6:9|g|A|by: want a list, got "host"`)
	f(rule("alert: A\n    expr: up\n    by: [host]"), `6:5|g|A|by: not allowed in an alert rule`)
	f(rule("record: r\n    expr: up\n    warn: '> 1'\n    repeat: 1h\n    by: [a]\n    missing_data: ignore"),
		`6:5|g|r|warn: not allowed in a record rule`, `7:5|g|r|repeat: not allowed in a record rule`,
		`8:5|g|r|by: not allowed in a record rule`, `9:5|g|r|missing_data: not allowed in a record rule`)
	f(rule("flatline: F\n    expr: up\n    by: [host]\n    for: 1m\n    forget_after: 1m"))
	f(rule("alert: A\n    expr: up\n    for: 99999999999999999999y"), `6:10|g|A|for: duration "99999999999999999999y" is too long`)

	f(rule("alert: [A]\n    expr: up"), `4:12|g|rule 1|alert: want a string, got a list`)
	f("groups:\n- name: g\n  rules:\n  - &r\n    alert: A\n    expr: up\n  - *r\n",
		`7:5|g|A|duplicate rule: same alert name, expr and labels as the rule at line 5`)
}

func TestParse_AliasBomb(t *testing.T) {
	for _, levels := range []int{5, 40} {
		_, err := Parse("bomb.yml", []byte(aliasBomb(levels)))
		es := Errors(err)
		if len(es) != 1 || es[0].Msg != "aliases expand the document by more than 100000 nodes" {
			t.Fatalf("Parse(bomb of %d levels) = %v", levels, err)
		}
	}
}

// aliasBomb returns a document whose each level lists the previous one ten
// times: 10^levels nodes from a few hundred bytes.
func aliasBomb(levels int) string {
	var b strings.Builder
	b.WriteString("x0: &a0 [a, a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestParse_Values(t *testing.T) {
	f := func(body string, check func(r Rule) bool) {
		t.Helper()
		file, err := Parse("t.yml", []byte("groups:\n- name: g\n  rules:\n  - "+body+"\n"))
		if err != nil {
			t.Fatalf("Parse(%q): %v", body, err)
		}
		if r := file.Groups[0].Rules[0]; !check(r) {
			t.Fatalf("Parse(%q) = %+v", body, r)
		}
	}
	f("alert: A\n    expr: up\n    datapoints_to_alarm: 2", func(r Rule) bool { return r.DatapointsToAlarm == 2 && r.EvaluationPeriods == 2 })
	f("alert: A\n    expr: up\n    evaluation_periods: 4", func(r Rule) bool { return r.DatapointsToAlarm == 4 && r.EvaluationPeriods == 4 })
	f("alert: A\n    expr: up\n    evaluation_periods: 0x10\n    datapoints_to_alarm: 1", func(r Rule) bool {
		return r.DatapointsToAlarm == 1 && r.EvaluationPeriods == 16
	})
	f("alert: A\n    expr: up\n    repeat: {crit: 1h}", func(r Rule) bool {
		return len(r.Repeat) == 1 && r.Repeat["critical"] == time.Hour
	})
	f("alert: A\n    expr: up\n    for: 1y2w3d4h5m6s7ms", func(r Rule) bool {
		return r.For == 365*24*time.Hour+14*24*time.Hour+3*24*time.Hour+4*time.Hour+5*time.Minute+6*time.Second+7*time.Millisecond
	})
	f("alert: A\n    expr: up\n    for: ~\n    labels: ~\n    by: ~", func(r Rule) bool { return r.For == 0 && r.Labels == nil })
	f("alert: A\n    expr: up\n    labels: {n: 1, b: true}", func(r Rule) bool { return r.Labels["n"] == "1" && r.Labels["b"] == "true" })
}
