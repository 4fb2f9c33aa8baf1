package notify

import (
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// flakyFixture routes everything to "team", whose one integration fails
// its first failures attempts.
func flakyFixture(t *testing.T, failures int, permanent bool) (*fixture, *flaky) {
	fx := newFixture(t, simpleConfig(30*time.Second, 5*time.Minute, time.Hour), nil)
	fl := &flaky{recorder: newRecorder("webhook[0]"), failures: failures, permanent: permanent, now: fx.clk.Now}
	fx.ins = map[string][]receiver.Integration{"team": {fl}}
	fx.restart()
	return fx, fl
}

func (f *fixture) outboxLen() int {
	f.t.Helper()
	var n int
	if err := f.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketOutbox).Stats().KeyN; return nil }); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *fixture) stats() IntegrationStats {
	f.t.Helper()
	st := f.n.Stats().Integrations
	if len(st) != 1 {
		f.t.Fatalf("stats for %d integrations, want 1: %+v", len(st), st)
	}
	return st[0]
}

func TestOutbox_RetryWithBackoff(t *testing.T) {
	fx, fl := flakyFixture(t, 3, false)
	var backoffs []int
	fx.n.outbox.backoff = func(attempt int) time.Duration {
		backoffs = append(backoffs, attempt)
		return time.Duration(attempt) * 10 * time.Second
	}
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	fx.n.Put(alert("alertname", "CPU", "instance", "b")) // a second group, queued behind the first
	for range 120 {
		fx.step(time.Second)
	}
	start := t0.Add(30 * time.Second)
	// Backoffs 10s, 20s, 30s; the second notification (due since 60s)
	// goes right after the first went through.
	want := []time.Time{start, start.Add(10 * time.Second), start.Add(30 * time.Second), start.Add(60 * time.Second),
		start.Add(60 * time.Second)}
	if !slices.Equal(fl.attempts, want) {
		t.Errorf("attempts at %v,\nwant %v", fl.attempts, want)
	}
	if !slices.Equal(backoffs, []int{1, 2, 3}) {
		t.Errorf("backoff asked for attempts %v", backoffs)
	}
	wantSummary(t, fl.take(), "firing:a=firing", "firing:b=firing") // in order
	if st := fx.stats(); st.Sent != 2 || st.Failed != 3 || st.Depth != 0 || len(st.Dropped) != 0 {
		t.Errorf("stats = %+v", st)
	}
	if n := fx.outboxLen(); n != 0 {
		t.Errorf("%d entries left in the outbox", n)
	}
}

func TestOutbox_SurvivesRestart(t *testing.T) {
	fx, fl := flakyFixture(t, 1000, false)
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	fx.n.Put(alert("alertname", "CPU", "instance", "b"))
	fx.step(30 * time.Second)
	if n := fx.outboxLen(); n != 2 {
		t.Fatalf("outbox holds %d entries, want 2", n)
	}
	// Restart with a working integration of the same name.
	rec := newRecorder("webhook[0]")
	fx.ins = map[string][]receiver.Integration{"team": {rec}}
	fx.restart()
	if st := fx.stats(); st.Depth != 2 {
		t.Errorf("depth after restart = %d, want 2", st.Depth)
	}
	fx.n.Put(alert("alertname", "Disk", "instance", "a"), alert("alertname", "CPU", "instance", "b"))
	fx.step(10 * time.Second) // the stored backoff of the head
	got := rec.take()
	wantSummary(t, got, "firing:a=firing", "firing:b=firing")
	if len(got) == 2 && (got[0].ID == got[1].ID || got[0].CreatedAt.After(got[1].CreatedAt)) {
		t.Errorf("IDs %s, %s", got[0].ID, got[1].ID)
	}
	if len(fl.take()) != 0 {
		t.Error("the failing integration recorded a delivery")
	}
	fx.step(time.Hour)
	wantSummary(t, rec.take(), "firing:b=firing", "firing:a=firing") // the repeats (CPU < Disk); nothing twice
}

func TestOutbox_DropAfterTimeLimit(t *testing.T) {
	fx, fl := flakyFixture(t, 1000, false)
	fx.n.outbox.limit = 30 * time.Minute
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	for range 29 {
		fx.step(time.Minute)
	}
	if st := fx.stats(); st.Depth != 1 || st.Failed == 0 {
		t.Fatalf("before the limit: %+v", st)
	}
	fx.step(time.Minute)
	st := fx.stats()
	if st.Depth != 0 || st.Dropped[DropExpired] != 1 || st.Sent != 0 {
		t.Errorf("after the limit: %+v", st)
	}
	if last := fl.attempts[len(fl.attempts)-1]; last.After(t0.Add(30*time.Second + 30*time.Minute)) {
		t.Errorf("attempt at %s, after the deadline", last)
	}
	if n := fx.outboxLen(); n != 0 {
		t.Errorf("%d entries left", n)
	}
}

func TestOutbox_PermanentError(t *testing.T) {
	fx, fl := flakyFixture(t, 1, true)
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	fx.step(time.Minute)
	if st := fx.stats(); st.Dropped[DropPermanent] != 1 || st.Depth != 0 || len(fl.attempts) != 1 {
		t.Errorf("stats = %+v after %d attempts", st, len(fl.attempts))
	}
}

func TestOutbox_ReceiverRemoved(t *testing.T) {
	fx, _ := flakyFixture(t, 1000, false)
	fx.n.outbox.limit = time.Hour
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	// "team" now has no integrations: the entry waits for the limit.
	if err := fx.n.Reload(fx.cfg, map[string][]receiver.Integration{"team": nil}); err != nil {
		t.Fatal(err)
	}
	fx.step(59 * time.Minute)
	if st := fx.stats(); st.Depth != 1 || st.Failed != 1 {
		t.Errorf("before the limit: %+v", st)
	}
	fx.step(time.Minute)
	if st := fx.stats(); st.Depth != 0 || st.Dropped[DropExpired] != 1 {
		t.Errorf("after the limit: %+v", st)
	}
}

func TestOutbox_UndecodableEntry(t *testing.T) {
	fx, _ := flakyFixture(t, 0, false)
	if err := fx.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Put(seqKey(99), []byte("{garbage")) }); err != nil {
		t.Fatal(err)
	}
	fx.restart()
	if n := fx.outboxLen(); n != 0 {
		t.Errorf("undecodable entry kept")
	}
	if st := fx.n.Stats().Integrations; len(st) != 1 || st[0].Dropped[DropUndecodable] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestDefaultBackoff(t *testing.T) {
	f := func(attempt int, lo, hi time.Duration) {
		t.Helper()
		for range 50 {
			if d := DefaultBackoff(attempt); d < lo || d > hi {
				t.Fatalf("DefaultBackoff(%d) = %v, want in [%v, %v]", attempt, d, lo, hi)
			}
		}
	}
	f(1, 500*time.Millisecond, time.Second)
	f(2, time.Second, 2*time.Second)
	f(4, 4*time.Second, 8*time.Second)
	f(9, 128*time.Second, 256*time.Second)
	f(10, 150*time.Second, 5*time.Minute)
	f(1000, 150*time.Second, 5*time.Minute)
}
