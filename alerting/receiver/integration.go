package receiver

import (
	"context"
	"errors"
	"time"
)

// Integration is one configured destination of a receiver: one item of
// its webhook_configs, slack_configs, email_configs, alertmanager_configs,
// alerta_configs or file_configs. The outbox delivers every notification to
// each integration of its receiver separately, so one that fails is retried
// without re-sending to the others.
type Integration interface {
	// Name is the integration's kind and index in its receiver, such as
	// "webhook[0]"; with the receiver's name it keys the outbox.
	Name() string
	// SendResolved reports whether notifications whose alerts are all
	// resolved go to this integration.
	SendResolved() bool
	// Send delivers n. An error wrapped with Permanent is not retried
	// (the peer refused the message itself, say with a 400); any other
	// error is retried with backoff.
	Send(ctx context.Context, n *Notification) error
}

// Resender is implemented by an integration whose peer forgets a firing
// alert that is not sent again in time: the alertmanager integration sends
// each firing alert with endsAt = now + 4 x ResendInterval, as Prometheus
// does, and the Alertmanager resolves it by itself after that. The
// dispatcher must therefore deliver the firing alerts of each group routed
// to such an integration at least every ResendInterval, even when nothing
// changed and repeat_interval has not passed.
type Resender interface {
	// ResendInterval is the longest a firing alert may go unsent.
	ResendInterval() time.Duration
}

// permanentError marks an error that retrying cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as one that retrying cannot cure; nil stays nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
