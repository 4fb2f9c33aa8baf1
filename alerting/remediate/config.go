package remediate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/rulefile"
)

// Config is the alerting.remediation section: the settings of every
// remediation that its rule's remediate key does not override.
type Config struct {
	// Timeout bounds one run of a command; its process group is killed
	// then.
	Timeout time.Duration `koanf:"timeout"`
	// Retries is how many more runs follow a failed one (a command that
	// failed, or an alert still firing after VerifyAfter).
	Retries int `koanf:"retries"`
	// Pause is the wait before each retry.
	Pause time.Duration `koanf:"pause"`
	// VerifyAfter is the cool-down after a run that succeeded: then the
	// alert must have resolved, else the run counts as failed.
	VerifyAfter time.Duration `koanf:"verify_after"`
	// EscalateTo names the receiver (of alerting.receivers) told when
	// remediation fails, the alert stays firing, or there is no command;
	// empty escalates nowhere (the history still says so).
	EscalateTo string `koanf:"escalate_to"`
	// Workers is how many remediations run at once.
	Workers int `koanf:"workers"`
	// Matchers select the alerts that remediation_dir's scripts apply
	// to (Alertmanager's matcher syntax, every one must match); empty is
	// every alert. Rules with their own remediate key are not filtered.
	Matchers []string `koanf:"matchers"`
}

// ExecConfig is one item of alerting.exec_configs: a named command that
// rules name in their remediate key.
type ExecConfig struct {
	Name string `koanf:"name"`
	// Command is the program and its arguments, run without a shell.
	Command []string `koanf:"command"`
	// Timeout, when set, replaces the remediation timeout for this
	// command.
	Timeout time.Duration `koanf:"timeout"`
}

// DefaultConfig returns the remediation defaults: 30 s per run, one
// retry after 30 s, verification 1 min after a run, two workers, no
// escalation receiver.
func DefaultConfig() Config {
	return Config{Timeout: 30 * time.Second, Retries: 1, Pause: 30 * time.Second, VerifyAfter: time.Minute, Workers: 2}
}

// Validate checks the remediation settings, the exec configs and the
// script directory against the configured receivers, naming the first
// key with a bad value (under alerting.).
func Validate(c Config, dir string, execs []ExecConfig, receivers []string) error {
	switch {
	case c.Timeout <= 0 || c.Timeout > rulefile.MaxRemediateWait:
		return fmt.Errorf("alerting.remediation.timeout: %s is outside 1ns to %s", c.Timeout, rulefile.MaxRemediateWait)
	case c.Retries < 0 || c.Retries > rulefile.MaxRemediateRetries:
		return fmt.Errorf("alerting.remediation.retries: %d is outside 0 to %d", c.Retries, rulefile.MaxRemediateRetries)
	case c.Pause < 0 || c.Pause > rulefile.MaxRemediateWait:
		return fmt.Errorf("alerting.remediation.pause: %s is outside 0 to %s", c.Pause, rulefile.MaxRemediateWait)
	case c.VerifyAfter < 0 || c.VerifyAfter > rulefile.MaxVerifyAfter:
		return fmt.Errorf("alerting.remediation.verify_after: %s is outside 0 to %s", c.VerifyAfter, rulefile.MaxVerifyAfter)
	case c.Workers < 1 || c.Workers > 64:
		return fmt.Errorf("alerting.remediation.workers: %d is outside 1 to 64", c.Workers)
	case c.EscalateTo != "" && !slices.Contains(receivers, c.EscalateTo):
		return fmt.Errorf("alerting.remediation.escalate_to: no receiver named %q", c.EscalateTo)
	}
	for i, s := range c.Matchers {
		if _, err := notify.ParseMatchers(s); err != nil {
			return fmt.Errorf("alerting.remediation.matchers[%d]: %w", i, err)
		}
	}
	if dir != "" {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("alerting.remediation_dir: %q is not an absolute path", dir)
		}
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("alerting.remediation_dir: %w", err)
		}
		if !st.IsDir() {
			return fmt.Errorf("alerting.remediation_dir: %q is not a directory", dir)
		}
	}
	seen := map[string]bool{}
	for i, e := range execs {
		at := fmt.Sprintf("alerting.exec_configs[%d]", i)
		switch {
		case strings.TrimSpace(e.Name) == "":
			return fmt.Errorf("%s.name: missing", at)
		case seen[e.Name]:
			return fmt.Errorf("%s.name: %q given twice", at, e.Name)
		case len(e.Command) == 0 || strings.TrimSpace(e.Command[0]) == "":
			return fmt.Errorf("%s %q: command: missing (want a list: program, then arguments)", at, e.Name)
		case len(e.Command) == 1 && strings.ContainsAny(e.Command[0], " \t") && !exists(e.Command[0]):
			return fmt.Errorf("%s %q: command: %q is one item with spaces; give a list, [program, arg, ...] (no shell runs it)",
				at, e.Name, e.Command[0])
		case e.Timeout < 0 || e.Timeout > rulefile.MaxRemediateWait:
			return fmt.Errorf("%s %q: timeout: %s is outside 0 to %s", at, e.Name, e.Timeout, rulefile.MaxRemediateWait)
		}
		for j, a := range e.Command {
			if strings.IndexByte(a, 0) >= 0 {
				return fmt.Errorf("%s %q: command[%d]: holds a NUL byte", at, e.Name, j)
			}
		}
		seen[e.Name] = true
	}
	return nil
}

// errNoDir is the reason a rule's remediate mapping without a command
// cannot run.
var errNoDir = errors.New("remediate: gives neither command nor exec, and alerting.remediation_dir is not set")

// exists reports whether a file is at path.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
