package remediate

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
)

// harness runs a Runner with real scripts; firing is what verification
// sees, and the records and escalations it made are kept.
type harness struct {
	r      *Runner
	mu     sync.Mutex
	firing bool
	recs   []Record
	sent   []receiver.Notification
	done   chan struct{}
}

func newHarness(t *testing.T, dir string, cfg Config, execs ...ExecConfig) *harness {
	t.Helper()
	h := &harness{firing: true, done: make(chan struct{}, 16)}
	r, err := New(Options{Config: cfg, Dir: dir, Exec: execs,
		Firing: func(rule, id string) bool { h.mu.Lock(); defer h.mu.Unlock(); return h.firing },
		Record: func(j *Job, rec Record) {
			h.mu.Lock()
			h.recs = append(h.recs, rec)
			h.mu.Unlock()
			if rec.Step == StepEscalate || rec.Outcome == OutcomeResolved {
				h.done <- struct{}{}
			}
		},
		Send: func(recv string, n receiver.Notification) (string, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			n.Receiver = recv
			h.sent = append(h.sent, n)
			return "db-0001", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return h
}

func (h *harness) wait(t *testing.T) []Record {
	t.Helper()
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatal("remediation did not end within 20 s")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recs)
}

func job(name string, rm *rulefile.Remediate) *Job {
	ls := map[string]string{"alertname": name, "host": "web1"}
	return &Job{Rule: "r|g|alert:" + name, ID: "id-" + name, Labels: ls, Remediate: rm,
		Alert: receiver.Alert{Status: "firing", Labels: ls, Fingerprint: "fp-" + name}}
}

func steps(recs []Record) string {
	var s []string
	for _, r := range recs {
		s = append(s, r.Step+":"+r.Outcome)
	}
	return strings.Join(s, " ")
}

func fastConfig() Config {
	c := DefaultConfig()
	c.Pause, c.VerifyAfter, c.Timeout, c.EscalateTo = 300*time.Millisecond, 100*time.Millisecond, 5*time.Second, "oncall"
	return c
}

// A failing script is retried after the pause, then escalated with its
// output and exit status in the notification.
func TestRunner_FailingScriptRetriedThenEscalated(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "worker_down.sh", "#!/bin/sh\necho \"cannot restart $OUTPOST_ALERT_LABEL_HOST: disk full\" >&2\nexit 3\n")
	h := newHarness(t, dir, fastConfig())
	start := time.Now()
	if !h.r.Submit(job("worker_down", nil)) {
		t.Fatal("Submit refused")
	}
	recs := h.wait(t)
	if got := steps(recs); got != "run:failed run:failed escalate:sent" {
		t.Fatalf("steps %s", got)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatal("the retry did not wait for the pause")
	}
	if *recs[1].ExitStatus != 3 || recs[1].Attempt != 2 || recs[1].Attempts != 2 || !strings.HasSuffix(recs[0].Source, "/worker_down.sh") {
		t.Fatalf("run record %+v", recs[1])
	}
	if len(h.sent) != 1 {
		t.Fatalf("sent %d escalations", len(h.sent))
	}
	n := h.sent[0]
	a := n.Alerts[0]
	if n.Receiver != "oncall" || a.Annotations["remediation_status"] != "failed" || a.Annotations["remediation_exit_status"] != "3" ||
		!strings.Contains(a.Annotations["remediation_output"], "cannot restart web1: disk full") ||
		!strings.Contains(a.Reason, "remediation failed: ") || !strings.Contains(a.Reason, "exit status 3") {
		t.Fatalf("escalation %+v", n)
	}
	if recs[2].NotificationID != "db-0001" || !strings.Contains(recs[2].Summary(), "escalated to oncall (failed)") {
		t.Fatalf("escalate record %+v %q", recs[2], recs[2].Summary())
	}
	st := h.r.Stats()
	if st.Runs[OutcomeFailed] != 2 || st.Failures[ReasonFailed] != 1 || st.Escalations[OutcomeSent] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// No script for the alert: escalated at once, nothing runs.
func TestRunner_NoScriptEscalatedAtOnce(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, dir, fastConfig())
	h.r.Submit(job("cache_down", nil))
	recs := h.wait(t)
	if got := steps(recs); got != "escalate:sent" {
		t.Fatalf("steps %s", got)
	}
	if a := h.sent[0].Alerts[0]; a.Annotations["remediation_status"] != "no_command" ||
		!strings.Contains(a.Annotations["remediation_error"], "no script cache_down or cache_down.sh in "+dir) {
		t.Fatalf("escalation %+v", a)
	}
}

// A command that succeeds but leaves the alert firing is a failure: retried,
// then escalated as still_firing. One that fixes it is verified.
func TestRunner_Verification(t *testing.T) {
	dir := t.TempDir()
	writeScript(t, dir, "noop", "#!/bin/sh\necho did nothing\n")
	h := newHarness(t, dir, fastConfig())
	h.r.Submit(job("noop", nil))
	recs := h.wait(t)
	if got := steps(recs); got != "run:ok verify:still_firing run:ok verify:still_firing escalate:sent" {
		t.Fatalf("steps %s", got)
	}
	if a := h.sent[0].Alerts[0]; a.Annotations["remediation_status"] != "still_firing" {
		t.Fatalf("escalation %+v", a)
	}

	h2 := newHarness(t, dir, fastConfig())
	writeScript(t, dir, "fixes.sh", "#!/bin/sh\necho fixed\n")
	h2.mu.Lock()
	h2.firing = false // the fix worked: by the verification the alert resolved
	h2.mu.Unlock()
	h2.r.Submit(job("fixes", nil))
	if got := steps(h2.wait(t)); got != "run:ok verify:resolved" || len(h2.sent) != 0 {
		t.Fatalf("steps %s, %d escalations", got, len(h2.sent))
	}
}

// A rule's command and an exec config run as argument lists with the
// rule's overrides; a second Submit while one runs is refused.
func TestRunner_RuleAndExecCommands(t *testing.T) {
	dir := t.TempDir()
	p := writeScript(t, dir, "echo-args", "#!/bin/sh\nfor a in \"$@\"; do echo \"arg=$a\"; done\nsleep 0.3\n")
	zero := 0
	h := newHarness(t, "", fastConfig(), ExecConfig{Name: "echo", Command: []string{p, "from exec"}})
	h.mu.Lock()
	h.firing = false
	h.mu.Unlock()
	j := job("rule_cmd", &rulefile.Remediate{Command: []string{p, "a b", "$(touch pwned)"}, Retries: &zero})
	if !h.r.Submit(j) || h.r.Submit(j) {
		t.Fatal("want the first Submit taken and the second refused")
	}
	recs := h.wait(t)
	if recs[0].Source != "rule" || recs[0].Output != "arg=a b\narg=$(touch pwned)\n" {
		t.Fatalf("rule run %+v", recs[0])
	}
	h.r.Submit(job("exec_cmd", &rulefile.Remediate{Exec: "echo"}))
	recs = h.wait(t)
	if last := recs[len(recs)-2]; last.Source != `exec_configs "echo"` || last.Output != "arg=from exec\n" {
		t.Fatalf("exec run %+v", last)
	}
}

func TestRunner_WantsAndCheck(t *testing.T) {
	c := DefaultConfig()
	c.Matchers = []string{`severity="critical"`}
	r, err := New(Options{Config: c, Dir: "/srv/remediation", Exec: []ExecConfig{{Name: "restart", Command: []string{"/bin/true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	crit := map[string]string{"severity": "critical"}
	if !r.Wants(nil, crit) || r.Wants(nil, map[string]string{"severity": "warning"}) ||
		r.Wants(&rulefile.Remediate{Disabled: true}, crit) || !r.Wants(&rulefile.Remediate{Exec: "x"}, nil) {
		t.Fatal("Wants")
	}
	recvs := []string{"oncall"}
	for _, c := range []struct {
		rm   *rulefile.Remediate
		want string
	}{
		{&rulefile.Remediate{Exec: "restart"}, ""},
		{&rulefile.Remediate{Exec: "nope"}, `remediate: no alerting.exec_configs entry named "nope"`},
		{&rulefile.Remediate{Command: []string{"/bin/true"}, EscalateTo: "pager"}, `remediate.escalate_to: no receiver named "pager"`},
		{&rulefile.Remediate{EscalateTo: "oncall"}, ""},
	} {
		err := r.Check(c.rm, recvs)
		if (err == nil && c.want != "") || (err != nil && err.Error() != c.want) {
			t.Errorf("Check(%+v) = %v, want %q", c.rm, err, c.want)
		}
	}
	nodir, _ := New(Options{Config: DefaultConfig()})
	if err := nodir.Check(&rulefile.Remediate{EscalateTo: "oncall"}, recvs); err != errNoDir {
		t.Errorf("Check without remediation_dir = %v", err)
	}
	if nodir.Wants(nil, crit) {
		t.Error("Wants without remediation_dir or remediate key")
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	f := func(c Config, d string, execs []ExecConfig, want string) {
		t.Helper()
		err := Validate(c, d, execs, []string{"oncall"})
		if (want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate = %v, want %q", err, want)
		}
	}
	ok := DefaultConfig()
	f(ok, dir, []ExecConfig{{Name: "a", Command: []string{"/bin/true"}}}, "")
	bad := ok
	bad.EscalateTo = "pager"
	f(bad, "", nil, `alerting.remediation.escalate_to: no receiver named "pager"`)
	bad = ok
	bad.Retries = 11
	f(bad, "", nil, "alerting.remediation.retries: 11 is outside 0 to 10")
	bad = ok
	bad.Matchers = []string{"severity=~("}
	f(bad, "", nil, "alerting.remediation.matchers[0]")
	f(ok, "relative/dir", nil, `alerting.remediation_dir: "relative/dir" is not an absolute path`)
	f(ok, dir+"/missing", nil, "alerting.remediation_dir: stat ")
	f(ok, "", []ExecConfig{{Name: "a"}}, `alerting.exec_configs[0] "a": command: missing`)
	f(ok, "", []ExecConfig{{Name: "a", Command: []string{"x"}}, {Name: "a", Command: []string{"y"}}}, `alerting.exec_configs[1].name: "a" given twice`)
	f(ok, "", []ExecConfig{{Name: "a", Command: []string{"/bin/false --now"}}},
		`alerting.exec_configs[0] "a": command: "/bin/false --now" is one item with spaces; give a list`)
}

// Past the queue's bound, Submit refuses at once and counts the drops.
func TestRunner_SubmitBounded(t *testing.T) {
	r, err := New(Options{Config: DefaultConfig(), Dir: t.TempDir()}) // not running: nothing drains
	if err != nil {
		t.Fatal(err)
	}
	taken := 0
	for i := range queueSize + 10 {
		if r.Submit(job("a"+strconv.Itoa(i), nil)) {
			taken++
		}
	}
	if st := r.Stats(); taken != queueSize || st.Dropped != 10 || st.InProgress != queueSize {
		t.Fatalf("taken %d, stats %+v", taken, st)
	}
}

// BenchmarkRunner_Submit is the cost an evaluation round pays per alert
// that starts firing.
//
//	go test -run '^$' -bench BenchmarkRunner_Submit ./alerting/remediate/
func BenchmarkRunner_Submit(b *testing.B) {
	r, _ := New(Options{Config: DefaultConfig(), Dir: b.TempDir()})
	jobs := make([]*Job, queueSize)
	for i := range jobs {
		jobs[i] = job("a"+strconv.Itoa(i), nil)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%queueSize == 0 {
			r.queue = make(chan *Job, queueSize)
			clear(r.inflight)
		}
		r.Submit(jobs[i%queueSize])
	}
}
