package tsdb

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"
)

// Backoff of a background task that fails (issue 8: a full disk used to log
// an error every second): attempts are spaced from retryMin to retryMax, so
// the task resumes within retryMax of its cause going away.
const (
	retryMin      = time.Second
	retryMax      = 10 * time.Second
	retryLogEvery = time.Minute
)

// retrier tracks one background task of the store (flushing to day files,
// applying retention): it spaces the attempts while the task fails, logs
// the first failure at ERROR, then one line a minute while failures go on,
// and the recovery at INFO; Health reads its state. It uses the wall clock,
// not Options.Now, which moves the data's time.
type retrier struct {
	what   string // the task, as a log message and Health say it: "flushing to day files"
	logger *slog.Logger

	mu       sync.Mutex // guards the fields below
	since    time.Time  // first failure of the current run of failures; zero while the task succeeds
	err      error      // the latest failure
	attempts int        // failures in the current run
	delay    time.Duration
	next     time.Time // no attempt before this
	logged   time.Time // when the run was last logged
}

// due reports whether an attempt may run now.
func (r *retrier) due() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !time.Now().Before(r.next)
}

// record notes the outcome of an attempt and logs what changed.
func (r *retrier) record(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if err == nil {
		if !r.since.IsZero() {
			r.logger.Info(r.what+" works again", "failures", r.attempts, "down_for", now.Sub(r.since).Round(time.Millisecond))
		}
		r.since, r.err, r.attempts, r.delay, r.next = time.Time{}, nil, 0, 0, time.Time{}
		return
	}
	r.err = err
	r.attempts++
	if r.since.IsZero() {
		r.since, r.delay, r.logged = now, retryMin, now
		r.logger.Error(r.what+" fails; retrying in the background", "err", err)
	} else {
		r.delay = min(2*r.delay, retryMax)
		if now.Sub(r.logged) >= retryLogEvery {
			r.logged = now
			r.logger.Error(r.what+" still fails", "failures", r.attempts,
				"down_for", now.Sub(r.since).Round(time.Second), "err", err)
		}
	}
	r.next = now.Add(r.delay)
}

// outage returns nil while the task works, else an error saying what fails,
// why and since when.
func (r *retrier) outage() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		return nil
	}
	return outage(r.what+" fails", r.since, r.err)
}

// outage formats a failure for Health and for writes refused while it lasts:
// "write-ahead log cannot append: no space left on device (since 10:31:02)".
// The cause is the errno of the failed system call when there is one; the
// error wraps it.
func outage(what string, since time.Time, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		err = errno
	}
	return fmt.Errorf("%s: %w (since %s)", what, err, since.Format(time.TimeOnly))
}
