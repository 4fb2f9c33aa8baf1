package notify

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"outpost/alerting/receiver"
)

// held is an alert the dispatcher holds: its latest state and the groups
// it is in.
type held struct {
	alert  receiver.Alert
	groups map[*group]struct{}
	// routed is len(groups) right after the alert was last routed, on the
	// tree of generation gen. While both still hold, a re-Put need not
	// route it again.
	routed int
	gen    uint64
}

// group is an aggregation group: the alerts one route takes that have the
// same group labels. Its fields are guarded by Notifier.mu.
type group struct {
	key    string            // group key, also the key of Notifier.groups
	node   *Node             // the route (replaced by Reload)
	labels map[string]string // group labels
	fps    map[string]struct{}
	next   time.Time // next flush: group_wait after creation, then every group_interval
}

// route puts h into the groups of every route its labels match, creating
// the groups that are missing (taken from reuse when Reload kept them).
// The caller holds n.mu.
func (n *Notifier) route(h *held, now time.Time, reuse map[string]*group) {
	fp := h.alert.Fingerprint
	for _, node := range n.tree.Match(h.alert.Labels) {
		gl := node.GroupLabels(h.alert.Labels)
		key := node.GroupKey(gl)
		g := n.groups[key]
		if g == nil {
			if g = reuse[key]; g != nil {
				g.node, g.fps = node, map[string]struct{}{}
			} else {
				g = &group{key: key, node: node, labels: gl, fps: map[string]struct{}{}, next: now.Add(node.GroupWait)}
			}
			n.groups[key] = g
		}
		g.fps[fp] = struct{}{}
		h.groups[g] = struct{}{}
	}
	h.routed, h.gen = len(h.groups), n.gen
}

// newInhibitor indexes the firing alerts for the inhibit rules. The caller
// holds n.mu and uses the result only while holding it.
func (n *Notifier) newInhibitor() *inhibitor {
	return newInhibitor(n.inhibit, func(yield func(string, map[string]string) bool) {
		for fp, h := range n.alerts {
			if h.alert.Firing() && !yield(fp, h.alert.Labels) {
				return
			}
		}
	})
}

// mutes returns the silences and the inhibiting alerts of h, and whether
// it is muted at all (the caller's Inhibited flag mutes without either).
func (n *Notifier) mutes(h *held, in *inhibitor) (silencedBy, inhibitedBy []string, muted bool) {
	a := &h.alert
	silencedBy = n.silences.Mutes(a.Labels)
	inhibitedBy = in.inhibitedBy(a.Fingerprint, a.Labels)
	return silencedBy, inhibitedBy, a.Inhibited || len(silencedBy) > 0 || len(inhibitedBy) > 0
}

// groupState returns what g shows its receiver now, and the fingerprints
// of its resolved alerts. The caller holds n.mu.
func (n *Notifier) groupState(g *group, in *inhibitor) (flushState, []string) {
	st := flushState{gone: map[string]bool{}, repeat: g.node.RepeatInterval}
	var gone []string
	for fp := range g.fps {
		h := n.alerts[fp]
		firing := h.alert.Firing()
		if !firing {
			st.gone[fp] = true
			gone = append(gone, fp)
		}
		if _, _, muted := n.mutes(h, in); muted {
			continue
		}
		if firing {
			st.firing = append(st.firing, h.alert)
		} else {
			st.resolved = append(st.resolved, h.alert)
		}
	}
	sortAlerts(st.firing)
	sortAlerts(st.resolved)
	return st, gone
}

// sortAlerts orders alerts by StartsAt, then fingerprint.
func sortAlerts(as []receiver.Alert) {
	slices.SortFunc(as, func(a, b receiver.Alert) int {
		return cmp.Or(a.StartsAt.Compare(b.StartsAt), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
}

// notification returns g's notification to recv holding alerts; ID and
// CreatedAt are set when it is stored.
func (n *Notifier) notification(g *group, recv string, alerts []receiver.Alert) receiver.Notification {
	status := receiver.StatusResolved
	if slices.ContainsFunc(alerts, func(a receiver.Alert) bool { return a.Firing() }) {
		status = receiver.StatusFiring
	}
	return receiver.Notification{Receiver: recv, GroupKey: g.key, GroupLabels: maps.Clone(g.labels),
		Status: status, Alerts: alerts, ExternalURL: n.externalURL}
}

// fingerprint hashes labels (FNV-1a, 64 bits, hex) for an alert put
// without a Fingerprint.
func fingerprint(labels map[string]string) string {
	h := fnv.New64a()
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		h.Write([]byte(name))
		h.Write([]byte{0xff})
		h.Write([]byte(labels[name]))
		h.Write([]byte{0xff})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
