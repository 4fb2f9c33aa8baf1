package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRules_AgreesWithPromtool checks rule files with outpost check
// rules and, when it is installed, the real promtool check rules: the
// exit codes agree on Prometheus files; outpost's extensions pass outpost
// (as the server loads them) and promtool refuses them.
func TestCheckRules_AgreesWithPromtool(t *testing.T) {
	promtool, _ := exec.LookPath("promtool")
	const dir = "alerting/rulefile/testdata/rules/"
	// want is outpost's exit code; prom is promtool's (-1: the same).
	cases := []struct {
		file       string
		want, prom int
		why        string
	}{
		{dir + "ok-prometheus.yaml", 0, -1, ""},
		{dir + "ok-empty.yaml", 0, -1, ""},
		{"alerting/ruletest/testdata/alerts.yml", 0, -1, ""},
		{dir + "bad-expr.yaml", 1, -1, ""},
		{dir + "bad-yaml.yaml", 1, -1, ""},
		{dir + "bad-unknown-field.yaml", 1, -1, ""},
		{dir + "bad-duration.yaml", 1, -1, ""},
		{dir + "bad-template.yaml", 1, -1, ""},
		{dir + "bad-duplicate-group.yaml", 1, -1, ""},
		{dir + "bad-alert-and-record.yaml", 1, -1, ""},
		{dir + "ok-outpost.yaml", 0, 1, "outpost's fields"},
		{dir + "ok-vmalert.yaml", 0, 1, "vmalert's keys"},
		{"alerting/ruletest/testdata/outpost-rules.yml", 0, 1, "outpost's fields"},
		{dir + "bad-condition.yaml", 1, 1, "a bad warn condition"},
		{dir + "bad-m-over-n.yaml", 1, 1, "M over N"},
		// promtool only lints a duplicate (exit 0); the server refuses it.
		{dir + "bad-duplicate-rule.yaml", 1, 0, "the server refuses duplicates"},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run([]string{"check", "rules", c.file}, nil, &stdout, &stderr)
			if code != c.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.want, stdout.String(), stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), "Checking "+c.file+"\n") {
				t.Errorf("stdout %q lacks the Checking line", stdout.String())
			}
			if c.want == 0 && !strings.Contains(stdout.String(), "  SUCCESS: ") {
				t.Errorf("stdout %q lacks SUCCESS", stdout.String())
			}
			if c.want == 1 && (!strings.HasPrefix(stderr.String(), "  FAILED:\n"+c.file+":") || strings.Count(stderr.String(), "\n") < 2) {
				t.Errorf("stderr %q: want FAILED and a line naming the file", stderr.String())
			}
			if promtool == "" {
				t.Skip("promtool not on PATH (Debian package prometheus): outpost checked alone")
			}
			prom := c.prom
			if prom < 0 {
				prom = c.want
			}
			err := exec.CommandContext(t.Context(), promtool, "check", "rules", c.file).Run()
			var exit *exec.ExitError
			got := 0
			if errors.As(err, &exit) {
				got = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != prom {
				t.Errorf("promtool exit %d, want %d (%s)", got, prom, c.why)
			}
		})
	}
}

// TestCheckRules_CommandLine covers counting rules over several files,
// the error lines and the exit codes of a bad command line.
func TestCheckRules_CommandLine(t *testing.T) {
	f := func(argv []string, code int, wantOut, wantErr string) {
		t.Helper()
		var stdout, stderr strings.Builder
		if got := run(argv, nil, &stdout, &stderr); got != code {
			t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", argv, got, code, stdout.String(), stderr.String())
		}
		if !strings.Contains(stdout.String(), wantOut) || !strings.Contains(stderr.String(), wantErr) {
			t.Fatalf("%v:\nstdout:\n%s\nstderr:\n%s\nwant %q and %q", argv, stdout.String(), stderr.String(), wantOut, wantErr)
		}
	}
	good := "alerting/ruletest/testdata/alerts.yml"
	bad := "alerting/ruletest/testdata/bad/bad-rules.yml"
	f([]string{"check", "rules", good}, 0, "Checking "+good+"\n  SUCCESS: 3 rules found\n\n", "")
	f([]string{"check", "rules", good, bad}, 1, "  SUCCESS: 3 rules found\n\nChecking "+bad+"\n\n",
		"  FAILED:\n"+bad+`:5:9: group "g", rule "A": expr: `)
	f([]string{"check", "rules", "testdata/nonexistent.yml"}, 1, "Checking testdata/nonexistent.yml", "no such file")
	f([]string{"check", "rules"}, 2, "", "missing FILE")
	f([]string{"check", "rulez", good}, 2, "", `cannot check "rulez"`)
	f([]string{"test", "rules"}, 2, "", "missing FILE")
	f([]string{"test", "alerts"}, 2, "", `cannot test "alerts"`)
	f([]string{"test", "-h"}, 0, "", "usage: outpost test rules FILE...")
}

// TestTestRules_Command runs outpost test rules as a CI job would: the
// Prometheus-format test passes, the broken one fails with exit 1.
func TestTestRules_Command(t *testing.T) {
	var stdout, stderr strings.Builder
	ok := "alerting/ruletest/testdata/test.yml"
	broken := "alerting/ruletest/testdata/test-broken.yml"
	if code := run([]string{"test", "rules", ok, "alerting/ruletest/testdata/outpost-test.yml"}, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"test", "rules", broken}, nil, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "    alertname: AnotherInstanceDown, time: 10m, \n") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
}
