package rulefile

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestFile_Validate checks Files built in code: the problems Parse would
// report, at each group's and rule's line.
func TestFile_Validate(t *testing.T) {
	f := func(g Group, want ...string) {
		t.Helper()
		file := &File{Path: "code", Groups: []Group{g}}
		got := errorLines(t, file.Validate(), "code")
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("Validate problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	ok := Rule{Kind: KindAlert, Name: "A", Expr: "up == 0", Line: 3}
	with := func(change func(r *Rule)) Group {
		r := ok
		change(&r)
		return Group{Name: "g", Line: 1, Rules: []Rule{r}}
	}
	f(with(func(*Rule) {}))
	f(Group{Line: 1, Interval: -time.Second, Concurrency: -1, Rules: []Rule{ok}},
		"1:0|group 1||name must not be empty",
		"1:0|group 1||interval: must not be negative",
		"1:0|group 1||concurrency: must not be negative")
	f(Group{Name: "g", Line: 1, Rules: []Rule{ok, ok}},
		"3:0|g|A|duplicate rule: same alert name, expr and labels as the rule at line 3")
	f(with(func(r *Rule) { r.Kind = Kind(7) }), "3:0|g|A|unknown rule kind 7")
	f(with(func(r *Rule) { r.Name, r.Expr = "", "" }), "3:0|g|rule 1|alert: the name must not be empty", "3:0|g|rule 1|expr: must not be empty")
	f(with(func(r *Rule) { r.For, r.KeepFiringFor = -1, -2 }),
		"3:0|g|A|for: must not be negative", "3:0|g|A|keep_firing_for: must not be negative")
	f(with(func(r *Rule) { r.Warn = &Condition{Op: "=>", Value: 1} }),
		`3:0|g|A|warn: unknown operator "=>" (want >, >=, <, <=, == or !=)`)
	f(with(func(r *Rule) { r.Crit = &Condition{Op: ">", Value: math.NaN()} }), "3:0|g|A|crit: the value must not be NaN")
	f(with(func(r *Rule) { r.DatapointsToAlarm = 2 }), "3:0|g|A|evaluation_periods: must be at least 1, got 0")
	f(with(func(r *Rule) { r.Repeat = map[string]time.Duration{"page": time.Hour, "warning": -time.Hour} }),
		`3:0|g|A|repeat: unknown severity "page" (want warning or critical)`, "3:0|g|A|repeat: must not be negative")
	f(with(func(r *Rule) { r.MissingData = "sometimes" }),
		`3:0|g|A|missing_data: unknown policy "sometimes" (want missing, breaching, not_breaching or ignore)`)
	f(with(func(r *Rule) { r.Annotations = map[string]string{"summary": "{{ nope }}"} }),
		`3:0|g|A|annotations.summary: template: summary:1: function "nope" not defined`)
	f(with(func(r *Rule) { r.Kind, r.Name, r.By, r.For = KindFlatline, "F", []string{"host"}, time.Minute }))
	f(with(func(r *Rule) { r.Kind, r.Name, r.Labels = KindRecord, "job:up", map[string]string{"x": "{{"} }))
}

// TestFile_Validate_KeepsCompiled checks that Validate neither changes a
// parsed File nor recompiles what Parse compiled.
func TestFile_Validate_KeepsCompiled(t *testing.T) {
	f := Defaults()
	r := &f.Groups[0].Rules[0]
	before := r.AnnotationTemplates["summary"]
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if r.AnnotationTemplates["summary"] != before {
		t.Fatalf("Validate replaced a compiled template")
	}
	r.Annotations["summary"] = "{{ broken"
	if err := f.Validate(); err == nil {
		t.Fatalf("Validate accepted a changed, broken annotation")
	}
}
