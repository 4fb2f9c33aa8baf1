package alerting

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"outpost/alerting/rulefile"
)

// readGroup reads testdata/rulegroups/name.
func readGroup(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rulegroups", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGroup_Good(t *testing.T) {
	f := func(body, want, wantName string, wantRules int) {
		t.Helper()
		g, file, err := ParseGroup([]byte(body), want)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		if g.Name != wantName || len(g.Rules) != wantRules {
			t.Fatalf("%q: group %q with %d rules, want %q with %d", body, g.Name, len(g.Rules), wantName, wantRules)
		}
		// What is stored loads again as the same group.
		again, err := rulefile.Parse("stored", file)
		if err != nil || len(again.Groups) != 1 || again.Groups[0].Name != wantName {
			t.Fatalf("%q: stored file %q does not load back: %v", body, file, err)
		}
	}
	f("name: g\nrules:\n  - alert: X\n    expr: up == 0\n", "g", "g", 1)
	f("name: g\nrules:\n- alert: X\n  expr: up == 0\n", "", "g", 1)
	f("# a comment first\nname: g\nrules:\n  - record: r\n    expr: sum(up)\n", "g", "g", 1)
	f("{name: g, rules: [{alert: X, expr: up}]}", "g", "g", 1)
	f("groups:\n  - name: g\n    rules:\n      - alert: X\n        expr: up\n", "g", "g", 1)
	f("name: g\nrules:\n  - alert: X\n    expr: up\n    annotations:\n      d: |\n        two\n        lines\n", "g", "g", 1)
	f(string(readGroup(t, "levels.yml")), "web", "web", 4)
}

// Errors name the body's own line, group and rule, as rule file errors do.
func TestParseGroup_Bad(t *testing.T) {
	f := func(body, want, wantErr string) {
		t.Helper()
		_, _, err := ParseGroup([]byte(body), want)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("%q: error %v, want it to contain %q", body, err, wantErr)
		}
	}
	f("name: bad\nrules:\n  - alert: X\n    exprs: up\n", "", `body:4:5: group "bad", rule "X": unknown field "exprs"`)
	f("name: g\nrules:\n  - alert: X\n    expr: sum(up\n", "", `body:4:`)
	f("name: g\nrules:\n  - alert: X\n    expr: up\n    warn: \"> x\"\n", "", `body:5:`)
	f("name: g\nrules: [\n", "", "body:")
	f("name: g\nrules:\n  - alert: X\n    expr: up\n", "h", `name "g" in the body, "h" in the URL`)
	f("groups:\n- name: a\n  rules: []\n- name: b\n  rules: []\n", "", "want one group, got 2")
	f("", "", "the body is empty")
	f("\n  \n", "", "the body is empty")
	f("name: a/b\nrules:\n  - alert: X\n    expr: up\n", "", "bad rule group name")
	f(strings.Repeat("#", maxGroupBytes+1), "", "over the limit")
	if _, _, err := ParseGroup([]byte("name: ../x\nrules: []\n"), ""); !errors.Is(err, ErrBadGroupName) {
		t.Fatalf("../x: %v, want ErrBadGroupName", err)
	}
}

func TestRuleStore_PutGetDelete(t *testing.T) {
	rs := NewRuleStore(t.TempDir())
	if names, err := rs.Names(); err != nil || len(names) != 0 {
		t.Fatalf("empty store: %v %v", names, err)
	}
	_, file, err := ParseGroup(readGroup(t, "levels.yml"), "web")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a replace is a put again
		if err := rs.Put("web", file); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := rs.Get("web"); err != nil || string(got) != string(file) {
		t.Fatalf("get: %v", err)
	}
	if names, _ := rs.Names(); !slices.Equal(names, []string{"web"}) {
		t.Fatalf("names: %v (no temporary file may be left)", names)
	}
	if _, err := rulefile.Load(filepath.Join(rs.dir, "web.yml")); err != nil {
		t.Fatalf("the stored file does not load as a rule file: %v", err)
	}
	if err := rs.Delete("web"); err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Get("web"); !errors.Is(err, ErrRuleGroupNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := rs.Delete("web"); !errors.Is(err, ErrRuleGroupNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := rs.Put("../etc", file); !errors.Is(err, ErrBadGroupName) {
		t.Fatalf("put ../etc: %v", err)
	}
}

// The Prometheus export translates levels into rules with a severity
// label, merges group labels, names what it drops, and passes the real
// promtool when it is installed.
func TestExportPrometheus(t *testing.T) {
	// Lines are the stored file's: the body's plus one.
	g, _, err := ParseGroup(readGroup(t, "levels.yml"), "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := ExportPrometheus(g)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{
		"# Dropped, no Prometheus equivalent:",
		`alert "HighLoad" (line 8): clear < 3`,
		`datapoints_to_alarm 3 of evaluation_periods 5`,
		`missing_data breaching`,
		`repeat critical 30m`,
		`flatline "HostSilent" (line 31): the whole rule`,
		"expr: (avg by (host) (load1)) >= 8\n",
		"expr: (avg by (host) (load1)) > 4 unless (avg by (host) (load1)) >= 8\n",
		"severity: warning", "severity: critical", "team: web", "keep_firing_for: 1m", "interval: 30s", "limit: 100",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("export lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "HostSilent\n") || strings.Contains(s, "clear:") {
		t.Errorf("export keeps an outpost field:\n%s", s)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus)")
	}
	path := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), promtool, "check", "rules", path)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, b, s)
	}
}
