package alerting

import (
	"encoding/binary"
	"encoding/hex"
	"maps"
	"slices"
	"time"

	"outpost/alerting/receiver"
)

// Alert is one alert: a rule and one label set, with its state. The
// evaluator owns it; the APIs get copies.
type Alert struct {
	// Rule is the key of the rule that owns the alert (see ruleKey).
	Rule string `json:"rule"`
	// Labels identify the alert within its rule: the series' labels, the
	// group's and rule's labels and alertname. A rule with warn/crit
	// levels adds severity only to what it sends, so an escalation keeps
	// the alert.
	Labels map[string]string `json:"labels"`
	// Annotations are the rule's annotations expanded at the last
	// evaluation that changed the state or the value.
	Annotations map[string]string `json:"annotations,omitempty"`
	State       State             `json:"state"`
	// Level is the breach level the alert is pending or firing at.
	Level Level `json:"level"`
	// Value is the value of the rule's expression at the last evaluation
	// that had one.
	Value number `json:"value"`
	// Points are the last datapoints (at most the rule's N), oldest first.
	Points []Datapoint `json:"points,omitempty"`
	// Reason says why the alert is in its state, CloudWatch style.
	Reason string `json:"reason,omitempty"`
	// ActiveAt is when the current breach began (pending or firing).
	ActiveAt time.Time `json:"activeAt,omitzero"`
	// FiredAt is when the alert last went firing; ResolvedAt when it last
	// resolved.
	FiredAt    time.Time `json:"firedAt,omitzero"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	// LastBreach is the last evaluation that breached.
	LastBreach time.Time `json:"lastBreach,omitzero"`
	// KeepFiringSince is the first evaluation of a firing alert that did
	// not breach; keep_firing_for counts from it (as Prometheus does).
	KeepFiringSince time.Time `json:"keepFiringSince,omitzero"`
	// LastSeen is the last evaluation at which the series had a value.
	LastSeen time.Time `json:"lastSeen,omitzero"`
	// Held is set while the alert's source is silent as a whole: a
	// flatline alert speaks for it, so it neither resolves nor goes
	// missing, and is not repeated.
	Held bool `json:"held,omitempty"`
	// Ack is the operator's acknowledgement of the current firing, if any;
	// it ends when the alert resolves or changes severity.
	Ack *Ack `json:"ack,omitempty"`

	// stored is set while alerting.db holds the alert.
	stored bool
}

// Datapoint is one evaluation of an alert's series.
type Datapoint struct {
	T     time.Time `json:"t"`
	V     number    `json:"v"`
	Level Level     `json:"l"`
}

// Ack is an operator's acknowledgement of a firing alert.
type Ack struct {
	By      string    `json:"by"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// Active reports whether a is pending or firing.
func (a *Alert) Active() bool { return a.State == StatePending || a.State == StateFiring }

// Fingerprint is the stable identity of a within its rule: the hex FNV-1a
// hash of its sorted labels.
func (a *Alert) Fingerprint() string { return fingerprint(a.Labels) }

// fingerprint hashes a label set in sorted order, names and values
// separated by bytes that labels cannot hold. It is FNV-1a (hash/fnv's
// New64a) written out, so that the one allocation is the result: a round
// takes several fingerprints of every alert.
func fingerprint(ls map[string]string) string {
	var buf [16]string
	keys := buf[:0]
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	h := fnvOffset64
	for _, k := range keys {
		h = fnvString(h, k)
		h = (h ^ 0xff) * fnvPrime64
		h = fnvString(h, ls[k])
		h = (h ^ 0xfe) * fnvPrime64
	}
	var sum [8]byte
	binary.BigEndian.PutUint64(sum[:], h)
	var out [16]byte
	hex.Encode(out[:], sum[:])
	return string(out[:])
}

// FNV-1a's 64-bit parameters (hash/fnv).
const (
	fnvOffset64 uint64 = 14695981039346656037
	fnvPrime64  uint64 = 1099511628211
)

// fnvString folds s into the FNV-1a hash h.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime64
	}
	return h
}

// sentLabels are the labels notifications carry: the alert's labels plus
// severity for a rule with levels.
func (a *Alert) sentLabels() map[string]string {
	sev := a.Level.Severity()
	if sev == "" {
		return a.Labels
	}
	out := maps.Clone(a.Labels)
	out["severity"] = sev
	return out
}

// severity is the alert's severity as notifications name it.
func (a *Alert) severity() string {
	if s := a.Level.Severity(); s != "" {
		return s
	}
	return a.Labels["severity"]
}

// clone returns a deep copy of a.
func (a *Alert) clone() *Alert {
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Annotations = maps.Clone(a.Annotations)
	c.Points = slices.Clone(a.Points)
	if a.Ack != nil {
		ack := *a.Ack
		c.Ack = &ack
	}
	return &c
}

// message is a as the dispatcher takes it. kind is "" or a receiver
// Alert kind ("retired", "insufficient_data").
func (a *Alert) message(status, kind, generatorURL string, repeat time.Duration) receiver.Alert {
	ls := a.sentLabels()
	m := receiver.Alert{
		Status:         status,
		Labels:         ls,
		Annotations:    a.Annotations,
		StartsAt:       a.ActiveAt,
		GeneratorURL:   generatorURL,
		Fingerprint:    fingerprint(ls),
		Severity:       a.severity(),
		Value:          float64(a.Value),
		Reason:         a.Reason,
		Kind:           kind,
		RepeatInterval: repeat,
		Acked:          a.Ack != nil,
		Inhibited:      a.Held,
	}
	if status == receiver.StatusResolved {
		m.EndsAt = a.ResolvedAt
	}
	return m
}
