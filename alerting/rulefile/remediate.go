package rulefile

import (
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Remediate is a rule's remediate key: what to run when one of its alerts
// fires, and where to escalate when that does not fix it. Written as
//
//	remediate: restart-webapp            # an alerting.exec_configs name
//	remediate: false                     # no remediation, not even remediation_dir's script
//	remediate:                           # or a mapping
//	  command: [/usr/local/bin/restart, webapp]   # or exec: restart-webapp
//	  timeout: 30s
//	  retries: 2
//	  pause: 10s
//	  verify_after: 1m
//	  escalate_to: oncall
//
// A mapping with neither command nor exec runs the alert's script in
// alerting.remediation_dir with these settings. Zero and nil fields take
// the alerting.remediation defaults. Which names exist (exec_configs,
// receivers) is checked when the manager loads the file, not here.
type Remediate struct {
	// Disabled is remediate: false.
	Disabled bool
	// Exec names an alerting.exec_configs entry.
	Exec string
	// Command is the program and its arguments, run without a shell.
	Command []string
	// Timeout bounds one run; Pause is the wait before a retry;
	// VerifyAfter is the cool-down after a run that succeeded, after which
	// the alert must have resolved.
	Timeout, Pause, VerifyAfter time.Duration
	// Retries is how many more runs follow a failed one; nil is the
	// default.
	Retries *int
	// EscalateTo names the receiver told when remediation fails, the
	// alert stays firing, or there is no command.
	EscalateTo string
	// Line is the line of the remediate key.
	Line int
}

// Bounds of remediate's values.
const (
	// MaxRemediateRetries bounds retries.
	MaxRemediateRetries = 10
	// MaxRemediateWait bounds timeout and pause.
	MaxRemediateWait = time.Hour
	// MaxVerifyAfter bounds verify_after.
	MaxVerifyAfter = 24 * time.Hour
)

// remediate decodes a rule's remediate key.
func (d *decoder) remediate(l loc, key, n *yaml.Node) *Remediate {
	n = resolve(n)
	rm := &Remediate{Line: key.Line}
	switch {
	case isNull(n):
		d.errorf(l, n, "remediate: want an exec_configs name, false or a mapping, got nothing")
		return nil
	case n.Kind == yaml.ScalarNode && n.Tag == "!!bool":
		b, ok := d.boolean(l, n, "remediate")
		if ok && b {
			d.errorf(l, n, "remediate: true says nothing to run; name an exec_configs entry or give a mapping")
			return nil
		}
		rm.Disabled = true
		return rm
	case n.Kind == yaml.ScalarNode:
		if strings.TrimSpace(n.Value) == "" {
			d.errorf(l, n, "remediate: the exec_configs name is empty")
			return nil
		}
		rm.Exec = n.Value
		return rm
	case n.Kind != yaml.MappingNode:
		d.errorf(l, n, "remediate: want an exec_configs name, false or a mapping, got %s", DescribeNode(n))
		return nil
	}
	for _, p := range d.pairs(l, n, "remediate") {
		k, v := p.key.Value, p.val
		what := "remediate." + k
		switch k {
		case "command":
			rm.Command = d.stringList(l, v, what)
			if rm.Command == nil && !isNull(resolve(v)) {
				return nil
			}
		case "exec":
			rm.Exec, _ = d.str(l, v, what)
		case "timeout":
			rm.Timeout, _ = d.duration(l, v, what)
		case "pause":
			rm.Pause, _ = d.duration(l, v, what)
		case "verify_after":
			rm.VerifyAfter, _ = d.duration(l, v, what)
		case "retries":
			if r, ok := d.integer(l, v, what); ok {
				rm.Retries = &r
			}
		case "escalate_to":
			rm.EscalateTo, _ = d.str(l, v, what)
		default:
			d.errorf(l, p.key, "remediate: unknown field %q (want command, exec, timeout, retries, pause, verify_after or escalate_to)", k)
		}
	}
	return rm
}

// checkRemediate returns what is wrong with r's remediate key.
func checkRemediate(r *Rule) []problem {
	rm := r.Remediate
	if rm == nil {
		return nil
	}
	if r.Kind == KindRecord {
		return []problem{problemf("remediate", "remediate: not allowed in a record rule (only alerts remediate)")}
	}
	if rm.Disabled {
		if rm.Exec != "" || len(rm.Command) > 0 || rm.EscalateTo != "" {
			return []problem{problemf("remediate", "remediate: false takes no other settings")}
		}
		return nil
	}
	var ps []problem
	if rm.Exec != "" && len(rm.Command) > 0 {
		ps = append(ps, problemf("remediate", "remediate: command and exec both set; give one"))
	}
	if rm.Exec != "" && strings.TrimSpace(rm.Exec) == "" {
		ps = append(ps, problemf("remediate", "remediate: exec name is blank"))
	}
	if rm.Command != nil && len(rm.Command) == 0 {
		ps = append(ps, problemf("remediate", "remediate.command: the list is empty"))
	}
	for i, a := range rm.Command {
		if i == 0 && strings.TrimSpace(a) == "" {
			ps = append(ps, problemf("remediate", "remediate.command: the program (first item) is empty"))
		}
		if strings.IndexByte(a, 0) >= 0 {
			ps = append(ps, problemf("remediate", "remediate.command[%d]: holds a NUL byte", i))
		}
	}
	for _, w := range []struct {
		at  string
		v   time.Duration
		max time.Duration
	}{{"timeout", rm.Timeout, MaxRemediateWait}, {"pause", rm.Pause, MaxRemediateWait}, {"verify_after", rm.VerifyAfter, MaxVerifyAfter}} {
		if w.v < 0 || w.v > w.max {
			ps = append(ps, problemf("remediate", "remediate.%s: %s is outside 0 to %s", w.at, formatDuration(w.v), formatDuration(w.max)))
		}
	}
	if rm.Retries != nil && (*rm.Retries < 0 || *rm.Retries > MaxRemediateRetries) {
		ps = append(ps, problemf("remediate", "remediate.retries: %d is outside 0 to %d", *rm.Retries, MaxRemediateRetries))
	}
	return ps
}
