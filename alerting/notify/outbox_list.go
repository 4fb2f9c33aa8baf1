package notify

import (
	"cmp"
	"slices"
	"time"
)

// OutboxEntry is one notification waiting in the outbox for one
// integration, as GET /api/v1/alerting/outbox shows it.
type OutboxEntry struct {
	ID          string    `json:"id"`
	Receiver    string    `json:"receiver"`
	Integration string    `json:"integration"`
	CreatedAt   time.Time `json:"createdAt"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt"`
}

// Outbox lists the notifications waiting for delivery, oldest first.
func (n *Notifier) Outbox() []OutboxEntry {
	o := n.outbox
	o.mu.Lock()
	out := []OutboxEntry{}
	for k, q := range o.queues {
		for _, e := range q.entries {
			out = append(out, OutboxEntry{ID: e.id, Receiver: k.receiver, Integration: k.integration,
				CreatedAt: e.created, Attempts: e.attempts, NextAttempt: e.next})
		}
	}
	o.mu.Unlock()
	slices.SortFunc(out, func(a, b OutboxEntry) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID), cmp.Compare(a.Integration, b.Integration))
	})
	return out
}
