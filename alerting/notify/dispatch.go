package notify

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// Put takes the current state of alerts. Identity is Fingerprint (one
// computed from Labels when it is empty). Put a firing alert at every
// evaluation and a resolved one (Status resolved, EndsAt set) when it
// ends; an alert put once and never resolved stays firing. Put copies the
// Labels and Annotations maps. It does no I/O.
func (n *Notifier) Put(alerts ...receiver.Alert) {
	now := n.now()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range alerts {
		a.Labels = maps.Clone(a.Labels)
		a.Annotations = maps.Clone(a.Annotations)
		if a.Fingerprint == "" {
			a.Fingerprint = fingerprint(a.Labels)
		}
		if a.Status != receiver.StatusResolved {
			a.Status = receiver.StatusFiring
		}
		h := n.alerts[a.Fingerprint]
		if h == nil {
			h = &held{groups: map[*group]struct{}{}}
			n.alerts[a.Fingerprint] = h
		}
		h.alert = a
		if h.gen != n.gen || len(h.groups) != h.routed {
			n.route(h, now, nil)
		}
	}
}

// flushPlan is what one group's flush writes.
type flushPlan struct {
	g     *group
	recv  string
	gone  []string             // resolved fingerprints, dropped from the group once committed
	sends []plannedSend        // one per integration that gets a notification
	logs  map[string]*logEntry // new notification log entries by log key
}

type plannedSend struct {
	integration string
	logKey      string
	n           receiver.Notification
}

// flushDue flushes the groups whose time has come, or every group with
// all: it decides per integration what to send, then writes the
// notification log entries and the outbox entries in one bbolt
// transaction. When that fails nothing changes but the groups' timers.
func (n *Notifier) flushDue(all bool) error {
	n.flushMu.Lock()
	defer n.flushMu.Unlock()
	now := n.now()
	plans := n.plan(now, all)
	if len(plans) == 0 {
		return nil
	}
	items, err := n.commit(plans, now)
	if err != nil {
		return err
	}
	n.apply(plans, items)
	return nil
}

// plan decides the due groups' flushes. The caller holds n.flushMu.
func (n *Notifier) plan(now time.Time, all bool) []flushPlan {
	n.mu.Lock()
	defer n.mu.Unlock()
	var due []*group
	for _, g := range n.groups {
		if all || !now.Before(g.next) {
			due = append(due, g)
		}
	}
	if len(due) == 0 {
		return nil
	}
	slices.SortFunc(due, func(a, b *group) int { return cmp.Compare(a.key, b.key) })
	in := n.newInhibitor()
	plans := make([]flushPlan, 0, len(due))
	for _, g := range due {
		g.next = now.Add(g.node.GroupInterval)
		st, gone := n.groupState(g, in)
		p := flushPlan{g: g, recv: g.node.Receiver, gone: gone, logs: map[string]*logEntry{}}
		for _, integ := range n.integrations[p.recv] {
			lk := logKey(g.key, p.recv, integ.Name())
			d := decide(n.nflog[lk], st.forIntegration(integ), integ.SendResolved(), now)
			if d.entry != nil {
				d.entry.GroupKey, d.entry.Receiver, d.entry.Integration = g.key, p.recv, integ.Name()
				p.logs[lk] = d.entry
			}
			if d.send {
				nt := n.notification(g, p.recv, d.alerts)
				nt.GroupInterval = g.node.GroupInterval
				p.sends = append(p.sends, plannedSend{integration: integ.Name(), logKey: lk, n: nt})
			}
		}
		if len(p.sends) > 0 || len(p.logs) > 0 || len(gone) > 0 {
			plans = append(plans, p)
		}
	}
	return plans
}

// commit writes the plans' log entries and outbox entries in one
// transaction and returns the outbox entries to schedule. All sends of one
// group share one notification ID.
func (n *Notifier) commit(plans []flushPlan, now time.Time) (map[qkey][]queued, error) {
	items := map[qkey][]queued{}
	err := n.db.Update(func(tx *bolt.Tx) error {
		for i := range plans {
			p := &plans[i]
			id := ""
			for j := range p.sends {
				s := &p.sends[j]
				if id == "" {
					var err error
					if id, err = nextNotificationID(tx, n.dbID); err != nil {
						return err
					}
				}
				s.n.ID, s.n.CreatedAt = id, now
				p.logs[s.logKey].ID = id
				k := qkey{p.recv, s.integration}
				q, err := n.outbox.insert(tx, k, &s.n)
				if err != nil {
					return err
				}
				items[k] = append(items[k], q)
			}
			for _, lk := range slices.Sorted(maps.Keys(p.logs)) {
				if err := putLog(tx, lk, p.logs[lk]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store flush of %d groups: %w", len(plans), err)
	}
	return items, nil
}

// apply makes a committed flush visible: the log entries, the resolved
// alerts leaving their groups (unless re-put firing meanwhile), empty
// groups going away, and the outbox entries scheduled. The caller holds
// n.flushMu.
func (n *Notifier) apply(plans []flushPlan, items map[qkey][]queued) {
	for _, p := range plans {
		maps.Copy(n.nflog, p.logs)
	}
	n.mu.Lock()
	for _, p := range plans {
		g := p.g
		for _, fp := range p.gone {
			h := n.alerts[fp]
			if _, in := g.fps[fp]; h == nil || h.alert.Firing() || !in {
				continue
			}
			delete(g.fps, fp)
			delete(h.groups, g)
			if len(h.groups) == 0 {
				delete(n.alerts, fp)
			}
		}
		if len(g.fps) == 0 && n.groups[g.key] == g {
			delete(n.groups, g.key)
		}
	}
	n.mu.Unlock()
	for k, qs := range items {
		n.outbox.add(k, qs...)
	}
}

// gcLog deletes the notification log entries not written for the
// retention whose group the dispatcher no longer holds, and returns how
// many.
func (n *Notifier) gcLog() (int, error) {
	n.flushMu.Lock()
	defer n.flushMu.Unlock()
	now := n.now()
	var old []string
	n.mu.Lock()
	for lk, e := range n.nflog {
		if _, live := n.groups[e.GroupKey]; !live && !now.Before(e.SentAt.Add(n.logRetention)) {
			old = append(old, lk)
		}
	}
	n.mu.Unlock()
	if len(old) == 0 {
		return 0, nil
	}
	err := n.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLog)
		for _, lk := range old {
			if err := b.Delete([]byte(lk)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete old notification log entries: %w", err)
	}
	for _, lk := range old {
		delete(n.nflog, lk)
	}
	return len(old), nil
}
