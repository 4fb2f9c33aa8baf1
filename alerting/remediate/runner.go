package remediate

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
)

// queueSize bounds the remediations waiting for a worker; past it a
// firing alert is not remediated (logged and counted as dropped).
const queueSize = 256

// Job is one alert to remediate, handed over when it starts firing.
type Job struct {
	// Rule is the key of the alert's rule; ID is the alert's id (the
	// fingerprint of Labels).
	Rule, ID string
	// Labels are the alert's own labels (History events carry them).
	Labels map[string]string
	// Alert is the alert as the dispatcher has it, firing.
	Alert receiver.Alert
	// Remediate is the rule's remediate key; nil means remediation_dir's
	// script for the alert's name.
	Remediate *rulefile.Remediate
}

func (j *Job) key() string { return j.Rule + "\x00" + j.ID }

// Options carries what a Runner needs besides its configuration.
type Options struct {
	Config Config
	// Dir is alerting.remediation_dir ("" for none); Exec are
	// alerting.exec_configs.
	Dir  string
	Exec []ExecConfig
	// Logger receives the runner's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock of the records; nil means time.Now.
	Now func() time.Time
	// Firing reports whether the alert is still firing (verification).
	Firing func(rule, id string) bool
	// Record stores a step in the alert's history.
	Record func(j *Job, rec Record)
	// Send puts an escalation into the outbox for a receiver
	// (notify.Notifier.Send).
	Send func(recv string, n receiver.Notification) (string, error)
}

// Runner runs remediations on a bounded set of workers, one remediation
// per alert at a time. Submit never blocks; Run runs the workers.
type Runner struct {
	opts     Options
	log      *slog.Logger
	exec     map[string]ExecConfig
	matchers []notify.Matcher
	queue    chan *Job

	// mu guards inflight (the alerts being remediated, by Job.key, from
	// Submit until their remediation ends), dropping (the last Submit
	// found the queue full) and stats.
	mu       sync.Mutex
	inflight map[string]bool
	dropping bool
	stats    Stats
}

// New returns a Runner for opts, whose Config and Exec passed Validate.
func New(opts Options) (*Runner, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Runner{opts: opts, log: log, exec: map[string]ExecConfig{}, queue: make(chan *Job, queueSize),
		inflight: map[string]bool{}, stats: newStats()}
	for _, e := range opts.Exec {
		r.exec[e.Name] = e
	}
	for i, s := range opts.Config.Matchers {
		ms, err := notify.ParseMatchers(s)
		if err != nil {
			return nil, fmt.Errorf("alerting.remediation.matchers[%d]: %w", i, err)
		}
		r.matchers = append(r.matchers, ms...)
	}
	return r, nil
}

// Wants reports whether an alert of a rule with remediate key rm and
// labels ls is to be remediated: the rule says how, or remediation_dir
// is set and the alert matches alerting.remediation.matchers.
func (r *Runner) Wants(rm *rulefile.Remediate, ls map[string]string) bool {
	if rm != nil || !r.Applies(nil) {
		return r.Applies(rm)
	}
	for _, m := range r.matchers {
		if !m.Matches(ls[m.Name]) {
			return false
		}
	}
	return true
}

// Applies reports whether any alert of a rule with remediate key rm may
// be remediated: the rule says how, or remediation_dir is set.
func (r *Runner) Applies(rm *rulefile.Remediate) bool {
	if rm != nil {
		return !rm.Disabled
	}
	return r.opts.Dir != ""
}

// Check returns what keeps rm from running: an exec_configs name or a
// receiver that does not exist, or no command and no remediation_dir.
// receivers are the configured receiver names.
func (r *Runner) Check(rm *rulefile.Remediate, receivers []string) error {
	if rm == nil || rm.Disabled {
		return nil
	}
	if rm.Exec != "" {
		if _, ok := r.exec[rm.Exec]; !ok {
			return fmt.Errorf("remediate: no alerting.exec_configs entry named %q", rm.Exec)
		}
	} else if len(rm.Command) == 0 && r.opts.Dir == "" {
		return errNoDir
	}
	if rm.EscalateTo != "" {
		found := false
		for _, n := range receivers {
			found = found || n == rm.EscalateTo
		}
		if !found {
			return fmt.Errorf("remediate.escalate_to: no receiver named %q", rm.EscalateTo)
		}
	}
	return nil
}

// Submit queues j unless its alert is being remediated already or the
// queue is full; it reports whether j was queued. It never blocks.
func (r *Runner) Submit(j *Job) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight[j.key()] {
		return false
	}
	select {
	case r.queue <- j:
		r.inflight[j.key()] = true
		r.dropping = false
		return true
	default:
		r.stats.Dropped++
		if !r.dropping { // once per run of drops, not once per alert
			r.log.Warn("remediation queue full; alerts are not remediated until it drains (see outpost_remediation_dropped_total)",
				"rule", j.Rule, "alert", j.ID)
		}
		r.dropping = true
		return false
	}
}

// Run runs the workers until ctx ends, then returns once every worker
// has: a command running then is killed with its process group and
// recorded as interrupted. Jobs still queued are dropped; nothing of a
// remediation outlives a restart.
func (r *Runner) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range max(r.opts.Config.Workers, 1) {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-r.queue:
					r.handle(ctx, j)
					r.mu.Lock()
					delete(r.inflight, j.key())
					r.mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// spec is a remediation resolved: what to run and how.
type spec struct {
	source      string // "rule", `exec_configs "name"`, or the script's path
	argv        []string
	dir         string
	timeout     time.Duration
	pause       time.Duration
	verifyAfter time.Duration
	retries     int
	escalateTo  string
}

// resolve turns j into a spec. With no command found, argv is nil and
// missing says what was looked for.
func (r *Runner) resolve(j *Job) (s spec, missing string) {
	c := r.opts.Config
	s = spec{dir: r.opts.Dir, timeout: c.Timeout, pause: c.Pause, verifyAfter: c.VerifyAfter, retries: c.Retries,
		escalateTo: c.EscalateTo}
	rm := j.Remediate
	if rm != nil {
		s.timeout = positiveOr(rm.Timeout, s.timeout)
		s.pause = positiveOr(rm.Pause, s.pause)
		s.verifyAfter = positiveOr(rm.VerifyAfter, s.verifyAfter)
		if rm.Retries != nil {
			s.retries = *rm.Retries
		}
		if rm.EscalateTo != "" {
			s.escalateTo = rm.EscalateTo
		}
		switch {
		case len(rm.Command) > 0:
			s.source, s.argv = "rule", rm.Command
			return s, ""
		case rm.Exec != "":
			e, ok := r.exec[rm.Exec]
			if !ok {
				return s, fmt.Sprintf("no alerting.exec_configs entry named %q", rm.Exec)
			}
			s.source, s.argv = fmt.Sprintf("exec_configs %q", e.Name), e.Command
			s.timeout = positiveOr(e.Timeout, s.timeout)
			return s, ""
		}
	}
	if s.dir == "" {
		return s, "no command and no alerting.remediation_dir"
	}
	name := j.Alert.Labels["alertname"]
	p, why := script(s.dir, name)
	if p == "" {
		return s, why
	}
	s.source, s.argv = p, []string{p}
	return s, ""
}

// script returns the path of the executable regular file name, else
// name.sh, in dir; or "" and why there is none. A name that is not a
// plain file name (a slash, "." or "..") has none.
func script(dir, name string) (path, why string) {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name {
		return "", fmt.Sprintf("alert name %q cannot name a script", name)
	}
	for _, n := range []string{name, name + ".sh"} {
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case !st.Mode().IsRegular():
			return "", p + " is not a regular file"
		case st.Mode().Perm()&0o111 == 0:
			return "", p + " is not executable (chmod +x it; it is run directly, never through a shell)"
		}
		return p, ""
	}
	return "", fmt.Sprintf("no script %s or %s.sh in %s", name, name, dir)
}

func positiveOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// cloneAlert copies a's maps so an escalation can add to them.
func cloneAlert(a receiver.Alert) receiver.Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Annotations = maps.Clone(a.Annotations)
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	return a
}
