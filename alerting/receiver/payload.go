package receiver

import (
	"math"
	"strconv"
	"time"
)

// webhookMessage is Alertmanager's webhook payload, version 4, with
// outpost's extra keys (notificationId; per alert severity, value, reason,
// kind), which Alertmanager's consumers ignore. The fields are in the
// order Alertmanager writes them (its template.Data first, then version,
// groupKey, truncatedAlerts), so the two payloads diff cleanly.
type webhookMessage struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []webhookAlert    `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	NotificationID    string            `json:"notificationId"`
}

// webhookAlert is one item of webhookMessage.Alerts.
type webhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
	Severity     string            `json:"severity,omitempty"`
	// Value is absent when the alert's value is NaN or infinite, which
	// JSON cannot hold.
	Value  *float64 `json:"value,omitempty"`
	Reason string   `json:"reason,omitempty"`
	Kind   string   `json:"kind,omitempty"`
}

// newWebhookMessage builds n's payload, keeping the first maxAlerts alerts
// when maxAlerts > 0. As in Alertmanager, status and the common labels and
// annotations describe the alerts sent, after truncation.
func newWebhookMessage(n *Notification, maxAlerts int) *webhookMessage {
	alerts := n.Alerts
	var truncated uint64
	if maxAlerts > 0 && len(alerts) > maxAlerts {
		truncated = uint64(len(alerts) - maxAlerts)
		alerts = alerts[:maxAlerts]
	}
	sent := *n
	sent.Alerts = alerts
	m := &webhookMessage{
		Receiver:          n.Receiver,
		Status:            statusOf(&sent),
		Alerts:            make([]webhookAlert, len(alerts)),
		GroupLabels:       nonNil(n.GroupLabels),
		CommonLabels:      sent.CommonLabels(),
		CommonAnnotations: sent.CommonAnnotations(),
		ExternalURL:       n.ExternalURL,
		Version:           "4",
		GroupKey:          n.GroupKey,
		TruncatedAlerts:   truncated,
		NotificationID:    n.ID,
	}
	for i := range alerts {
		m.Alerts[i] = newWebhookAlert(&alerts[i])
	}
	return m
}

// newWebhookAlert converts one alert; a firing alert's zero EndsAt stays
// zero, which encodes as 0001-01-01T00:00:00Z as Alertmanager writes it.
func newWebhookAlert(a *Alert) webhookAlert {
	w := webhookAlert{
		Status:       a.Status,
		Labels:       nonNil(a.Labels),
		Annotations:  nonNil(a.Annotations),
		StartsAt:     a.StartsAt.UTC(),
		EndsAt:       a.EndsAt.UTC(),
		GeneratorURL: a.GeneratorURL,
		Fingerprint:  a.Fingerprint,
		Severity:     a.Severity,
		Reason:       a.Reason,
		Kind:         a.Kind,
	}
	if !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
		v := a.Value
		w.Value = &v
	}
	return w
}

// statusOf returns "firing" when any alert of n fires, else "resolved";
// a notification without alerts keeps its own Status.
func statusOf(n *Notification) string {
	if len(n.Alerts) == 0 {
		return n.Status
	}
	for i := range n.Alerts {
		if n.Alerts[i].Firing() {
			return StatusFiring
		}
	}
	return StatusResolved
}

// withoutResolved returns n as an integration whose send_resolved is false
// sees it: its resolved alerts removed, as Alertmanager does. It returns
// nil when nothing is left to send.
func withoutResolved(n *Notification, sendResolved bool) *Notification {
	if sendResolved {
		return n
	}
	firing := make([]Alert, 0, len(n.Alerts))
	for _, a := range n.Alerts {
		if a.Firing() {
			firing = append(firing, a)
		}
	}
	if len(firing) == 0 {
		return nil
	}
	if len(firing) == len(n.Alerts) {
		return n
	}
	out := *n
	out.Alerts = firing
	out.Status = StatusFiring
	return &out
}

// nonNil returns m, or an empty map for nil, so JSON shows {} not null.
func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// formatValue prints an alert value for people: integers without a
// fraction, other values with six significant digits.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}
