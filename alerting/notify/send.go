package notify

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// ErrUnknownReceiver is returned by Send for a receiver name that is not
// configured.
var ErrUnknownReceiver = errors.New("no such receiver")

// Send puts nt straight into the outbox for every integration of the
// receiver recv, outside routing, grouping, silences, inhibition and the
// notification log: a message that must reach that receiver whatever the
// route says, such as a remediation's escalation. Delivery is the
// outbox's: durable, retried until the delivery time limit, at least
// once. Send sets nt's ID, Receiver, ExternalURL (when empty) and
// CreatedAt, and returns the ID. A receiver without integrations takes
// nothing and Send returns the ID it would have had.
func (n *Notifier) Send(recv string, nt receiver.Notification) (string, error) {
	n.mu.Lock()
	ints, ok := n.integrations[recv]
	names := make([]string, 0, len(ints))
	for _, in := range ints {
		names = append(names, in.Name())
	}
	n.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("send to receiver %q: %w", recv, ErrUnknownReceiver)
	}
	nt.Receiver, nt.CreatedAt = recv, n.now()
	if nt.ExternalURL == "" {
		nt.ExternalURL = n.externalURL
	}
	items := map[qkey][]queued{}
	err := n.db.Update(func(tx *bolt.Tx) error {
		id, err := nextNotificationID(tx, n.dbID)
		if err != nil {
			return err
		}
		nt.ID = id
		for _, name := range names {
			k := qkey{recv, name}
			q, err := n.outbox.insert(tx, k, &nt)
			if err != nil {
				return err
			}
			items[k] = append(items[k], q)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("send to receiver %q: store in outbox: %w", recv, err)
	}
	for k, qs := range items {
		n.outbox.add(k, qs...)
	}
	return nt.ID, nil
}
