package notify

import (
	"errors"
	"testing"

	"outpost/alerting/receiver"
)

// Send reaches the named receiver past the routes and silences, through
// the outbox, and survives a restart before its delivery.
func TestNotifier_Send(t *testing.T) {
	team, oncall := newRecorder("webhook[0]"), newRecorder("webhook[0]")
	f := newFixture(t, simpleConfig(0, 0, 0), map[string][]receiver.Integration{
		"team": {team}, "oncall": {oncall}})
	a := alert("alertname", "webapp_uptime", "instance", "web1")
	id, err := f.n.Send("oncall", receiver.Notification{GroupKey: "remediation:x", Status: receiver.StatusFiring,
		Alerts: []receiver.Alert{a}})
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v", id, err)
	}
	f.restart()
	f.step(0)
	got := oncall.take()
	wantSummary(t, got, "firing:web1=firing")
	if len(got) == 1 && (got[0].ID != id || got[0].Receiver != "oncall" || got[0].ExternalURL != "http://outpost:8080") {
		t.Fatalf("delivered %+v", got[0])
	}
	if n := len(team.take()); n != 0 {
		t.Fatalf("the routed receiver got %d notifications", n)
	}
	if _, err := f.n.Send("pager", receiver.Notification{}); !errors.Is(err, ErrUnknownReceiver) {
		t.Fatalf("Send to an unknown receiver = %v", err)
	}
}
