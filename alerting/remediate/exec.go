package remediate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"outpost/alerting/receiver"
)

// MaxOutput bounds what is kept of one run's output (stdout and stderr
// together); the rest is counted and cut, with a marker.
const MaxOutput = 64 << 10

// waitDelay is how long a run that exited (or was killed) may keep its
// output pipes open through a child it left behind before they are
// closed.
const waitDelay = 2 * time.Second

// Input is what a command reads on its standard input, as JSON.
type Input struct {
	// Name is the alert's name (its alertname label).
	Name string `json:"name"`
	// ID is the alert's id, which the ack and note APIs take.
	ID string `json:"id"`
	// Rule is the key of the rule that raised it.
	Rule  string `json:"rule"`
	State string `json:"state"`
	// Attempt counts the runs of this remediation from 1, of Attempts.
	Attempt  int `json:"attempt"`
	Attempts int `json:"attempts"`
	// Alert is the alert as a webhook receiver gets it (Alertmanager's
	// alert shape with outpost's severity, value, reason).
	Alert receiver.Alert `json:"alert"`
}

// Result is the outcome of one run.
type Result struct {
	// ExitStatus is the command's exit status; nil when it did not exit
	// by itself (not started, killed).
	ExitStatus *int
	// Output is what it wrote, at most MaxOutput bytes and a marker.
	Output string
	// Err says why the run failed: not started, killed at its timeout,
	// a non-zero exit. Nil for a run that exited 0.
	Err error
	// TimedOut is set when the run was killed at its timeout;
	// Interrupted when outpost was shutting down.
	TimedOut, Interrupted bool
	Duration              time.Duration
}

// run runs argv in dir with the alert on stdin and in the environment,
// killing its process group at timeout or when ctx ends.
func run(ctx context.Context, argv []string, dir string, timeout time.Duration, in *Input) Result {
	stdin, err := json.Marshal(in)
	if err != nil {
		return Result{Err: err}
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = environ(in)
	cmd.Stdin = bytes.NewReader(append(stdin, '\n'))
	out := &boundedBuffer{max: MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	ownProcessGroup(cmd)
	start := time.Now()
	err = cmd.Run()
	res := Result{Output: out.String(), Duration: time.Since(start)}
	if st := cmd.ProcessState; st != nil && st.Exited() {
		code := st.ExitCode()
		res.ExitStatus = &code
	}
	switch {
	case ctx.Err() != nil:
		res.Interrupted, res.Err = true, errors.New("interrupted: outpost is stopping")
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		res.TimedOut, res.Err = true, errors.New("killed at its timeout of "+timeout.String())
	case errors.Is(err, exec.ErrWaitDelay) && res.ExitStatus != nil && *res.ExitStatus == 0:
		// It exited 0 but a child it left holds its output open: a
		// daemon it started. The run succeeded.
	case err != nil:
		res.Err = err
	}
	return res
}

// passedEnv are the variables of outpost's own environment a command
// gets; the rest (outpost's OUTPOST_* configuration among them, which may
// hold secrets) is not passed.
var passedEnv = []string{"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"}

// environ returns a command's environment: passedEnv and the alert as
// OUTPOST_ALERT_* variables.
func environ(in *Input) []string {
	var env []string
	for _, k := range passedEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	if _, ok := os.LookupEnv("PATH"); !ok {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	a := &in.Alert
	set := func(k, v string) { env = append(env, "OUTPOST_ALERT_"+k+"="+strings.ReplaceAll(v, "\x00", "")) }
	set("NAME", in.Name)
	set("ID", in.ID)
	set("FINGERPRINT", a.Fingerprint)
	set("RULE", in.Rule)
	set("STATE", in.State)
	set("SEVERITY", a.Severity)
	set("VALUE", strconv.FormatFloat(a.Value, 'g', -1, 64))
	set("REASON", a.Reason)
	set("STARTS_AT", a.StartsAt.UTC().Format(time.RFC3339Nano))
	set("ATTEMPT", strconv.Itoa(in.Attempt))
	set("ATTEMPTS", strconv.Itoa(in.Attempts))
	for _, k := range sortedKeys(a.Labels) {
		set("LABEL_"+envName(k), a.Labels[k])
	}
	for _, k := range sortedKeys(a.Annotations) {
		set("ANNOTATION_"+envName(k), a.Annotations[k])
	}
	return env
}

// envName upper-cases a label name and replaces what a variable name
// cannot hold with "_".
func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// boundedBuffer keeps the first max bytes written to it and counts the
// rest. Stdout and stderr write to it from two goroutines.
type boundedBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - len(b.buf)
	if room >= len(p) {
		b.buf = append(b.buf, p...)
	} else {
		b.buf = append(b.buf, p[:max(room, 0)]...)
		b.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

// String returns the output kept, with a marker when some was cut.
func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.ToValidUTF8(string(b.buf), "\uFFFD")
	if b.dropped > 0 {
		s += "\n[outpost: output truncated, " + strconv.FormatInt(b.dropped, 10) + " more bytes not kept]"
	}
	return s
}
