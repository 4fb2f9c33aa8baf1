package alerting

import (
	"errors"

	"outpost/alerting/receiver"
	"outpost/alerting/remediate"
	"outpost/alerting/rulefile"
)

// EventRemediation is the kind of the history events of remediation: a
// run of its command, its verification, its escalation. Their Comment
// says it in one line; Remediation holds the details (output, exit
// status).
const EventRemediation = "remediation"

// newRemediator builds the remediation runner of m's configuration. Its
// verification reads the alert's state, its records go to the history
// and its escalations to the notifier's outbox.
func (m *Manager) newRemediator() (*remediate.Runner, error) {
	return remediate.New(remediate.Options{
		Config: m.cfg.Remediation, Dir: m.cfg.RemediationDir, Exec: m.cfg.ExecConfigs,
		Logger: m.log.With("component", "remediate"), Now: m.opts.Now,
		Firing: m.stillFiring, Record: m.recordRemediation, Send: m.notifier.Send,
	})
}

// remediationJobs returns a job for each alert of r that went firing in
// res and is to be remediated. The caller holds r's lock. It costs
// nothing for a rule without remediation, and one pass over the active
// alerts for a round with firing transitions.
func (m *Manager) remediationJobs(r rule, res *evalResult, env *evalEnv) []*remediate.Job {
	b := r.base()
	if !m.remediator.Applies(b.spec.Remediate) {
		return nil
	}
	var fired map[string]Event
	for _, e := range res.events {
		if e.Kind == EventState && e.To == "firing" && e.From != "firing" {
			if fired == nil {
				fired = map[string]Event{}
			}
			fired[e.Fingerprint] = e
		}
	}
	var jobs []*remediate.Job
	for _, a := range res.active {
		if len(fired) == 0 {
			break
		}
		if a.State != StateFiring {
			continue
		}
		fp := a.Fingerprint()
		e, ok := fired[fp]
		if !ok {
			continue
		}
		delete(fired, fp)
		if m.remediator.Wants(b.spec.Remediate, a.sentLabels()) {
			jobs = append(jobs, &remediate.Job{Rule: a.Rule, ID: fp, Labels: e.Labels,
				Alert: a.message(receiver.StatusFiring, "", env.generatorURL(b.spec.Expr), 0), Remediate: b.spec.Remediate})
		}
	}
	return jobs
}

// stillFiring reports whether alert id of rule is firing.
func (m *Manager) stillFiring(ruleKey, id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.rules[ruleKey]
	if !ok {
		return false
	}
	b := r.base()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range ruleAlerts(r) {
		if a.Fingerprint() == id {
			return a.State == StateFiring
		}
	}
	return false
}

// recordRemediation stores one remediation step in the alert's history.
func (m *Manager) recordRemediation(j *remediate.Job, rec remediate.Record) {
	e := Event{T: m.opts.Now(), Kind: EventRemediation, Rule: j.Rule, Alertname: j.Alert.Labels["alertname"],
		Fingerprint: j.ID, Labels: j.Labels, Severity: j.Alert.Severity, Value: number(j.Alert.Value),
		Comment: rec.Summary(), Remediation: &rec}
	if err := m.st.write(&change{events: []Event{e}}); err != nil {
		m.log.Error("store remediation history", "rule", j.Rule, "err", err)
	}
}

// checkRemediate returns an error, naming the rule, for every rule of f
// whose remediate key names an exec config or receiver that does not
// exist, or relies on a remediation_dir that is not set.
func (m *Manager) checkRemediate(f *rulefile.File) error {
	names := make([]string, 0, len(m.cfg.Receivers))
	for _, rc := range m.cfg.Receivers {
		names = append(names, rc.Name)
	}
	var errs []error
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if err := m.remediator.Check(r.Remediate, names); err != nil {
				errs = append(errs, &rulefile.Error{File: f.Path, Line: r.Remediate.Line, Group: g.Name, Rule: r.Name,
					Msg: err.Error(), Err: err})
			}
		}
	}
	return errors.Join(errs...)
}

// writeRemediation writes the remediation runner's figures.
func (m *Manager) writeRemediation(family func(name, typ, help string), sample func(string, float64, ...string)) {
	st := m.remediator.Stats()
	family("outpost_remediation_runs_total", "counter", "Remediation command runs, by result (ok, failed, timeout, interrupted).")
	for _, k := range []string{remediate.OutcomeOK, remediate.OutcomeFailed, remediate.OutcomeTimeout, remediate.OutcomeInterrupted} {
		sample("outpost_remediation_runs_total", float64(st.Runs[k]), "result", k)
	}
	family("outpost_remediation_verifications_total", "counter", "Checks after a remediation's cool-down, by result (resolved, still_firing).")
	for _, k := range []string{remediate.OutcomeResolved, remediate.OutcomeFiring} {
		sample("outpost_remediation_verifications_total", float64(st.Verifications[k]), "result", k)
	}
	family("outpost_remediation_failures_total", "counter", "Remediations that did not fix their alert, by reason (failed, still_firing, no_command).")
	for _, k := range []string{remediate.ReasonFailed, remediate.ReasonStillFiring, remediate.ReasonNoCommand} {
		sample("outpost_remediation_failures_total", float64(st.Failures[k]), "reason", k)
	}
	family("outpost_remediation_escalations_total", "counter", "Escalations of failed remediations, by result (sent to the outbox, not_sent).")
	for _, k := range []string{remediate.OutcomeSent, remediate.OutcomeNotSent} {
		sample("outpost_remediation_escalations_total", float64(st.Escalations[k]), "result", k)
	}
	family("outpost_remediation_dropped_total", "counter", "Firing alerts not remediated because the remediation queue was full.")
	sample("outpost_remediation_dropped_total", float64(st.Dropped))
	family("outpost_remediation_in_progress", "gauge", "Remediations queued or running.")
	sample("outpost_remediation_in_progress", float64(st.InProgress))
}
