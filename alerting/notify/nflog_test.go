package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

// TestDecide covers the send rule case by case. Alerts are written
// "a" (firing), "a!" (firing, acked), "a~" (resolved), "a^" (resolved,
// Kind retired), "a@30m" (firing with RepeatInterval 30m); the entry is
// the last sent firing and resolved sets and how long ago it was sent.
func TestDecide(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	parse := func(spec string) flushState {
		st := flushState{gone: map[string]bool{}, repeat: 4 * time.Hour}
		for _, w := range strings.Fields(spec) {
			a := receiver.Alert{Status: receiver.StatusFiring}
			name, rep, _ := strings.Cut(w, "@")
			if rep != "" {
				a.RepeatInterval, _ = time.ParseDuration(rep)
			}
			switch {
			case strings.HasSuffix(name, "!"):
				a.Acked = true
			case strings.HasSuffix(name, "~"):
				a.Status = receiver.StatusResolved
			case strings.HasSuffix(name, "^"):
				a.Status, a.Kind = receiver.StatusResolved, "retired"
			}
			a.Fingerprint = strings.TrimRight(name, "!~^")
			if a.Firing() {
				st.firing = append(st.firing, a)
			} else {
				st.resolved = append(st.resolved, a)
				st.gone[a.Fingerprint] = true
			}
		}
		return st
	}
	entry := func(firing, resolved string, ago time.Duration) *logEntry {
		return &logEntry{Firing: strings.Fields(firing), Resolved: strings.Fields(resolved), SentAt: now.Add(-ago)}
	}
	f := func(prev *logEntry, alerts string, sendResolved bool, want string) {
		t.Helper()
		st := parse(alerts)
		d := decide(prev, &st, sendResolved, now)
		got := "no"
		if d.send {
			var parts []string
			for _, a := range d.alerts {
				parts = append(parts, a.Fingerprint+map[bool]string{true: "", false: "~"}[a.Firing()])
			}
			got = "send " + strings.Join(parts, " ")
		}
		if d.entry != nil {
			got += " | log " + strings.Join(d.entry.Firing, ",") + "/" + strings.Join(d.entry.Resolved, ",")
		}
		if got != want {
			t.Errorf("decide(%v, %q, resolved=%v):\n got %s\nwant %s", prev, alerts, sendResolved, got, want)
		}
	}
	// First notification; nothing to say about resolved-only groups.
	f(nil, "a b", true, "send a b | log a,b/")
	f(nil, "a~", true, "no")
	f(nil, "a!", true, "no") // acked alerts never start a notification
	// A new alert in the group.
	f(entry("a", "", time.Minute), "a b", true, "send a b | log a,b/")
	// Nothing new, repeat not due.
	f(entry("a b", "", time.Minute), "a b", true, "no")
	f(entry("a b", "", time.Minute), "a", true, "no") // b is not held (not re-put yet): not a resolution
	// Repeat interval passed (route's 4h, or the alert's own).
	f(entry("a", "", 4*time.Hour), "a", true, "send a | log a/")
	f(entry("a", "", 31*time.Minute), "a@30m", true, "send a | log a/")
	f(entry("a b", "", 31*time.Minute), "a@1h b@30m", true, "send a b | log a,b/") // the smallest wins
	// Acked alerts are not repeated, but ride along.
	f(entry("a", "", 5*time.Hour), "a!", true, "no")
	f(entry("a", "", time.Minute), "a! b", true, "send a b | log a,b/")
	// A resolution of something sent firing: sent once, with the firing rest.
	f(entry("a b", "", time.Minute), "a b~", true, "send a b~ | log a/b")
	f(entry("a", "b", time.Minute), "a b~", true, "no") // b was reported already
	f(entry("a b", "", time.Minute), "a~ b~", true, "send a~ b~ | log /a,b")
	f(entry("a", "", time.Minute), "a~", true, "send a~ | log /a") // an acked alert resolving is reported the same way
	// Never sent firing: its resolution is not news.
	f(entry("a", "", time.Minute), "a c~", true, "no")
	// A retired alert is reported even if never sent firing, once.
	f(entry("a", "", time.Minute), "a c^", true, "send a c~ | log a/c")
	f(entry("a", "c", time.Minute), "a c^", true, "no")
	f(nil, "c^", true, "send c~ | log /c")
	// An integration without send_resolved forgets the resolution quietly,
	// so the alert counts as new when it fires again.
	f(entry("a b", "", time.Minute), "a b~", false, "no | log a/")
	f(entry("a", "", time.Minute), "a~", false, "no | log /")
	f(entry("a", "", time.Minute), "a b", false, "send a b | log a,b/")
	f(entry("a b", "", 5*time.Hour), "a b~", false, "send a | log a/")
}

func TestContainsAndFingerprints(t *testing.T) {
	as := []receiver.Alert{{Fingerprint: "b"}, {Fingerprint: "a"}, {Fingerprint: "b"}}
	fps := fingerprints(as)
	if !slices.Equal(fps, []string{"a", "b"}) || !contains(fps, "b") || contains(fps, "c") {
		t.Errorf("fingerprints = %v", fps)
	}
}

// resender is an integration whose peer forgets firing alerts (as an
// Alertmanager does): it must get them again every ResendInterval.
type resender struct{ recorder }

func (r *resender) ResendInterval() time.Duration { return time.Minute }

// An Alertmanager integration gets firing alerts again once its resend
// interval has passed, acknowledged ones too and whatever the route's or
// the rule's repeat, so the peer never lets them expire; others do not.
func TestFlushState_ForIntegration(t *testing.T) {
	now := t0.Add(time.Hour)
	st := flushState{gone: map[string]bool{}, repeat: 4 * time.Hour, firing: []receiver.Alert{
		{Status: receiver.StatusFiring, Fingerprint: "a", Acked: true},
		{Status: receiver.StatusFiring, Fingerprint: "b", RepeatInterval: 24 * time.Hour},
	}}
	prev := &logEntry{Firing: []string{"a", "b"}, SentAt: now.Add(-2 * time.Minute)}
	if d := decide(prev, st.forIntegration(&resender{}), true, now); !d.send || len(d.alerts) != 2 {
		t.Fatalf("resender after 2m: %+v, want both alerts sent again", d)
	}
	if d := decide(prev, st.forIntegration(&recorder{}), true, now); d.send {
		t.Fatalf("plain integration after 2m: %+v, want nothing (acked, and 24h repeat)", d)
	}
	recent := &logEntry{Firing: []string{"a", "b"}, SentAt: now.Add(-30 * time.Second)}
	if d := decide(recent, st.forIntegration(&resender{}), true, now); d.send {
		t.Fatalf("resender after 30s: %+v, want nothing yet", d)
	}
	if !st.firing[0].Acked || st.firing[1].RepeatInterval == 0 {
		t.Fatal("forIntegration changed the shared state")
	}
}
