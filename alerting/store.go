package alerting

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The buckets of alerting.db that the evaluator owns (alerting/notify
// owns the notify_* buckets of the same file).
var (
	bucketAlerts   = []byte("alerts")   // ruleKey 0x00 fingerprint -> Alert (JSON)
	bucketFlatline = []byte("flatline") // ruleKey 0x00 fingerprint -> flatGroup (JSON)
	bucketHistory  = []byte("history")  // ns timestamp (8, big-endian) | seq (8) -> Event (JSON)
)

// store keeps the evaluator's state in alerting.db: the alerts that are
// not inactive, the flatline rules' groups, and the history. Each group
// evaluation writes its changes in one transaction.
type store struct {
	db *bolt.DB
}

func openStore(db *bolt.DB) (*store, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAlerts, bucketFlatline, bucketHistory} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("create bucket %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &store{db: db}, nil
}

// stateKey is the key of an alert or a flatline group.
func stateKey(rule, fp string) []byte {
	k := make([]byte, 0, len(rule)+1+len(fp))
	k = append(k, rule...)
	k = append(k, 0)
	return append(k, fp...)
}

// change is what one evaluation round writes.
type change struct {
	alerts  []*Alert     // put (JSON of the alert)
	deleted []*Alert     // delete
	groups  []groupWrite // flatline groups, put or delete
	events  []Event
}

// groupWrite is one flatline group to put, or to delete when g is nil.
type groupWrite struct {
	rule, fp string
	g        *flatGroup
}

func (c *change) empty() bool {
	return len(c.alerts) == 0 && len(c.deleted) == 0 && len(c.groups) == 0 && len(c.events) == 0
}

// write applies c in one transaction.
func (s *store) write(c *change) error {
	if c.empty() {
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		ab, fb := tx.Bucket(bucketAlerts), tx.Bucket(bucketFlatline)
		for _, a := range c.deleted {
			if err := ab.Delete(stateKey(a.Rule, a.Fingerprint())); err != nil {
				return fmt.Errorf("delete alert: %w", err)
			}
		}
		for _, a := range c.alerts {
			b, err := json.Marshal(a)
			if err != nil {
				return fmt.Errorf("encode alert: %w", err)
			}
			if err := ab.Put(stateKey(a.Rule, a.Fingerprint()), b); err != nil {
				return fmt.Errorf("store alert: %w", err)
			}
		}
		for _, gw := range c.groups {
			k := stateKey(gw.rule, gw.fp)
			if gw.g == nil {
				if err := fb.Delete(k); err != nil {
					return fmt.Errorf("delete flatline group: %w", err)
				}
				continue
			}
			b, err := json.Marshal(gw.g)
			if err != nil {
				return fmt.Errorf("encode flatline group: %w", err)
			}
			if err := fb.Put(k, b); err != nil {
				return fmt.Errorf("store flatline group: %w", err)
			}
		}
		return appendEvents(tx.Bucket(bucketHistory), c.events)
	})
}

// appendEvents appends events to the history bucket, keyed by time and
// the bucket's sequence so keys only grow.
func appendEvents(b *bolt.Bucket, events []Event) error {
	for _, e := range events {
		seq, err := b.NextSequence()
		if err != nil {
			return fmt.Errorf("history sequence: %w", err)
		}
		v, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		var k [16]byte
		binary.BigEndian.PutUint64(k[:8], uint64(e.T.UnixNano()))
		binary.BigEndian.PutUint64(k[8:], seq)
		if err := b.Put(k[:], v); err != nil {
			return fmt.Errorf("store event: %w", err)
		}
	}
	return nil
}

// loadRule returns the stored alerts and flatline groups of one rule.
func (s *store) loadRule(rule string) (alerts []*Alert, groups map[string]*flatGroup, err error) {
	prefix := stateKey(rule, "")
	groups = map[string]*flatGroup{}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAlerts).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var a Alert
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode alert %q: %w", k, err)
			}
			alerts = append(alerts, &a)
		}
		c = tx.Bucket(bucketFlatline).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			var g flatGroup
			if err := json.Unmarshal(v, &g); err != nil {
				return fmt.Errorf("decode flatline group %q: %w", k, err)
			}
			groups[string(k[len(prefix):])] = &g
		}
		return nil
	})
	return alerts, groups, err
}

// history returns the events in [from, to] that keep returns true for,
// newest first, at most limit (0: all).
func (s *store) history(from, to time.Time, limit int, keep func(*Event) bool) ([]Event, error) {
	var out []Event
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		var hi [16]byte
		binary.BigEndian.PutUint64(hi[:8], uint64(to.UnixNano()))
		for i := 8; i < 16; i++ {
			hi[i] = 0xff
		}
		k, v := c.Seek(hi[:])
		if k == nil {
			k, v = c.Last()
		} else if string(k) > string(hi[:]) {
			k, v = c.Prev()
		}
		for ; k != nil; k, v = c.Prev() {
			if int64(binary.BigEndian.Uint64(k[:8])) < from.UnixNano() {
				break
			}
			var e Event
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode event: %w", err)
			}
			if keep(&e) {
				out = append(out, e)
				if limit > 0 && len(out) >= limit {
					break
				}
			}
		}
		return nil
	})
	return out, err
}

// pruneHistory deletes the events older than cutoff, at most 10,000 at a
// time so a transaction stays small; it returns how many went.
func (s *store) pruneHistory(cutoff time.Time) (int, error) {
	var old [][]byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHistory)
		c := b.Cursor()
		for k, _ := c.First(); k != nil && len(old) < 10000; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[:8])) >= cutoff.UnixNano() {
				break
			}
			old = append(old, append([]byte(nil), k...)) // deleting under a cursor would skip keys
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("prune history: %w", err)
			}
		}
		return nil
	})
	return len(old), err
}

func hasPrefix(k, p []byte) bool { return len(k) >= len(p) && string(k[:len(p)]) == string(p) }

// orphans returns the stored alerts and flatline groups' alerts whose
// rule key is not in keep, and deletes them: their rules were removed
// while outpost was down.
func (s *store) orphans(keep func(rule string) bool) ([]*Alert, error) {
	var out []*Alert
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAlerts, bucketFlatline} {
			b := tx.Bucket(name)
			var dead [][]byte
			err := b.ForEach(func(k, v []byte) error {
				rule, _, _ := strings.Cut(string(k), "\x00")
				if keep(rule) {
					return nil
				}
				dead = append(dead, append([]byte(nil), k...))
				a := &Alert{}
				if string(name) == string(bucketFlatline) {
					var g flatGroup
					if json.Unmarshal(v, &g) != nil || g.Alert == nil {
						return nil
					}
					a = g.Alert
				} else if json.Unmarshal(v, a) != nil {
					return nil
				}
				out = append(out, a)
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("delete state of a removed rule: %w", err)
				}
			}
		}
		return nil
	})
	return out, err
}
