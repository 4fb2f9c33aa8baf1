package ruletest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool runs the real promtool test rules on path, or skips the test
// when it is not installed (Debian: apt install prometheus).
func promtool(t *testing.T, path string) (stdout, stderr string, ok bool) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (Debian package prometheus): cannot compare with it")
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, "test", "rules", path)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("promtool: %v", err)
	}
	return out.String(), errb.String(), err == nil
}

// outpost runs Run on path.
func outpost(t *testing.T, path string) (stdout, stderr string, ok bool) {
	t.Helper()
	var out, errb bytes.Buffer
	ok = Run(t.Context(), path, &out, &errb)
	return out.String(), errb.String(), ok
}

// TestRun_AgreesWithPromtool runs Prometheus-format unit tests with
// outpost and with the real promtool: both pass the good file, and both
// fail the broken one with the same messages, byte for byte.
func TestRun_AgreesWithPromtool(t *testing.T) {
	for _, path := range []string{"testdata/test.yml", "testdata/stale-test.yml"} {
		t.Run("passes "+path, func(t *testing.T) {
			out, errs, ok := outpost(t, path)
			if !ok || errs != "" || out != "Unit Testing:  "+path+"\n  SUCCESS\n\n" {
				t.Fatalf("outpost: ok=%v\nstdout:\n%s\nstderr:\n%s", ok, out, errs)
			}
			pout, perr, pok := promtool(t, path)
			if !pok || pout != out {
				t.Fatalf("promtool: ok=%v\nstdout:\n%s\nstderr:\n%s", pok, pout, perr)
			}
		})
	}
	t.Run("fails like promtool", func(t *testing.T) {
		out, errs, ok := outpost(t, "testdata/test-broken.yml")
		if ok {
			t.Fatalf("outpost passed a broken test:\n%s", out)
		}
		for _, want := range []string{"  FAILED:\n", "    alertname: AnotherInstanceDown, time: 10m, \n        exp:[",
			`Annotations:{summary="Instance localhost:9100 is down"}`,
			"    expr: \"job:go_goroutines:sum\", time: 5m,\n        exp: {__name__=\"job:go_goroutines:sum\", job=\"prometheus\"} 5.7E+01\n        got: {__name__=\"job:go_goroutines:sum\", job=\"prometheus\"} 5.6E+01\n"} {
			if !strings.Contains(errs, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errs)
			}
		}
		pout, perr, pok := promtool(t, "testdata/test-broken.yml")
		if pok {
			t.Fatal("promtool passed the broken test")
		}
		if perr != errs || pout != out {
			t.Errorf("outpost and promtool differ\noutpost stderr:\n%s\npromtool stderr:\n%s\noutpost stdout %q, promtool %q", errs, perr, out, pout)
		}
	})
}

// TestRun_GroupEvalOrder runs two groups where the second reads what the
// first records, in both orders: outpost and promtool agree on each.
func TestRun_GroupEvalOrder(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "order-rules.yml"), mustRead(t, "testdata/order-rules.yml"))
	good := filepath.Join(dir, "order-test.yml")
	mustWrite(t, good, mustRead(t, "testdata/order-test.yml"))
	rev := filepath.Join(dir, "order-rev.yml")
	mustWrite(t, rev, strings.Replace(mustRead(t, "testdata/order-test.yml"), "[first, second]", "[second, first]", 1))
	for _, c := range []struct {
		path string
		pass bool
	}{{good, true}, {rev, false}} {
		out, errs, ok := outpost(t, c.path)
		if ok != c.pass {
			t.Fatalf("%s: ok=%v\n%s%s", c.path, ok, out, errs)
		}
		pout, perr, pok := promtool(t, c.path)
		if pok != ok || pout != out || perr != errs {
			t.Fatalf("%s: promtool ok=%v\n%s%s\noutpost ok=%v\n%s%s", c.path, pok, pout, perr, ok, out, errs)
		}
	}
}

// TestRun_OutpostRules evaluates outpost's own rule fields (warn/crit
// levels, M of N, clear) as the server does; promtool cannot load them.
func TestRun_OutpostRules(t *testing.T) {
	out, errs, ok := outpost(t, "testdata/outpost-test.yml")
	if !ok {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out, errs)
	}
	// Without M of N, the first breach (85 at 1m) fires a warning and the
	// 1m expectation (no alert yet) fails.
	dir := t.TempDir()
	rules := strings.Replace(mustRead(t, "testdata/outpost-rules.yml"),
		"        datapoints_to_alarm: 2\n        evaluation_periods: 3\n", "", 1)
	mustWrite(t, filepath.Join(dir, "outpost-rules.yml"), rules)
	mustWrite(t, filepath.Join(dir, "outpost-test.yml"), mustRead(t, "testdata/outpost-test.yml"))
	_, errs, ok = outpost(t, filepath.Join(dir, "outpost-test.yml"))
	if ok || !strings.Contains(errs, "    name: levels,\n    alertname: DiskFull, time: 1m, \n        exp:[], \n        got:[") ||
		!strings.Contains(errs, `Labels:{alertname="DiskFull", host="web1", severity="warning"}`) {
		t.Fatalf("without M of N: ok=%v, stderr:\n%s", ok, errs)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRun_Errors covers a missing file, a bad test file and a bad rule
// file: each fails with a message naming what is wrong.
func TestRun_Errors(t *testing.T) {
	f := func(path, want string) {
		t.Helper()
		_, errs, ok := outpost(t, path)
		if ok || !strings.Contains(errs, want) {
			t.Fatalf("Run(%s): ok=%v, stderr:\n%s\nwant %q", path, ok, errs, want)
		}
	}
	f("testdata/nonexistent.yml", "no such file")
	f("testdata/bad/unknown-key.yml", "field evaluation_intervl not found")
	f("testdata/bad/bad-rules-test.yml", `group "g", rule "A": expr:`)
	f("testdata/bad/no-alertname.yml", "an item under alert_rule_test misses required attribute alertname at eval_time 1m")
	f("testdata/bad/bad-values.yml", `input_series "up": values "1 x 2"`)
}
