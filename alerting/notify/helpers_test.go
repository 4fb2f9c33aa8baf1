package notify

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// t0 is the fake clock's start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a manual clock for Options.Now.
type clock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recorder is an integration that records what it is sent.
type recorder struct {
	name     string
	resolved bool // SendResolved

	mu  sync.Mutex // guards got
	got []receiver.Notification
}

func newRecorder(name string) *recorder { return &recorder{name: name, resolved: true} }

func (r *recorder) Name() string       { return r.name }
func (r *recorder) SendResolved() bool { return r.resolved }
func (r *recorder) Send(_ context.Context, n *receiver.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, *n)
	return nil
}

// take returns and forgets what r received.
func (r *recorder) take() []receiver.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// flaky fails its first failures sends (with a permanent error when
// permanent), then records.
type flaky struct {
	*recorder
	permanent bool

	mu       sync.Mutex // guards failures and attempts
	failures int
	attempts []time.Time
	now      func() time.Time
}

func (f *flaky) Send(ctx context.Context, n *receiver.Notification) error {
	f.mu.Lock()
	f.attempts = append(f.attempts, f.now())
	fail := f.failures > 0
	if fail {
		f.failures--
	}
	f.mu.Unlock()
	if fail {
		err := errors.New("connection refused")
		if f.permanent {
			return receiver.Permanent(errors.New("400 bad request"))
		}
		return err
	}
	return f.recorder.Send(ctx, n)
}

// blocker blocks every send until release is closed or ctx ends.
type blocker struct {
	name    string
	started chan string // receives the notification ID of each send
	release chan struct{}
}

func (b *blocker) Name() string       { return b.name }
func (b *blocker) SendResolved() bool { return true }
func (b *blocker) Send(ctx context.Context, n *receiver.Notification) error {
	b.started <- n.ID
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func openDB(t testing.TB, dir string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "alerting.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fixture is a Notifier on a fake clock and a real bbolt file.
type fixture struct {
	t   *testing.T
	dir string
	db  *bolt.DB
	clk *clock
	cfg Config
	ins map[string][]receiver.Integration
	n   *Notifier
}

// simpleConfig routes everything to receiver "team", grouped by alertname,
// with the given timers.
func simpleConfig(wait, interval, repeat time.Duration) Config {
	return Config{Route: Route{Receiver: "team", GroupBy: []string{"alertname"},
		GroupWait: wait, GroupInterval: interval, RepeatInterval: repeat}}
}

func newFixture(t *testing.T, cfg Config, ins map[string][]receiver.Integration) *fixture {
	t.Helper()
	if ins == nil {
		ins = map[string][]receiver.Integration{"team": nil}
	}
	f := &fixture{t: t, dir: t.TempDir(), clk: newClock(), cfg: cfg, ins: ins}
	f.open()
	t.Cleanup(func() { f.db.Close() })
	return f
}

func (f *fixture) options() Options {
	return Options{Now: f.clk.Now, Integrations: f.ins, ExternalURL: "http://outpost:8080",
		Backoff: func(int) time.Duration { return 10 * time.Second }}
}

func (f *fixture) open() {
	f.t.Helper()
	f.db = openDB(f.t, f.dir)
	n, err := Open(f.db, f.cfg, f.options())
	if err != nil {
		f.t.Fatal(err)
	}
	f.n = n
}

// restart closes the file and opens a new Notifier on it, as a process
// restart does.
func (f *fixture) restart() {
	f.t.Helper()
	if err := f.db.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

// step advances the clock by d, flushes due groups and delivers due
// outbox entries.
func (f *fixture) step(d time.Duration) {
	f.t.Helper()
	f.clk.Advance(d)
	if err := f.n.flushDue(false); err != nil {
		f.t.Fatal(err)
	}
	f.n.outbox.deliverDue(f.t.Context())
}

// alert returns a firing alert with labels given as name, value pairs.
func alert(kv ...string) receiver.Alert {
	labels := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		labels[kv[i]] = kv[i+1]
	}
	return receiver.Alert{Status: receiver.StatusFiring, Labels: labels, StartsAt: t0,
		Fingerprint: fingerprint(labels)}
}

func resolve(a receiver.Alert, at time.Time) receiver.Alert {
	a.Status, a.EndsAt = receiver.StatusResolved, at
	return a
}

// summary renders notifications compactly: one string per notification,
// "status:fp-instance,..." with each alert's instance label and status.
func summary(ns []receiver.Notification) []string {
	var out []string
	for _, n := range ns {
		s := n.Status + ":"
		var parts []string
		for _, a := range n.Alerts {
			parts = append(parts, a.Labels["instance"]+"="+a.Status)
		}
		slices.Sort(parts)
		for i, p := range parts {
			if i > 0 {
				s += ","
			}
			s += p
		}
		out = append(out, s)
	}
	return out
}

func wantSummary(t *testing.T, got []receiver.Notification, want ...string) {
	t.Helper()
	if g := summary(got); !slices.Equal(g, want) {
		t.Errorf("notifications = %q, want %q", g, want)
	}
}
