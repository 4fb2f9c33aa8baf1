package receiver

import (
	"encoding/json"
	"math"
	"time"
)

// Alert is one alert inside a Notification: Alertmanager's alert shape
// (the webhook payload's "alerts" items) plus outpost's own fields, which
// the senders put where their peer has room for them.
type Alert struct {
	// Status is "firing" or "resolved".
	Status string `json:"status"`
	// Labels identify the alert; they include alertname and, for rules
	// with warn/crit conditions, severity ("warning" or "critical").
	Labels map[string]string `json:"labels"`
	// Annotations are the rule's annotations, templates expanded.
	Annotations map[string]string `json:"annotations"`
	// StartsAt is when the alert started firing (first went pending for
	// rules with "for"); EndsAt is when it resolved, zero while firing.
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
	// GeneratorURL links to the rule's expression on outpost.
	GeneratorURL string `json:"generatorURL"`
	// Fingerprint is the hex hash of Labels, stable across restarts.
	Fingerprint string `json:"fingerprint"`

	// outpost's fields.

	// Severity is "warning", "critical" or "" (the rule has no levels).
	Severity string `json:"severity,omitempty"`
	// Value is the value of the rule's expression at the last evaluation.
	Value float64 `json:"value"`
	// Reason says why, CloudWatch style: "3 of the last 3 datapoints
	// [92.1 (10:31:00), ...] were > 90".
	Reason string `json:"reason,omitempty"`
	// Kind is "" for an ordinary alert, "retired" for the one notice sent
	// when a flatline group is retired (its Status is "resolved"), and
	// "insufficient_data" for a rule whose data went missing under
	// missing_data: missing.
	Kind string `json:"kind,omitempty"`
	// RepeatInterval, when positive, overrides the route's
	// repeat_interval for this alert (the rule's repeat for its severity).
	RepeatInterval time.Duration `json:"-"`
	// Acked marks an alert an operator acknowledged: it is not repeated
	// while firing at the same severity, but its resolution is sent.
	Acked bool `json:"-"`
	// Inhibited marks an alert whose source went silent as a whole (a
	// flatline alert speaks for it): it is neither repeated nor resolved.
	Inhibited bool `json:"-"`
}

// Firing reports whether a is firing.
func (a *Alert) Firing() bool { return a.Status == StatusFiring }

// The values of Alert.Status and Notification.Status.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is one message to one receiver: the alerts of one
// aggregation group at one flush, as Alertmanager's webhook payload holds
// them. ID is stable: a notification retried after a crash or restart
// keeps it, so a receiver can drop duplicates.
type Notification struct {
	ID          string            `json:"id"`
	Receiver    string            `json:"receiver"`
	GroupKey    string            `json:"groupKey"`
	GroupLabels map[string]string `json:"groupLabels"`
	// Status is "firing" when any alert fires, else "resolved".
	Status string  `json:"status"`
	Alerts []Alert `json:"alerts"`
	// ExternalURL is outpost's own address, for links back.
	ExternalURL string `json:"externalURL"`
	// CreatedAt is when the notification was put in the outbox.
	CreatedAt time.Time `json:"createdAt"`
	// GroupInterval is the route's group_interval: how often the group's
	// alerts can be sent again, so a peer that forgets firing alerts
	// (Alertmanager, see Resender) is told to keep them at least that long.
	GroupInterval time.Duration `json:"groupInterval,omitempty"`
}

// CommonLabels returns the labels every alert of n has with the same value.
func (n *Notification) CommonLabels() map[string]string {
	return common(n.Alerts, func(a *Alert) map[string]string { return a.Labels })
}

// CommonAnnotations returns the annotations every alert of n has with the
// same value.
func (n *Notification) CommonAnnotations() map[string]string {
	return common(n.Alerts, func(a *Alert) map[string]string { return a.Annotations })
}

func common(as []Alert, get func(*Alert) map[string]string) map[string]string {
	out := map[string]string{}
	if len(as) == 0 {
		return out
	}
	for k, v := range get(&as[0]) {
		out[k] = v
	}
	for i := 1; i < len(as); i++ {
		m := get(&as[i])
		for k, v := range out {
			if m[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

// MarshalJSON writes a as its JSON form, with a Value that is NaN or
// infinite left out (JSON has no such numbers), so a notification always
// encodes, in the outbox as anywhere.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
		return json.Marshal(plain(a))
	}
	return json.Marshal(struct {
		plain
		Value *float64 `json:"value,omitempty"`
	}{plain: plain(a)})
}
