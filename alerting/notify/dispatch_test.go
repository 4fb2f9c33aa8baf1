package notify

import (
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

// teamFixture routes everything to receiver "team" with one recording
// integration: group_wait 30s, group_interval 5m, repeat_interval 1h.
func teamFixture(t *testing.T) (*fixture, *recorder) {
	rec := newRecorder("webhook[0]")
	fx := newFixture(t, simpleConfig(30*time.Second, 5*time.Minute, time.Hour),
		map[string][]receiver.Integration{"team": {rec}})
	return fx, rec
}

func TestDispatcher_GroupWait(t *testing.T) {
	fx, rec := teamFixture(t)
	a := alert("alertname", "Disk", "instance", "a")
	b := alert("alertname", "Disk", "instance", "b")
	fx.n.Put(a)
	fx.step(10 * time.Second)
	fx.n.Put(a, b)
	fx.step(19 * time.Second)
	wantSummary(t, rec.take()) // 29s: still waiting
	fx.step(time.Second)
	got := rec.take()
	wantSummary(t, got, "firing:a=firing,b=firing")
	n := got[0]
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{16}$`).MatchString(n.ID) {
		t.Errorf("ID %q is not <db id>-<16 hex digits>", n.ID)
	}
	if n.GroupKey != `{}:{alertname="Disk"}` || n.GroupLabels["alertname"] != "Disk" || n.Receiver != "team" ||
		n.ExternalURL != "http://outpost:8080" || !n.CreatedAt.Equal(fx.clk.Now()) {
		t.Errorf("notification fields: %+v", n)
	}
}

func TestDispatcher_GroupInterval(t *testing.T) {
	fx, rec := teamFixture(t)
	fx.n.Put(alert("alertname", "Disk", "instance", "a"))
	fx.step(30 * time.Second)
	wantSummary(t, rec.take(), "firing:a=firing")
	fx.step(time.Minute)
	fx.n.Put(alert("alertname", "Disk", "instance", "c"))
	fx.step(3*time.Minute + 59*time.Second)
	wantSummary(t, rec.take()) // the group waits its interval
	fx.step(time.Second)
	wantSummary(t, rec.take(), "firing:a=firing,c=firing")
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take()) // nothing new, repeat not due
}

func TestDispatcher_RepeatInterval(t *testing.T) {
	t.Run("route", func(t *testing.T) {
		fx, rec := teamFixture(t)
		fx.n.Put(alert("alertname", "Disk", "instance", "a"))
		fx.step(30 * time.Second)
		wantSummary(t, rec.take(), "firing:a=firing")
		for range 11 {
			fx.step(5 * time.Minute)
		}
		wantSummary(t, rec.take()) // 55m
		fx.step(5 * time.Minute)
		wantSummary(t, rec.take(), "firing:a=firing") // 1h
	})
	t.Run("alert's own", func(t *testing.T) {
		fx, rec := teamFixture(t)
		a := alert("alertname", "Disk", "instance", "a")
		a.RepeatInterval = 15 * time.Minute
		fx.n.Put(a, alert("alertname", "Disk", "instance", "b"))
		fx.step(30 * time.Second)
		wantSummary(t, rec.take(), "firing:a=firing,b=firing")
		fx.step(10 * time.Minute)
		wantSummary(t, rec.take())
		fx.step(5 * time.Minute)
		wantSummary(t, rec.take(), "firing:a=firing,b=firing")
	})
}

func TestDispatcher_ResolvedSentOnce(t *testing.T) {
	fx, rec := teamFixture(t)
	a := alert("alertname", "Disk", "instance", "a")
	b := alert("alertname", "Disk", "instance", "b")
	fx.n.Put(a, b)
	fx.step(30 * time.Second)
	rec.take()
	fx.n.Put(resolve(a, fx.clk.Now()), b)
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take(), "firing:a=resolved,b=firing")
	if got := len(fx.n.Alerts()); got != 1 {
		t.Errorf("%d alerts held after the resolution was reported, want 1", got)
	}
	fx.n.Put(resolve(a, fx.clk.Now()), b) // the evaluator may repeat a resolution
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take())
	// Resolved without ever being sent firing: nothing to say.
	c := alert("alertname", "Disk", "instance", "c")
	fx.n.Put(c, b)
	fx.n.Put(resolve(c, fx.clk.Now()))
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take())
	// All resolved: a resolved notification, then the group is gone.
	fx.n.Put(resolve(b, fx.clk.Now()))
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take(), "resolved:b=resolved")
	if g := fx.n.Groups(); len(g) != 0 {
		t.Errorf("groups left: %+v", g)
	}
}

func TestDispatcher_AckedNotRepeated(t *testing.T) {
	fx, rec := teamFixture(t)
	a := alert("alertname", "Disk", "instance", "a")
	fx.n.Put(a)
	fx.step(30 * time.Second)
	wantSummary(t, rec.take(), "firing:a=firing")
	a.Acked = true
	fx.n.Put(a)
	for range 24 { // 2h: two repeat intervals
		fx.step(5 * time.Minute)
	}
	wantSummary(t, rec.take())
	fx.n.Put(resolve(a, fx.clk.Now()))
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take(), "resolved:a=resolved")
}

func TestDispatcher_Silenced(t *testing.T) {
	fx, rec := teamFixture(t)
	id, err := fx.n.Silences().Set(newSilence(t, `instance="a"`, t0, t0.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	a := alert("alertname", "Disk", "instance", "a")
	fx.n.Put(a)
	fx.step(30 * time.Second)
	wantSummary(t, rec.take())
	st := fx.n.Alerts()
	if len(st) != 1 || st[0].State != AlertSuppressed || !slices.Equal(st[0].SilencedBy, []string{id}) ||
		!slices.Equal(st[0].Receivers, []string{"team"}) {
		t.Errorf("Alerts() = %+v, want suppressed by %s", st, id)
	}
	fx.n.Put(alert("alertname", "Disk", "instance", "b"))
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take(), "firing:b=firing") // the silenced alert is left out
	if err := fx.n.Silences().Expire(id); err != nil {
		t.Fatal(err)
	}
	fx.step(5 * time.Minute)
	wantSummary(t, rec.take(), "firing:a=firing,b=firing")
}

func TestDispatcher_SendResolvedFalse(t *testing.T) {
	quiet := newRecorder("slack[0]")
	quiet.resolved = false
	loud := newRecorder("webhook[0]")
	fx := newFixture(t, simpleConfig(30*time.Second, 5*time.Minute, time.Hour),
		map[string][]receiver.Integration{"team": {loud, quiet}})
	a, b := alert("alertname", "Disk", "instance", "a"), alert("alertname", "Disk", "instance", "b")
	fx.n.Put(a, b)
	fx.step(30 * time.Second)
	l, q := loud.take(), quiet.take()
	wantSummary(t, l, "firing:a=firing,b=firing")
	wantSummary(t, q, "firing:a=firing,b=firing")
	if l[0].ID != q[0].ID {
		t.Errorf("one notification to two integrations has IDs %s and %s", l[0].ID, q[0].ID)
	}
	fx.n.Put(resolve(a, fx.clk.Now()))
	fx.step(5 * time.Minute)
	wantSummary(t, loud.take(), "firing:a=resolved,b=firing")
	wantSummary(t, quiet.take())
	fx.n.Put(resolve(b, fx.clk.Now()))
	fx.step(5 * time.Minute)
	wantSummary(t, loud.take(), "resolved:b=resolved")
	wantSummary(t, quiet.take()) // all resolved: not even enqueued
	if d := fx.n.Stats().Integrations; len(d) != 2 || d[0].Depth+d[1].Depth != 0 {
		t.Errorf("outbox stats: %+v", d)
	}
}

func TestDispatcher_Retired(t *testing.T) {
	fx, rec := teamFixture(t)
	r := resolve(alert("alertname", "HostSilent", "instance", "gone"), t0)
	r.Kind = "retired"
	fx.n.Put(r)
	fx.step(30 * time.Second)
	wantSummary(t, rec.take(), "resolved:gone=resolved")
	fx.n.Put(r)
	fx.step(30 * time.Second) // a new group: group_wait again
	wantSummary(t, rec.take())
}

func TestDispatcher_ContinueTwoReceivers(t *testing.T) {
	pager, team := newRecorder("pagerduty[0]"), newRecorder("webhook[0]")
	cfg := simpleConfig(30*time.Second, 5*time.Minute, time.Hour)
	// As in Alertmanager, the root counts only when no child matches, so
	// the alert reaches "team" through a catch-all sibling.
	cfg.Route.Routes = []Route{
		{Receiver: "pager", Matchers: []string{"severity=critical"}, Continue: true, GroupWait: 5 * time.Second},
		{Receiver: "team"},
	}
	fx := newFixture(t, cfg, map[string][]receiver.Integration{"team": {team}, "pager": {pager}})
	fx.n.Put(alert("alertname", "Disk", "instance", "a", "severity", "critical"))
	fx.step(5 * time.Second)
	wantSummary(t, pager.take(), "firing:a=firing")
	wantSummary(t, team.take())
	fx.step(25 * time.Second)
	wantSummary(t, team.take(), "firing:a=firing")
	if st := fx.n.Alerts(); !slices.Equal(st[0].Receivers, []string{"pager", "team"}) {
		t.Errorf("receivers = %v", st[0].Receivers)
	}
	if g := fx.n.Groups(); len(g) != 2 || g[0].Key != `{}/{severity="critical"}:{alertname="Disk"}` ||
		g[1].Key != `{}/{}:{alertname="Disk"}` || g[1].Receiver != "team" {
		t.Errorf("groups = %+v", g)
	}
}

func TestNotifier_Reload(t *testing.T) {
	fx, rec := teamFixture(t)
	fx.n.Put(alert("alertname", "Disk", "instance", "a", "severity", "critical"))
	fx.step(30 * time.Second)
	wantSummary(t, rec.take(), "firing:a=firing")

	// A new route for critical alerts to a new receiver: the alert moves
	// to a new group, which waits its group_wait and notifies it as new.
	pager := newRecorder("pagerduty[0]")
	cfg := fx.cfg
	cfg.Route.Routes = []Route{{Receiver: "pager", Matchers: []string{"severity=critical"}}}
	ins := map[string][]receiver.Integration{"team": {rec}, "pager": {pager}}
	if err := fx.n.Reload(cfg, ins); err != nil {
		t.Fatal(err)
	}
	fx.step(29 * time.Second)
	wantSummary(t, pager.take())
	fx.step(time.Second)
	wantSummary(t, pager.take(), "firing:a=firing")
	wantSummary(t, rec.take())

	bad := cfg
	bad.Route.Routes = []Route{{Receiver: "nobody"}}
	if err := fx.n.Reload(bad, ins); err == nil {
		t.Error("Reload accepted an unknown receiver")
	}
	if err := fx.n.Reload(fx.cfg, map[string][]receiver.Integration{"team": {rec, newRecorder("webhook[0]")}}); err == nil {
		t.Error("Reload accepted two integrations with one name")
	}
}

// TestNotifier_Concurrent runs Put, flushes, deliveries, silences and the
// status methods at once, for the race detector.
func TestNotifier_Concurrent(t *testing.T) {
	fx, rec := teamFixture(t)
	alerts := benchAlerts(200)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				a := alerts[(w*50+i)%len(alerts)]
				if i%7 == 0 {
					a = resolve(a, fx.clk.Now())
				}
				fx.n.Put(a)
				fx.n.Alerts()
				fx.n.Groups()
				fx.n.Stats()
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := fx.n.Silences().Set(newSilence(t, `instance="host-3"`, t0, t0.Add(time.Hour))); err != nil {
				t.Error(err)
			}
		}
	})
	for range 20 {
		fx.clk.Advance(10 * time.Second)
		if err := fx.n.flushDue(false); err != nil {
			t.Fatal(err)
		}
		fx.n.outbox.deliverDue(t.Context())
	}
	wg.Wait()
	fx.step(5 * time.Minute)
	if len(rec.take()) == 0 {
		t.Error("nothing delivered")
	}
}
