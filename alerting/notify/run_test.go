package notify

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"outpost/alerting/receiver"
)

// runNotifier starts n.Run and returns a function that stops it and waits
// for it to return.
func runNotifier(t *testing.T, n *Notifier) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case id := <-ch:
			out = append(out, id)
		default:
			return out
		}
	}
}

// TestNotifier_Run drives the real timers and delivery loop on
// synctest's clock: a blocked integration holds back only its own queue,
// in order; a send in flight at shutdown stays in the outbox and is sent
// again, with the same ID, after the restart.
func TestNotifier_Run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		db := openDB(t, dir)
		slow := &blocker{name: "slow", started: make(chan string, 10), release: make(chan struct{})}
		fast := newRecorder("fast")
		cfg := simpleConfig(30*time.Second, 5*time.Minute, time.Hour)
		n, err := Open(db, cfg, Options{Integrations: map[string][]receiver.Integration{"team": {slow, fast}}})
		if err != nil {
			t.Fatal(err)
		}
		stop := runNotifier(t, n)

		n.Put(alert("alertname", "Disk", "instance", "a"))
		time.Sleep(31 * time.Second)
		synctest.Wait()
		first := fast.take()
		wantSummary(t, first, "firing:a=firing")
		if got := drain(slow.started); len(got) != 1 || got[0] != first[0].ID {
			t.Fatalf("slow started %v, want [%s]", got, first[0].ID)
		}

		n.Put(alert("alertname", "Disk", "instance", "b"))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		second := fast.take()
		wantSummary(t, second, "firing:a=firing,b=firing")
		if got := drain(slow.started); len(got) != 0 {
			t.Errorf("slow started %v while its head was in flight", got)
		}

		close(slow.release)
		synctest.Wait()
		if got := drain(slow.started); len(got) != 1 || got[0] != second[0].ID {
			t.Errorf("after release slow got %v, want [%s]", got, second[0].ID)
		}

		// A send in flight at shutdown.
		stuck := &blocker{name: "slow", started: make(chan string, 10), release: make(chan struct{})}
		if err := n.Reload(cfg, map[string][]receiver.Integration{"team": {stuck, fast}}); err != nil {
			t.Fatal(err)
		}
		n.Put(alert("alertname", "Disk", "instance", "c"))
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		inflight := drain(stuck.started)
		wantSummary(t, fast.take(), "firing:a=firing,b=firing,c=firing")
		stop()
		if len(inflight) != 1 {
			t.Fatalf("in flight at shutdown: %v", inflight)
		}
		db.Close()

		db = openDB(t, dir)
		defer db.Close()
		again := newRecorder("slow")
		n, err = Open(db, cfg, Options{Integrations: map[string][]receiver.Integration{"team": {again, fast}}})
		if err != nil {
			t.Fatal(err)
		}
		stop = runNotifier(t, n)
		time.Sleep(time.Second)
		synctest.Wait()
		got := again.take()
		if len(got) != 1 || got[0].ID != inflight[0] {
			t.Errorf("after restart slow got %d notifications, want the one in flight (%s)", len(got), inflight[0])
		}
		if len(fast.take()) != 0 {
			t.Error("fast got a notification twice")
		}
		stop()
	})
}

// TestNotifier_Run_Drain checks that Run lets a send in flight finish
// after its context ended (within ShutdownTimeout), so nothing is sent
// twice after a clean shutdown.
func TestNotifier_Run_Drain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openDB(t, t.TempDir())
		defer db.Close()
		b := &blocker{name: "slow", started: make(chan string, 1), release: make(chan struct{})}
		n, err := Open(db, simpleConfig(time.Second, time.Minute, time.Hour),
			Options{Integrations: map[string][]receiver.Integration{"team": {b}}})
		if err != nil {
			t.Fatal(err)
		}
		stop := runNotifier(t, n)
		n.Put(alert("alertname", "Disk", "instance", "a"))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		<-b.started
		go func() {
			time.Sleep(DefaultShutdownTimeout / 2)
			close(b.release)
		}()
		stop()
		if st := n.Stats().Integrations; len(st) != 1 || st[0].Sent != 1 || st[0].Depth != 0 {
			t.Errorf("after shutdown: %+v, want the send in flight finished", st)
		}
	})
}
