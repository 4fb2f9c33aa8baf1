package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// logEntry is the notification log's record of what one integration of a
// receiver was last told about one group: Alertmanager's nflog entry.
type logEntry struct {
	GroupKey    string `json:"groupKey"`
	Receiver    string `json:"receiver"`
	Integration string `json:"integration"`
	// Firing holds the fingerprints the integration believes are firing:
	// those of the last notification, less the ones that resolved since
	// without a notification saying so. Sorted.
	Firing []string `json:"firing"`
	// Resolved holds the fingerprints the last notification reported
	// resolved. Sorted.
	Resolved []string `json:"resolved"`
	// SentAt is when the last notification was put in the outbox, and ID
	// its notification ID.
	SentAt time.Time `json:"sentAt"`
	ID     string    `json:"id"`
}

// logKey is the key of an entry in memory and in notify_nflog.
func logKey(groupKey, recv, integration string) string {
	return groupKey + "\x00" + recv + "\x00" + integration
}

func loadLog(tx *bolt.Tx) (map[string]*logEntry, error) {
	out := map[string]*logEntry{}
	err := tx.Bucket(bucketLog).ForEach(func(k, v []byte) error {
		var e logEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("notification log entry %q: %w", k, err)
		}
		out[string(k)] = &e
		return nil
	})
	return out, err
}

func putLog(tx *bolt.Tx, key string, e *logEntry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketLog).Put([]byte(key), v)
}

// flushState is one group at a flush as a receiver may be shown it.
type flushState struct {
	// firing and resolved are the group's alerts that are neither
	// silenced nor inhibited, sorted by StartsAt and fingerprint.
	firing   []receiver.Alert
	resolved []receiver.Alert
	// gone holds the fingerprints of every resolved alert of the group,
	// muted or not.
	gone map[string]bool
	// repeat is the route's repeat_interval.
	repeat time.Duration
}

// forIntegration is st as integ must see it. An integration whose peer
// forgets firing alerts (a receiver.Resender: Alertmanager) gets them
// again at least every ResendInterval (and so at every flush when that
// is shorter than group_interval), acknowledged ones too, since the peer
// must keep them; other integrations see st itself.
func (st *flushState) forIntegration(integ receiver.Integration) *flushState {
	r, ok := integ.(receiver.Resender)
	if !ok {
		return st
	}
	c := *st
	c.firing = slices.Clone(st.firing)
	for i := range c.firing {
		c.firing[i].Acked, c.firing[i].RepeatInterval = false, 0
	}
	if d := r.ResendInterval(); d > 0 && (c.repeat <= 0 || d < c.repeat) {
		c.repeat = d
	}
	return &c
}

// decision is what a flush does for one integration.
type decision struct {
	send   bool
	alerts []receiver.Alert // the notification's alerts when send
	entry  *logEntry        // the new log entry; nil when unchanged
}

// decide applies Alertmanager's notification-log rule to one integration
// of a group (prev is its entry, nil if it was never notified). It sends
//
//  1. when a firing alert that is not acked is not in prev.Firing (a new
//     alert, or one the integration was never shown: first notification,
//     new alert in the group, end of a silence);
//  2. else, when the integration takes resolved notifications and an
//     alert of prev.Firing has resolved (or an alert of Kind "retired"
//     is resolved and was not reported resolved last time);
//  3. else, when some firing alert is not acked and the repeat interval
//     (the smallest positive RepeatInterval of those alerts, else the
//     route's) has passed since prev.SentAt.
//
// A notification holds every shown firing alert (acked ones too) and, for
// an integration that takes them, the resolutions of case 2. When nothing
// is sent but alerts of prev.Firing resolved, the entry forgets them, so
// that a later firing counts as new.
func decide(prev *logEntry, st *flushState, sendResolved bool, now time.Time) decision {
	var prevFiring, prevResolved []string
	if prev != nil {
		prevFiring, prevResolved = prev.Firing, prev.Resolved
	}
	newFiring, unacked := false, 0
	repeat := time.Duration(0)
	for i := range st.firing {
		a := &st.firing[i]
		if a.Acked {
			continue
		}
		unacked++
		newFiring = newFiring || !contains(prevFiring, a.Fingerprint)
		if a.RepeatInterval > 0 && (repeat == 0 || a.RepeatInterval < repeat) {
			repeat = a.RepeatInterval
		}
	}
	if repeat == 0 {
		repeat = st.repeat
	}
	var report []receiver.Alert
	for _, a := range st.resolved {
		if contains(prevFiring, a.Fingerprint) || a.Kind == "retired" && !contains(prevResolved, a.Fingerprint) {
			report = append(report, a)
		}
	}
	send := newFiring ||
		sendResolved && len(report) > 0 ||
		unacked > 0 && prev != nil && !now.Before(prev.SentAt.Add(repeat))
	if send {
		e := &logEntry{Firing: fingerprints(st.firing), SentAt: now}
		alerts := slices.Clone(st.firing)
		if sendResolved {
			alerts = append(alerts, report...)
			e.Resolved = fingerprints(report)
		}
		return decision{send: true, alerts: alerts, entry: e}
	}
	if prev == nil {
		return decision{}
	}
	kept := slices.DeleteFunc(slices.Clone(prev.Firing), func(fp string) bool { return st.gone[fp] })
	if len(kept) == len(prev.Firing) {
		return decision{}
	}
	e := *prev
	e.Firing = kept
	return decision{entry: &e}
}

// contains reports whether the sorted list fps holds fp.
func contains(fps []string, fp string) bool {
	_, ok := slices.BinarySearch(fps, fp)
	return ok
}

func fingerprints(as []receiver.Alert) []string {
	fps := make([]string, len(as))
	for i := range as {
		fps[i] = as[i].Fingerprint
	}
	slices.Sort(fps)
	return slices.Compact(fps)
}
