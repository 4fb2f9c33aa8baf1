package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// maxIdle bounds how long the delivery loop sleeps with nothing due, as a
// guard against a missed wake-up.
const maxIdle = time.Minute

// run delivers due entries until ctx ends. Then it starts no more sends
// and gives those in flight o.drain to finish before it cancels their
// context (their entries stay, for the next start), and returns when they
// have ended.
func (o *outbox) run(ctx context.Context) {
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	var wg sync.WaitGroup
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		wait, _ := o.dispatch(sendCtx, &wg)
		t.Reset(wait)
		select {
		case <-ctx.Done():
			stop := time.AfterFunc(o.drain, cancelSends)
			wg.Wait()
			stop.Stop()
			return
		case <-o.wake:
		case <-t.C:
		}
	}
}

// deliverDue runs dispatch rounds, each waiting for its deliveries, until
// a round finds nothing due. Tests drive the outbox with it.
func (o *outbox) deliverDue(ctx context.Context) {
	for {
		var wg sync.WaitGroup
		_, worked := o.dispatch(ctx, &wg)
		wg.Wait()
		if !worked {
			return
		}
	}
}

// dispatch drops the expired heads of the queues, starts a delivery (in
// wg) for each queue whose head is due, up to the concurrency bound, and
// returns how long until the next entry is due and whether it did
// anything.
func (o *outbox) dispatch(ctx context.Context, wg *sync.WaitGroup) (time.Duration, bool) {
	type batch struct {
		k     qkey
		items []queued
	}
	var expired []batch
	now := o.now()
	wait, worked := maxIdle, false
	o.mu.Lock()
	for k, q := range o.queues {
		if q.busy || len(q.entries) == 0 {
			continue
		}
		head := q.entries[0]
		n := 0
		for n < len(q.entries) && !now.Before(q.entries[n].created.Add(o.limit)) {
			n++
		}
		if n > 0 && !head.next.After(now) {
			q.busy = true
			expired = append(expired, batch{k, append([]queued(nil), q.entries[:n]...)})
			continue
		}
		in := o.lookupLocked(k)
		switch {
		case in == nil: // receiver removed by Reload: wait for the limit
			wait = min(wait, later(head.created.Add(o.limit), head.next).Sub(now))
		case head.next.After(now):
			wait = min(wait, head.next.Sub(now))
		case o.inflight < o.concurrency:
			q.busy, worked = true, true
			o.inflight++
			wg.Go(func() { o.deliver(ctx, k, head, in) })
		}
	}
	o.mu.Unlock()
	for _, b := range expired {
		o.remove(b.k, b.items, DropExpired, nil)
		wait, worked = 0, true
	}
	return max(wait, 0), worked
}

// deliver sends one entry and records the outcome.
func (o *outbox) deliver(ctx context.Context, k qkey, item queued, in receiver.Integration) {
	defer func() {
		o.mu.Lock()
		o.inflight--
		o.mu.Unlock()
		o.signal()
	}()
	rec, n, err := o.read(item.seq)
	var bad *undecodableError
	switch {
	case errors.As(err, &bad):
		o.remove(k, []queued{item}, DropUndecodable, err)
		return
	case err != nil: // the file could not be read: try again later
		o.log.Error("cannot read outbox entry", attrReceiver, k.receiver, attrIntegration, k.integration, attrErr, err)
		o.postpone(k)
		return
	}
	err = in.Send(ctx, n)
	switch {
	case err == nil:
		o.remove(k, []queued{item}, "", nil)
	case ctx.Err() != nil: // shutting down: not an attempt; delivered after the next start
		o.release(k)
	case receiver.IsPermanent(err):
		o.remove(k, []queued{item}, DropPermanent, err)
	default:
		o.retry(k, item, rec, err)
	}
}

func (o *outbox) read(seq uint64) (*outboxRecord, *receiver.Notification, error) {
	var v []byte
	err := o.db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(bucketOutbox).Get(seqKey(seq)); got != nil {
			v = append([]byte(nil), got...)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read outbox entry %d: %w", seq, err)
	}
	if v == nil {
		return nil, nil, &undecodableError{seq, errors.New("missing")}
	}
	var r outboxRecord
	var n receiver.Notification
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, nil, &undecodableError{seq, err}
	}
	if err := json.Unmarshal(r.Notification, &n); err != nil {
		return nil, nil, &undecodableError{seq, err}
	}
	return &r, &n, nil
}

// undecodableError is an outbox entry that cannot be read back.
type undecodableError struct {
	seq uint64
	err error
}

func (e *undecodableError) Error() string {
	return fmt.Sprintf("decode outbox entry %d: %v", e.seq, e.err)
}

func (e *undecodableError) Unwrap() error { return e.err }

// remove deletes the head entries items of queue k: delivered when reason
// is "", else dropped for reason (one log line each). When the delete
// fails the entries stay queued and are delivered again later.
func (o *outbox) remove(k qkey, items []queued, reason string, cause error) {
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for _, it := range items {
			if err := b.Delete(seqKey(it.seq)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		o.log.Error("cannot delete outbox entries; they will be sent again", attrReceiver, k.receiver,
			attrIntegration, k.integration, attrErr, err)
		o.postpone(k)
		return
	}
	for _, it := range items {
		if reason == "" {
			continue
		}
		attrs := []any{attrReason, reason, attrReceiver, k.receiver, attrIntegration, k.integration,
			attrID, it.id, attrAttempts, it.attempts, attrCreatedAt, it.created}
		if cause != nil {
			attrs = append(attrs, attrErr, cause)
		}
		o.log.Warn("notification dropped", attrs...)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queues[k]
	q.entries = q.entries[len(items):]
	q.busy = false
	o.countLocked(k, func(s *IntegrationStats) {
		if reason == "" {
			s.Sent += uint64(len(items))
		} else {
			s.Dropped[reason] += uint64(len(items))
		}
	})
}

// retry records a failed attempt and schedules the next one, no later than
// the entry's deadline (where dispatch drops it).
func (o *outbox) retry(k qkey, item queued, rec *outboxRecord, cause error) {
	now := o.now()
	item.attempts++
	item.next = now.Add(o.backoff(item.attempts))
	if deadline := item.created.Add(o.limit); item.next.After(deadline) {
		item.next = deadline
	}
	rec.Attempts, rec.NextAttempt, rec.LastError = item.attempts, item.next, cause.Error()
	err := o.db.Update(func(tx *bolt.Tx) error {
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketOutbox).Put(seqKey(item.seq), v)
	})
	if err != nil { // the schedule lives on in memory; only a restart loses it
		o.log.Error("cannot record failed delivery", attrReceiver, k.receiver, attrIntegration, k.integration, attrErr, err)
	}
	o.log.Warn("notification delivery failed; will retry", attrReceiver, k.receiver, attrIntegration, k.integration,
		attrID, item.id, attrAttempts, item.attempts, attrNextAttempt, item.next, attrErr, cause)
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queues[k]
	q.entries[0] = item
	q.busy = false
	o.countLocked(k, func(s *IntegrationStats) { s.Failed++ })
}

// postpone ends a delivery whose outcome could not be read or stored: the
// head is tried again after a backoff (in memory only), so a failing file
// does not make a busy loop.
func (o *outbox) postpone(k qkey) {
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.queues[k]
	q.entries[0].next = now.Add(o.backoff(q.entries[0].attempts + 1))
	q.busy = false
}

// release ends a delivery that changed nothing.
func (o *outbox) release(k qkey) {
	o.mu.Lock()
	o.queues[k].busy = false
	o.mu.Unlock()
}
