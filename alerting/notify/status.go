package notify

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"outpost/alerting/receiver"
)

// AlertState is an alert's state in Alertmanager's API.
type AlertState int

// The states of an alert the dispatcher holds.
const (
	// AlertActive is an alert that notifications may show.
	AlertActive AlertState = iota
	// AlertSuppressed is an alert muted by a silence, an inhibit rule or
	// its own Inhibited flag.
	AlertSuppressed
)

// String returns "active" or "suppressed", Alertmanager's words.
func (s AlertState) String() string {
	switch s {
	case AlertActive:
		return "active"
	case AlertSuppressed:
		return "suppressed"
	}
	panic(fmt.Sprintf("notify: unknown alert state %d", int(s)))
}

// AlertStatus is an alert the dispatcher holds, as GET /api/v2/alerts
// shows it.
type AlertStatus struct {
	Alert receiver.Alert
	// Receivers are the receivers of the groups the alert is in, sorted.
	Receivers []string
	// SilencedBy are the IDs of the active silences that match it, and
	// InhibitedBy the fingerprints of the alerts that inhibit it (one per
	// inhibit rule). An alert suppressed only by its Inhibited flag has
	// neither.
	SilencedBy  []string
	InhibitedBy []string
	State       AlertState
}

// GroupStatus is an aggregation group, as GET /api/v2/alerts/groups shows
// it.
type GroupStatus struct {
	Key       string
	Labels    map[string]string
	Receiver  string
	Alerts    []AlertStatus // sorted by StartsAt, then fingerprint
	NextFlush time.Time
}

// Alerts returns every alert the dispatcher holds (firing ones, and
// resolved ones until a flush has reported them), sorted by StartsAt, then
// fingerprint.
func (n *Notifier) Alerts() []AlertStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	in := n.newInhibitor()
	out := make([]AlertStatus, 0, len(n.alerts))
	for _, h := range n.alerts {
		out = append(out, n.status(h, in))
	}
	sortStatuses(out)
	return out
}

// Groups returns the aggregation groups, sorted by key.
func (n *Notifier) Groups() []GroupStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	in := n.newInhibitor()
	out := make([]GroupStatus, 0, len(n.groups))
	for _, g := range n.groups {
		gs := GroupStatus{Key: g.key, Labels: maps.Clone(g.labels), Receiver: g.node.Receiver, NextFlush: g.next}
		for fp := range g.fps {
			gs.Alerts = append(gs.Alerts, n.status(n.alerts[fp], in))
		}
		sortStatuses(gs.Alerts)
		out = append(out, gs)
	}
	slices.SortFunc(out, func(a, b GroupStatus) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Inhibited returns the fingerprints of the firing alerts that inhibit an
// alert with these labels, one per inhibit rule that applies.
func (n *Notifier) Inhibited(labels map[string]string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.newInhibitor().inhibitedBy("", labels)
}

// status describes h. The caller holds n.mu.
func (n *Notifier) status(h *held, in *inhibitor) AlertStatus {
	s := AlertStatus{Alert: h.alert}
	var muted bool
	s.SilencedBy, s.InhibitedBy, muted = n.mutes(h, in)
	if muted {
		s.State = AlertSuppressed
	}
	for g := range h.groups {
		if !slices.Contains(s.Receivers, g.node.Receiver) {
			s.Receivers = append(s.Receivers, g.node.Receiver)
		}
	}
	slices.Sort(s.Receivers)
	return s
}

func sortStatuses(ss []AlertStatus) {
	slices.SortFunc(ss, func(a, b AlertStatus) int {
		return cmp.Or(a.Alert.StartsAt.Compare(b.Alert.StartsAt), cmp.Compare(a.Alert.Fingerprint, b.Alert.Fingerprint))
	})
}

// Stats are the notifier's counters, for the caller to render on /metrics.
type Stats struct {
	Alerts int `json:"alerts"` // alerts held
	Groups int `json:"groups"` // aggregation groups
	// Integrations has one item per integration that has had an outbox
	// entry since the start, sorted by receiver and integration.
	Integrations []IntegrationStats `json:"integrations"`
}

// IntegrationStats are the outbox counters of one integration. The counters
// start at zero with the process.
type IntegrationStats struct {
	Receiver    string            `json:"receiver"`
	Integration string            `json:"integration"`
	Sent        uint64            `json:"sent"`    // notifications delivered
	Failed      uint64            `json:"failed"`  // failed attempts (each retried)
	Dropped     map[string]uint64 `json:"dropped"` // notifications given up, by DropExpired, DropPermanent, DropUndecodable
	Depth       int               `json:"depth"`   // entries waiting in the outbox
}

// Stats returns a snapshot of the counters.
func (n *Notifier) Stats() Stats {
	n.mu.Lock()
	st := Stats{Alerts: len(n.alerts), Groups: len(n.groups), Integrations: []IntegrationStats{}}
	n.mu.Unlock()
	o := n.outbox
	o.mu.Lock()
	keys := map[qkey]bool{}
	for k := range o.stats {
		keys[k] = true
	}
	for k, q := range o.queues {
		if len(q.entries) > 0 {
			keys[k] = true
		}
	}
	for k := range keys {
		s := IntegrationStats{Receiver: k.receiver, Integration: k.integration, Dropped: map[string]uint64{}}
		if c := o.stats[k]; c != nil {
			s.Sent, s.Failed, s.Dropped = c.Sent, c.Failed, maps.Clone(c.Dropped)
		}
		if q := o.queues[k]; q != nil {
			s.Depth = len(q.entries)
		}
		st.Integrations = append(st.Integrations, s)
	}
	o.mu.Unlock()
	slices.SortFunc(st.Integrations, func(a, b IntegrationStats) int {
		return cmp.Or(cmp.Compare(a.Receiver, b.Receiver), cmp.Compare(a.Integration, b.Integration))
	})
	return st
}
