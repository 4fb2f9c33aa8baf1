package main

// Remediation through the real binary (issue 11): the CloudWatch -> SNS ->
// Lambda story, with scripts named after the alert in remediation_dir,
// escalation to a second webhook on loopback, a hanging script and a label
// that looks like a shell command.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// remediationEvent is a history event as GET /api/v1/alerting/history
// returns it, with its remediation step.
type remediationEvent struct {
	Time        time.Time `json:"time"`
	Kind        string    `json:"kind"`
	Alertname   string    `json:"alertname"`
	To          string    `json:"to"`
	Comment     string    `json:"comment"`
	Remediation *struct {
		Step       string `json:"step"`
		Outcome    string `json:"outcome"`
		Source     string `json:"source"`
		Attempt    int    `json:"attempt"`
		ExitStatus *int   `json:"exitStatus"`
		Output     string `json:"output"`
		Reason     string `json:"reason"`
		Receiver   string `json:"receiver"`
	} `json:"remediation"`
}

// history returns alertname's events, oldest first.
func history(t *testing.T, s *server, alertname string) []remediationEvent {
	t.Helper()
	code, body, _ := do(t, "GET", s.base+"/api/v1/alerting/history?alertname="+alertname, "")
	var env struct {
		Data []remediationEvent `json:"data"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &env) != nil {
		t.Fatalf("history of %s: %d %s", alertname, code, body)
	}
	for i, j := 0, len(env.Data)-1; i < j; i, j = i+1, j-1 {
		env.Data[i], env.Data[j] = env.Data[j], env.Data[i]
	}
	return env.Data
}

// waitHistory waits until alertname's history ends with a remediation
// event whose step and outcome are want ("verify:resolved").
func waitHistory(t *testing.T, s *server, alertname, want string, timeout time.Duration) []remediationEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := history(t, s, alertname)
		for _, e := range evs {
			if e.Remediation != nil && e.Remediation.Step+":"+e.Remediation.Outcome == want {
				return evs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in %s's history within %s: %+v\n%s", want, alertname, timeout, evs, s.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// steps renders the remediation events of evs as "step:outcome ...".
func remediationSteps(evs []remediationEvent) string {
	var out []string
	for _, e := range evs {
		if e.Remediation != nil {
			out = append(out, e.Remediation.Step+":"+e.Remediation.Outcome)
		}
	}
	return strings.Join(out, " ")
}

func TestRemediation_CloudWatchStory(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is needed for the /dev/tcp restart script")
	}
	dir, scripts := t.TempDir(), t.TempDir()
	hook, oncall := newWebhook(t), newWebhook(t)
	rules := writeRules(t, dir, "webapp.yml", `
groups:
- name: services
  rules:
  - alert: webapp_uptime
    expr: webapp_uptime < 1
    annotations:
      summary: "webapp on {{ $labels.host }} is down"
  - alert: worker_uptime
    expr: worker_uptime < 1
  - alert: cache_uptime
    expr: cache_uptime < 1
  - alert: hang_uptime
    expr: hang_uptime < 1
    remediate:
      timeout: 1s
      retries: 0
  - alert: inject_uptime
    expr: inject_uptime < 1
`)
	extra := fmt.Sprintf(`    - name: oncall
      webhook_configs:
        - url: %s
  remediation_dir: %s
  remediation:
    timeout: 10s
    retries: 1
    pause: 2s
    verify_after: 3s
    escalate_to: oncall
    workers: 4
`, oncall.URL, scripts)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: alertingConfig([]string{rules}, hook.URL, extra)})
	defer s.stop()
	port := strings.TrimPrefix(s.base, "http://127.0.0.1:")

	// The "restart" writes uptime 1 back to outpost over HTTP with bash's
	// /dev/tcp, as the service coming back would be measured.
	writeScript := func(name, body string) {
		if err := os.WriteFile(filepath.Join(scripts, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeScript("webapp_uptime.sh", `#!/bin/bash
alert=$(cat)
echo "stdin: $alert"
echo "restarting webapp on $OUTPOST_ALERT_LABEL_HOST (alert $OUTPOST_ALERT_ID, value $OUTPOST_ALERT_VALUE)"
body="webapp,host=${OUTPOST_ALERT_LABEL_HOST} uptime=1"
exec 3<>/dev/tcp/127.0.0.1/`+port+`
printf 'POST /write?db=telegraf HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body" >&3
read -r status <&3
echo "outpost answered: $status"
`)
	writeScript("worker_uptime", "#!/bin/sh\necho \"cannot restart worker on $OUTPOST_ALERT_LABEL_HOST: disk full\" >&2\nexit 3\n")
	writeScript("hang_uptime.sh", "#!/bin/sh\necho hanging\nsleep 300\n")
	writeScript("inject_uptime.sh", "#!/bin/sh\necho \"host=$OUTPOST_ALERT_LABEL_HOST\"\ncat\n")

	now := time.Now().UnixMilli()
	writeLP(t, s,
		fmt.Sprintf("webapp,host=web1 uptime=1 %d", now-2000),
		fmt.Sprintf("webapp,host=web1 uptime=0 %d", now),
		fmt.Sprintf("worker,host=web1 uptime=0 %d", now),
		fmt.Sprintf("cache,host=web1 uptime=0 %d", now),
		fmt.Sprintf("hang,host=web1 uptime=0 %d", now),
		fmt.Sprintf(`inject,host=$(touch\ pwned) uptime=0 %d`, now))

	t.Run("script_fixes_and_alert_resolves", func(t *testing.T) {
		// The fix may land before the first notification's group_wait is
		// over, so the history, not the webhook, tells the story.
		evs := waitHistory(t, s, "webapp_uptime", "verify:resolved", 30*time.Second)
		if got := remediationSteps(evs); got != "run:ok verify:resolved" {
			t.Fatalf("steps %q", got)
		}
		var run = evs[0]
		for _, e := range evs {
			if e.Remediation != nil && e.Remediation.Step == "run" {
				run = e
			}
		}
		r := run.Remediation
		if r.ExitStatus == nil || *r.ExitStatus != 0 || !strings.HasSuffix(r.Source, "/webapp_uptime.sh") ||
			!strings.Contains(r.Output, "restarting webapp on web1") || !strings.Contains(r.Output, `"name":"webapp_uptime"`) ||
			!strings.Contains(r.Output, `"summary":"webapp on web1 is down"`) || !strings.Contains(r.Output, "outpost answered: HTTP/1.1 204") {
			t.Fatalf("run event %+v", r)
		}
		if !strings.Contains(run.Comment, "exit status 0") {
			t.Fatalf("run comment %q", run.Comment)
		}
		// The history reads firing, the run, resolved, the verification.
		var order []string
		for _, e := range evs {
			if e.Kind == "state" {
				order = append(order, e.To)
			} else {
				order = append(order, e.Remediation.Step)
			}
		}
		if strings.Join(order, " ") != "firing run resolved verify" {
			t.Fatalf("history order %v", order)
		}
	})

	t.Run("failing_script_retried_then_escalated", func(t *testing.T) {
		a := oncall.waitAlert(t, "worker escalation", 30*time.Second, func(a hookAlert) bool {
			return a.Labels["alertname"] == "worker_uptime"
		})
		if a.Status != "firing" || a.Annotations["remediation_status"] != "failed" || a.Annotations["remediation_exit_status"] != "3" ||
			!strings.Contains(a.Annotations["remediation_output"], "cannot restart worker on web1: disk full") ||
			!strings.Contains(a.Reason, "failed 2 of 2 runs; last: exit status 3") {
			t.Fatalf("escalation %+v", a)
		}
		evs := waitHistory(t, s, "worker_uptime", "escalate:sent", 5*time.Second)
		if got := remediationSteps(evs); got != "run:failed run:failed escalate:sent" {
			t.Fatalf("steps %q", got)
		}
		var runs []time.Time
		for _, e := range evs {
			if e.Remediation != nil && e.Remediation.Step == "run" {
				runs = append(runs, e.Time)
			}
		}
		if gap := runs[1].Sub(runs[0]); gap < 2*time.Second {
			t.Fatalf("the retry came %s after the first run, before the 2s pause", gap)
		}
	})

	t.Run("no_script_escalated_at_once", func(t *testing.T) {
		a := oncall.waitAlert(t, "cache escalation", 15*time.Second, func(a hookAlert) bool {
			return a.Labels["alertname"] == "cache_uptime"
		})
		if a.Annotations["remediation_status"] != "no_command" ||
			!strings.Contains(a.Annotations["remediation_error"], "no script cache_uptime or cache_uptime.sh in "+scripts) {
			t.Fatalf("escalation %+v", a)
		}
		if got := remediationSteps(history(t, s, "cache_uptime")); got != "escalate:sent" {
			t.Fatalf("steps %q", got)
		}
	})

	t.Run("hanging_script_killed_at_timeout", func(t *testing.T) {
		evs := waitHistory(t, s, "hang_uptime", "escalate:sent", 20*time.Second)
		if got := remediationSteps(evs); got != "run:timeout escalate:sent" {
			t.Fatalf("steps %q", got)
		}
		for _, e := range evs {
			if r := e.Remediation; r != nil && r.Step == "run" && (r.ExitStatus != nil || !strings.Contains(r.Output, "hanging") ||
				!strings.Contains(e.Comment, "killed at its timeout of 1s")) {
				t.Fatalf("run %+v %q", r, e.Comment)
			}
		}
	})

	t.Run("label_reaches_script_as_data", func(t *testing.T) {
		evs := waitHistory(t, s, "inject_uptime", "run:ok", 15*time.Second)
		for _, e := range evs {
			if r := e.Remediation; r != nil && r.Step == "run" &&
				(!strings.Contains(r.Output, "host=$(touch pwned)\n") || !strings.Contains(r.Output, `"host":"$(touch pwned)"`)) {
				t.Fatalf("output %q", r.Output)
			}
		}
		wd, _ := os.Getwd()
		for _, d := range []string{scripts, wd, dir} {
			if _, err := os.Stat(filepath.Join(d, "pwned")); err == nil {
				t.Fatalf("%s/pwned exists: a label value ran as a command", d)
			}
		}
	})

	code, body, _ := do(t, "GET", s.base+"/metrics", "")
	for _, want := range []string{
		`outpost_remediation_runs_total{result="ok"} `, `outpost_remediation_runs_total{result="failed"} 2`,
		`outpost_remediation_runs_total{result="timeout"} 1`, `outpost_remediation_verifications_total{result="resolved"} 1`,
		`outpost_remediation_failures_total{reason="no_command"} 1`, `outpost_remediation_escalations_total{result="sent"} `,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
