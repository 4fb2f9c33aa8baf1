package notify

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// Stepping by hand: what a backtest (alerting's POST
// /api/v1/alerting/test) uses instead of Run. It moves the Notifier's
// clock itself and flushes each group when its timer comes due, so the
// send decisions are those Run would make at those times; the
// notifications stay in the outbox, where TakeOutbox collects them, and
// nothing is delivered.

// Sent is one notification that entered the outbox for one integration.
type Sent struct {
	Receiver     string
	Integration  string
	Notification receiver.Notification
}

// NextFlush returns the earliest time a group is due to flush, and false
// when the dispatcher holds no group.
func (n *Notifier) NextFlush() (time.Time, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	var next time.Time
	for _, g := range n.groups {
		if next.IsZero() || g.next.Before(next) {
			next = g.next
		}
	}
	return next, !next.IsZero()
}

// FlushDue flushes the groups due at the Notifier's clock, as Run's
// timer does every second. Do not call it while Run runs.
func (n *Notifier) FlushDue() error { return n.flushDue(false) }

// TakeOutbox removes every notification from the outbox and returns
// them in the order they were made. Do not call it while Run runs.
func (n *Notifier) TakeOutbox() ([]Sent, error) {
	var out []Sent
	err := n.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		var keys [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			var r outboxRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode outbox entry %x: %w", k, err)
			}
			s := Sent{Receiver: r.Receiver, Integration: r.Integration}
			if err := json.Unmarshal(r.Notification, &s.Notification); err != nil {
				return fmt.Errorf("decode notification of outbox entry %x: %w", k, err)
			}
			out = append(out, s)
			keys = append(keys, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take the outbox: %w", err)
	}
	o := n.outbox
	o.mu.Lock()
	for _, q := range o.queues {
		q.entries = q.entries[:0]
	}
	o.mu.Unlock()
	return out, nil
}

// CopySilences stores the silences sils as they are (IDs, times and
// all), replacing any of the same ID, without the checks of Set: they
// are another store's silences, replayed at the times they covered.
func (s *Silences) CopySilences(sils []Silence) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(sils...)
}
