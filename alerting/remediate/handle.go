package remediate

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"outpost/alerting/receiver"
)

// The steps of a Record.
const (
	StepRun      = "run"      // a run of the command
	StepVerify   = "verify"   // the check after the cool-down
	StepEscalate = "escalate" // the escalation, or why there was none
)

// The outcomes of a Record.
const (
	OutcomeOK          = "ok"           // run: exited 0
	OutcomeFailed      = "failed"       // run: exited non-zero or could not start
	OutcomeTimeout     = "timeout"      // run: killed at its timeout
	OutcomeInterrupted = "interrupted"  // run: outpost stopped meanwhile
	OutcomeResolved    = "resolved"     // verify: the alert resolved
	OutcomeFiring      = "still_firing" // verify: it did not
	OutcomeSent        = "sent"         // escalate: in the receiver's outbox
	OutcomeNotSent     = "not_sent"     // escalate: no receiver configured, or the outbox write failed
)

// The reasons for an escalation, in Record.Reason and the escalated
// alert's remediation_status annotation.
const (
	ReasonFailed      = "failed"       // every run failed
	ReasonStillFiring = "still_firing" // the last run succeeded, the alert did not resolve
	ReasonNoCommand   = "no_command"   // nothing to run for the alert
)

// Record is one step of a remediation, kept in the alert's history.
type Record struct {
	Step    string `json:"step"`
	Outcome string `json:"outcome"`
	// Source says where the command came from: "rule",
	// `exec_configs "name"`, or the script's path.
	Source  string   `json:"source,omitempty"`
	Command []string `json:"command,omitempty"`
	// Attempt counts runs from 1, of Attempts.
	Attempt  int `json:"attempt,omitempty"`
	Attempts int `json:"attempts,omitempty"`
	// ExitStatus is the run's exit status; absent when it did not exit
	// by itself.
	ExitStatus *int `json:"exitStatus,omitempty"`
	// Output is the run's stdout and stderr, at most MaxOutput bytes.
	Output   string  `json:"output,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	Error    string  `json:"error,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Receiver string  `json:"receiver,omitempty"`
	// NotificationID is the escalation's outbox notification.
	NotificationID string `json:"notificationId,omitempty"`
}

// Summary is one line saying what r was, for the history's comment.
func (r *Record) Summary() string {
	switch r.Step {
	case StepRun:
		s := fmt.Sprintf("remediation run %d of %d (%s): ", r.Attempt, r.Attempts, r.Source)
		switch {
		case r.Outcome == OutcomeOK:
			return s + "exit status 0"
		case r.ExitStatus != nil:
			return s + "exit status " + strconv.Itoa(*r.ExitStatus)
		}
		return s + r.Error
	case StepVerify:
		if r.Outcome == OutcomeResolved {
			return "remediation verified: the alert resolved"
		}
		return "remediation not verified: the alert is still firing"
	}
	if r.Outcome == OutcomeSent {
		return "remediation escalated to " + r.Receiver + " (" + r.Reason + "): " + r.Error
	}
	return "remediation not escalated (" + r.Reason + "): " + r.Error
}

// handle remediates one alert: runs, retries, verification, escalation.
func (r *Runner) handle(ctx context.Context, j *Job) {
	s, missing := r.resolve(j)
	if s.argv == nil {
		r.count(func(st *Stats) { st.Failures[ReasonNoCommand]++ })
		r.escalate(j, &s, ReasonNoCommand, missing, nil)
		return
	}
	attempts := s.retries + 1
	var last *Record
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			if !sleep(ctx, s.pause) {
				return
			}
			if !r.opts.Firing(j.Rule, j.ID) {
				r.record(j, Record{Step: StepVerify, Outcome: OutcomeResolved, Attempt: attempt - 1, Attempts: attempts})
				r.count(func(st *Stats) { st.Verifications[OutcomeResolved]++ })
				return
			}
		}
		rec := r.runOnce(ctx, j, &s, attempt, attempts)
		if rec.Outcome == OutcomeInterrupted {
			return
		}
		last = &rec
		if rec.Outcome != OutcomeOK {
			continue
		}
		if !sleep(ctx, s.verifyAfter) {
			return
		}
		v := Record{Step: StepVerify, Outcome: OutcomeResolved, Attempt: attempt, Attempts: attempts}
		if r.opts.Firing(j.Rule, j.ID) {
			v.Outcome = OutcomeFiring
		}
		r.record(j, v)
		r.count(func(st *Stats) { st.Verifications[v.Outcome]++ })
		if v.Outcome == OutcomeResolved {
			return
		}
	}
	reason, why := ReasonFailed, ""
	if last.Outcome == OutcomeOK {
		reason = ReasonStillFiring
		why = fmt.Sprintf("%s exited 0 but the alert was still firing %s later (%d runs)", s.source, s.verifyAfter, attempts)
	} else {
		why = fmt.Sprintf("%s failed %d of %d runs; last: %s", s.source, attempts, attempts, runError(last))
	}
	r.count(func(st *Stats) { st.Failures[reason]++ })
	r.escalate(j, &s, reason, why, last)
}

// runOnce runs s once and records it.
func (r *Runner) runOnce(ctx context.Context, j *Job, s *spec, attempt, attempts int) Record {
	in := &Input{Name: j.Alert.Labels["alertname"], ID: j.ID, Rule: j.Rule, State: "firing",
		Attempt: attempt, Attempts: attempts, Alert: j.Alert}
	res := run(ctx, s.argv, s.dir, s.timeout, in)
	rec := Record{Step: StepRun, Outcome: OutcomeOK, Source: s.source, Command: s.argv, Attempt: attempt,
		Attempts: attempts, ExitStatus: res.ExitStatus, Output: res.Output, Seconds: res.Duration.Seconds()}
	switch {
	case res.Interrupted:
		rec.Outcome = OutcomeInterrupted
	case res.TimedOut:
		rec.Outcome = OutcomeTimeout
	case res.Err != nil:
		rec.Outcome = OutcomeFailed
	}
	if res.Err != nil {
		rec.Error = res.Err.Error()
	}
	r.record(j, rec)
	r.count(func(st *Stats) { st.Runs[rec.Outcome]++ })
	if rec.Outcome != OutcomeOK && rec.Outcome != OutcomeInterrupted {
		r.log.Warn("remediation run failed", "rule", j.Rule, "alert", j.ID, "source", s.source,
			"attempt", attempt, "err", rec.Error)
	}
	return rec
}

// runError says how a failed run ended.
func runError(rec *Record) string {
	if rec.ExitStatus != nil && *rec.ExitStatus != 0 {
		return "exit status " + strconv.Itoa(*rec.ExitStatus)
	}
	return rec.Error
}

// maxEscalatedOutput bounds the output an escalation carries (its tail).
const maxEscalatedOutput = 4 << 10

// escalate tells s.escalateTo about j, through the outbox, and records
// it; with no receiver configured it records that instead.
func (r *Runner) escalate(j *Job, s *spec, reason, why string, last *Record) {
	rec := Record{Step: StepEscalate, Outcome: OutcomeNotSent, Reason: reason, Receiver: s.escalateTo, Error: why}
	if s.escalateTo == "" {
		rec.Error += "; no escalate_to receiver is configured"
		r.count(func(st *Stats) { st.Escalations[OutcomeNotSent]++ })
		r.log.Warn("remediation did not fix the alert and there is no escalate_to receiver",
			"rule", j.Rule, "alert", j.ID, "reason", reason)
		r.record(j, rec)
		return
	}
	a := cloneAlert(j.Alert)
	a.Status = receiver.StatusFiring
	a.Reason = "remediation " + strings.ReplaceAll(reason, "_", " ") + ": " + why
	a.Annotations["remediation_status"] = reason
	a.Annotations["remediation_error"] = why
	if s.argv != nil {
		a.Annotations["remediation_command"] = strings.Join(s.argv, " ")
	}
	if last != nil {
		out := last.Output
		if len(out) > maxEscalatedOutput {
			out = "[...]" + strings.ToValidUTF8(out[len(out)-maxEscalatedOutput:], "")
		}
		a.Annotations["remediation_output"] = out
		if last.ExitStatus != nil {
			a.Annotations["remediation_exit_status"] = strconv.Itoa(*last.ExitStatus)
		}
	}
	n := receiver.Notification{GroupKey: "remediation:" + j.Rule + ":" + j.ID,
		GroupLabels: map[string]string{"alertname": a.Labels["alertname"]}, Status: receiver.StatusFiring,
		Alerts: []receiver.Alert{a}}
	id, err := r.opts.Send(s.escalateTo, n)
	if err != nil {
		rec.Error += "; " + err.Error()
		r.count(func(st *Stats) { st.Escalations[OutcomeNotSent]++ })
		r.log.Error("escalate a failed remediation", "rule", j.Rule, "alert", j.ID, "receiver", s.escalateTo, "err", err)
	} else {
		rec.Outcome, rec.NotificationID = OutcomeSent, id
		r.count(func(st *Stats) { st.Escalations[OutcomeSent]++ })
	}
	r.record(j, rec)
}

// record hands rec to Options.Record.
func (r *Runner) record(j *Job, rec Record) {
	if r.opts.Record != nil {
		r.opts.Record(j, rec)
	}
}

// sleep waits d, reporting false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
