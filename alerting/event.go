package alerting

import (
	"time"

	"outpost/alerting/remediate"
)

// Event is one entry of an alert's history: a change of state, an
// acknowledgement, a note, a retirement, a group a flatline rule started
// tracking, a step of its remediation (EventRemediation).
type Event struct {
	T time.Time `json:"time"`
	// Kind is one of the Event* constants.
	Kind string `json:"kind"`
	// Rule is the key of the rule; Alertname its name.
	Rule        string            `json:"rule"`
	Alertname   string            `json:"alertname"`
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels,omitempty"`
	// From and To are the states of a state change.
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	Severity string `json:"severity,omitempty"`
	Value    number `json:"value,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// By and Comment are who acted and what they wrote, for acks, notes
	// and retirements.
	By      string `json:"by,omitempty"`
	Comment string `json:"comment,omitempty"`
	// Remediation is the step of a remediation event: its command's
	// output and exit status, or its escalation.
	Remediation *remediate.Record `json:"remediation,omitempty"`
}

// The kinds of Event.
const (
	EventState   = "state"
	EventAck     = "ack"
	EventUnack   = "unack"
	EventNote    = "note"
	EventRetire  = "retire"
	EventTracked = "tracked"
)
