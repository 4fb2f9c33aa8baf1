package remediate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

// writeScript writes an executable script into dir and returns its path.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func testInput(labels map[string]string) *Input {
	return &Input{Name: labels["alertname"], ID: "00ff", Rule: "r.yml|g|alert:" + labels["alertname"], State: "firing",
		Attempt: 1, Attempts: 1, Alert: receiver.Alert{Status: "firing", Labels: labels, Fingerprint: "abcd",
			Severity: "critical", Value: 0, StartsAt: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)}}
}

// A label value that looks like a shell command substitution reaches the
// script as data, in its environment and on stdin, and runs nothing.
func TestRun_LabelIsData(t *testing.T) {
	dir := t.TempDir()
	p := writeScript(t, dir, "inject.sh", "#!/bin/sh\necho \"env=$OUTPOST_ALERT_LABEL_HOST\"\ncat\n")
	in := testInput(map[string]string{"alertname": "inject", "host": "$(touch pwned)`touch pwned2`;touch pwned3"})
	res := run(t.Context(), []string{p, "$(touch pwned4)"}, dir, 10*time.Second, in)
	if res.Err != nil || res.ExitStatus == nil || *res.ExitStatus != 0 {
		t.Fatalf("run: %+v", res)
	}
	if !strings.Contains(res.Output, "env=$(touch pwned)`touch pwned2`;touch pwned3\n") {
		t.Fatalf("output %q lacks the label value as data", res.Output)
	}
	line := res.Output[strings.IndexByte(res.Output, '\n')+1:]
	var got Input
	if err := json.Unmarshal([]byte(line), &got); err != nil || got.Alert.Labels["host"] != in.Alert.Labels["host"] {
		t.Fatalf("stdin JSON %q: %v %+v", line, err, got)
	}
	wd, _ := os.Getwd()
	for _, d := range []string{dir, wd} {
		for _, f := range []string{"pwned", "pwned2", "pwned3", "pwned4"} {
			if _, err := os.Stat(filepath.Join(d, f)); err == nil {
				t.Fatalf("%s exists in %s: a label value ran as a command", f, d)
			}
		}
	}
}

// A command that hangs is killed at its timeout with its whole process
// group: the child it started dies too.
func TestRun_TimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p := writeScript(t, dir, "hang.sh", "#!/bin/sh\nsleep 300 &\necho $! > "+pidFile+"\necho hanging\nwait\n")
	start := time.Now()
	res := run(t.Context(), []string{p}, dir, 500*time.Millisecond, testInput(map[string]string{"alertname": "hang"}))
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("run took %s", took)
	}
	if !res.TimedOut || res.ExitStatus != nil || !strings.Contains(res.Err.Error(), "killed at its timeout") ||
		!strings.Contains(res.Output, "hanging") {
		t.Fatalf("run: %+v", res)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		// Gone, or a zombie waiting for a reaper: either way not running.
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d of the killed script still runs: %s", pid, st)
		}
	}
}

func TestRun_ExitStatusAndOutput(t *testing.T) {
	dir := t.TempDir()
	f := func(name, body string, wantStatus int, wantOut string) {
		t.Helper()
		p := writeScript(t, dir, name, body)
		res := run(t.Context(), []string{p}, dir, 10*time.Second, testInput(map[string]string{"alertname": "x"}))
		if res.ExitStatus == nil || *res.ExitStatus != wantStatus || !strings.Contains(res.Output, wantOut) {
			t.Fatalf("%s: %+v", name, res)
		}
		if (wantStatus == 0) != (res.Err == nil) {
			t.Fatalf("%s: err %v with exit status %d", name, res.Err, wantStatus)
		}
	}
	f("fail.sh", "#!/bin/sh\necho 'cannot restart: disk full' >&2\nexit 3\n", 3, "cannot restart: disk full")
	f("ok.sh", "#!/bin/sh\necho restarted\n", 0, "restarted")
	// A daemon started in the background keeps the output pipe open; the
	// run still ends (after waitDelay) and counts as a success.
	f("daemon.sh", "#!/bin/sh\nsleep 5 &\necho started\n", 0, "started")

	res := run(t.Context(), []string{filepath.Join(dir, "missing")}, dir, time.Second, testInput(nil))
	if res.Err == nil || res.ExitStatus != nil {
		t.Fatalf("missing program: %+v", res)
	}
}

func TestRun_OutputBounded(t *testing.T) {
	dir := t.TempDir()
	p := writeScript(t, dir, "loud.sh", "#!/bin/sh\nhead -c 100000 /dev/zero | tr '\\0' a\n")
	res := run(t.Context(), []string{p}, dir, 10*time.Second, testInput(nil))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := "\n[outpost: output truncated, " + strconv.Itoa(100000-MaxOutput) + " more bytes not kept]"
	if !strings.HasSuffix(res.Output, want) || len(res.Output) != MaxOutput+len(want) {
		t.Fatalf("output of %d bytes ends %q", len(res.Output), res.Output[max(len(res.Output)-80, 0):])
	}
}

// The environment holds the alert and a few of outpost's variables, never
// outpost's own OUTPOST_* configuration.
func TestRun_Environment(t *testing.T) {
	t.Setenv("OUTPOST_AUTH_TOKEN", "secret")
	t.Setenv("LANG", "C.UTF-8")
	dir := t.TempDir()
	p := writeScript(t, dir, "env.sh", "#!/bin/sh\nenv\n")
	in := testInput(map[string]string{"alertname": "webapp_uptime", "host": "web1", "dotted.name": "x"})
	in.Alert.Value = 0.5
	in.Alert.Annotations = map[string]string{"summary": "down"}
	res := run(context.Background(), []string{p}, dir, 10*time.Second, in)
	for _, want := range []string{"OUTPOST_ALERT_NAME=webapp_uptime\n", "OUTPOST_ALERT_ID=00ff\n",
		"OUTPOST_ALERT_FINGERPRINT=abcd\n", "OUTPOST_ALERT_STATE=firing\n", "OUTPOST_ALERT_SEVERITY=critical\n",
		"OUTPOST_ALERT_VALUE=0.5\n", "OUTPOST_ALERT_STARTS_AT=2026-12-04T10:00:00Z\n", "OUTPOST_ALERT_LABEL_HOST=web1\n",
		"OUTPOST_ALERT_LABEL_DOTTED_NAME=x\n", "OUTPOST_ALERT_ANNOTATION_SUMMARY=down\n", "OUTPOST_ALERT_ATTEMPT=1\n",
		"LANG=C.UTF-8\n", "PATH="} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("environment lacks %q:\n%s", want, res.Output)
		}
	}
	if strings.Contains(res.Output, "secret") {
		t.Errorf("outpost's OUTPOST_AUTH_TOKEN reached the command:\n%s", res.Output)
	}
}
