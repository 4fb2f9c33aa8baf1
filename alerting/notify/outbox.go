package notify

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// The outbox's drop reasons, the keys of IntegrationStats.Dropped.
const (
	DropExpired     = "expired"     // not delivered within the delivery time limit
	DropPermanent   = "permanent"   // the integration refused it for good (receiver.IsPermanent)
	DropUndecodable = "undecodable" // the stored entry could not be read back
)

// DefaultDeliveryTimeLimit is how long the outbox retries a notification
// (alerting.delivery_time_limit), ElastAlert's alert_time_limit.
const DefaultDeliveryTimeLimit = 48 * time.Hour

// DefaultBackoff is the pause before retry attempt (attempt >= 1 failed
// attempts so far): 1 s doubling up to 5 min, with the upper half jittered
// so that integrations failing together do not retry in step.
func DefaultBackoff(attempt int) time.Duration {
	d := 5 * time.Minute
	if attempt < 10 {
		d = min(time.Second<<max(attempt-1, 0), d)
	}
	return d/2 + rand.N(d/2+1)
}

// outboxRecord is the value of an outbox entry.
type outboxRecord struct {
	Receiver     string          `json:"receiver"`
	Integration  string          `json:"integration"`
	ID           string          `json:"id"`
	Notification json.RawMessage `json:"notification"` // receiver.Notification
	CreatedAt    time.Time       `json:"createdAt"`
	Attempts     int             `json:"attempts"`
	NextAttempt  time.Time       `json:"nextAttempt"`
	LastError    string          `json:"lastError,omitempty"`
}

// qkey names an integration of a receiver: one outbox queue.
type qkey struct{ receiver, integration string }

// queued is an outbox entry as the delivery loop tracks it in memory.
type queued struct {
	seq      uint64
	id       string
	created  time.Time
	next     time.Time
	attempts int
}

// queue is the entries of one integration in ascending sequence; only the
// head is ever in flight, so an integration gets its notifications in order.
type queue struct {
	entries []queued
	busy    bool // the head is being delivered or dropped
}

// outbox keeps the notifications still to deliver, in the notify_outbox
// bucket and, for scheduling, in memory.
type outbox struct {
	db          *bolt.DB
	log         *slog.Logger
	now         func() time.Time
	backoff     func(int) time.Duration
	limit       time.Duration
	concurrency int
	drain       time.Duration // how long sends in flight may go on after Run's context ended
	wake        chan struct{} // capacity 1: "something changed, look again"

	mu           sync.Mutex // guards queues, integrations, inflight and stats
	queues       map[qkey]*queue
	integrations map[string][]receiver.Integration
	inflight     int
	stats        map[qkey]*IntegrationStats
}

func newOutbox(db *bolt.DB, opts *Options, log *slog.Logger) *outbox {
	return &outbox{
		db: db, log: log, now: opts.Now, backoff: opts.Backoff, limit: opts.DeliveryTimeLimit,
		concurrency: opts.Concurrency, drain: opts.ShutdownTimeout, wake: make(chan struct{}, 1),
		queues: map[qkey]*queue{}, integrations: opts.Integrations, stats: map[qkey]*IntegrationStats{},
	}
}

// load reads the stored entries into the queues.
func (o *outbox) load() error {
	var bad [][]byte
	err := o.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			var r outboxRecord
			if len(k) != 8 || json.Unmarshal(v, &r) != nil {
				bad = append(bad, append([]byte(nil), k...))
				return nil
			}
			o.addLocked(qkey{r.Receiver, r.Integration}, queued{
				seq: binary.BigEndian.Uint64(k), id: r.ID, created: r.CreatedAt, next: r.NextAttempt, attempts: r.Attempts,
			})
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("load outbox: %w", err)
	}
	o.mu.Lock()
	o.warnOrphansLocked()
	o.mu.Unlock()
	for _, k := range bad {
		o.log.Error("dropping undecodable outbox entry", attrKey, fmt.Sprintf("%x", k))
		o.count(qkey{}, func(s *IntegrationStats) { s.Dropped[DropUndecodable]++ })
		if err := o.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(k) }); err != nil {
			return fmt.Errorf("drop outbox entry: %w", err)
		}
	}
	return nil
}

// insert stores the notification n for integration k in tx and returns
// the entry to schedule once tx has committed.
func (o *outbox) insert(tx *bolt.Tx, k qkey, n *receiver.Notification) (queued, error) {
	body, err := json.Marshal(n)
	if err != nil {
		return queued{}, fmt.Errorf("encode notification: %w", err)
	}
	r := outboxRecord{Receiver: k.receiver, Integration: k.integration, ID: n.ID, Notification: body,
		CreatedAt: n.CreatedAt, NextAttempt: n.CreatedAt}
	v, err := json.Marshal(&r)
	if err != nil {
		return queued{}, err
	}
	b := tx.Bucket(bucketOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return queued{}, err
	}
	if err := b.Put(seqKey(seq), v); err != nil {
		return queued{}, err
	}
	return queued{seq: seq, id: n.ID, created: n.CreatedAt, next: n.CreatedAt}, nil
}

// add schedules committed entries and wakes the delivery loop.
func (o *outbox) add(k qkey, qs ...queued) {
	o.mu.Lock()
	for _, q := range qs {
		o.addLocked(k, q)
	}
	o.mu.Unlock()
	o.signal()
}

func (o *outbox) addLocked(k qkey, q queued) {
	qu := o.queues[k]
	if qu == nil {
		qu = &queue{}
		o.queues[k] = qu
	}
	qu.entries = append(qu.entries, q)
}

func (o *outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// setIntegrations replaces the integrations (Reload) and logs the queues
// whose integration is gone: their entries stay until the time limit.
func (o *outbox) setIntegrations(integrations map[string][]receiver.Integration) {
	o.mu.Lock()
	o.integrations = integrations
	o.warnOrphansLocked()
	o.mu.Unlock()
	o.signal()
}

// warnOrphansLocked logs each queue whose integration is not configured,
// at Open and at each Reload. The caller holds o.mu.
func (o *outbox) warnOrphansLocked() {
	for k, q := range o.queues {
		if len(q.entries) > 0 && o.lookupLocked(k) == nil {
			o.log.Warn("integration not configured; its outbox entries are kept until the delivery time limit",
				attrReceiver, k.receiver, attrIntegration, k.integration, attrEntries, len(q.entries))
		}
	}
}

func (o *outbox) lookupLocked(k qkey) receiver.Integration {
	for _, in := range o.integrations[k.receiver] {
		if in.Name() == k.integration {
			return in
		}
	}
	return nil
}

// count applies f to the counters of k. It takes o.mu.
func (o *outbox) count(k qkey, f func(*IntegrationStats)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.countLocked(k, f)
}

func (o *outbox) countLocked(k qkey, f func(*IntegrationStats)) {
	s := o.stats[k]
	if s == nil {
		s = &IntegrationStats{Receiver: k.receiver, Integration: k.integration, Dropped: map[string]uint64{}}
		o.stats[k] = s
	}
	f(s)
}
