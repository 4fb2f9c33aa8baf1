package notify

import (
	"context"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

func TestNotifier_Restart(t *testing.T) {
	fx, rec := teamFixture(t)
	a := alert("alertname", "Disk", "instance", "a")
	b := alert("alertname", "Disk", "instance", "b")
	fx.n.Put(a, b)
	fx.step(30 * time.Second)
	first := rec.take()
	wantSummary(t, first, "firing:a=firing,b=firing")

	t.Run("firing alerts put again: nothing sent", func(t *testing.T) {
		fx.restart()
		fx.n.Put(a, b)
		fx.step(30 * time.Second) // group_wait of the new group
		fx.step(5 * time.Minute)
		wantSummary(t, rec.take())
	})
	t.Run("resolution after restart: sent", func(t *testing.T) {
		fx.restart()
		fx.n.Put(resolve(a, fx.clk.Now()), b)
		fx.step(30 * time.Second)
		got := rec.take()
		wantSummary(t, got, "firing:a=resolved,b=firing")
		if len(got) == 1 && got[0].ID <= first[0].ID {
			t.Errorf("ID after restart %s is not after %s", got[0].ID, first[0].ID)
		}
	})
	t.Run("repeat interval counts from the send before the restart", func(t *testing.T) {
		fx.restart()
		fx.n.Put(b)
		fx.step(30 * time.Second)
		wantSummary(t, rec.take())
		// The last send (the resolution) was at 6m30s; repeat_interval is 1h.
		for fx.clk.Now().Before(t0.Add(30*time.Second + 6*time.Minute + time.Hour)) {
			fx.step(5 * time.Minute)
		}
		wantSummary(t, rec.take(), "firing:b=firing")
	})
}

// TestNotifier_Restart_NewAlertStillNew checks that the log keeps only
// what was sent: an alert that fired but was never notified (it came and
// went inside group_wait) is new when it comes back after a restart.
func TestNotifier_Restart_NewAlertStillNew(t *testing.T) {
	fx, rec := teamFixture(t)
	a := alert("alertname", "Disk", "instance", "a")
	fx.n.Put(a)
	fx.step(10 * time.Second)
	fx.restart()
	fx.n.Put(a)
	fx.step(30 * time.Second)
	wantSummary(t, rec.take(), "firing:a=firing")
}

func TestNotifier_Open_Errors(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	if _, err := Open(db, Config{}, Options{}); err == nil {
		t.Error("Open accepted a route without receiver")
	}
	ins := map[string][]receiver.Integration{"team": {newRecorder("x"), newRecorder("x")}}
	if _, err := Open(db, simpleConfig(0, 0, 0), Options{Integrations: ins}); err == nil {
		t.Error("Open accepted two integrations named alike")
	}
	n, err := Open(db, simpleConfig(0, 0, 0), Options{Integrations: map[string][]receiver.Integration{"team": nil}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := n.Run(ctx); err != nil {
		t.Errorf("Run = %v, want nil after cancellation", err)
	}
	if err := n.Run(ctx); err != ErrRunning {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
}
