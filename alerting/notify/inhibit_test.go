package notify

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/alerting/receiver"
)

func TestInhibitor(t *testing.T) {
	rules, err := compileInhibitRules([]InhibitRule{
		{SourceMatchers: []string{`severity="critical"`}, TargetMatchers: []string{`severity="warning"`}, Equal: []string{"host"}},
		{SourceMatch: map[string]string{"alertname": "NodeDown"}, TargetMatchRE: map[string]string{"alertname": ".*"}, Equal: []string{"dc"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	firing := map[string]map[string]string{
		"crit-web1": {"alertname": "CPU", "severity": "critical", "host": "web-1"},
		"down-dc2":  {"alertname": "NodeDown", "dc": "dc2", "host": "db-9"},
	}
	in := newInhibitor(rules, func(yield func(string, map[string]string) bool) {
		for _, fp := range slices.Sorted(maps.Keys(firing)) {
			if !yield(fp, firing[fp]) {
				return
			}
		}
	})
	f := func(fp string, labels map[string]string, want ...string) {
		t.Helper()
		if got := in.inhibitedBy(fp, labels); !slices.Equal(got, want) {
			t.Errorf("inhibitedBy(%v) = %v, want %v", labels, got, want)
		}
	}
	f("w1", map[string]string{"alertname": "CPU", "severity": "warning", "host": "web-1"}, "crit-web1")
	f("w2", map[string]string{"alertname": "CPU", "severity": "warning", "host": "web-2"}) // equal label differs
	f("w3", map[string]string{"alertname": "CPU", "severity": "warning"})                  // host missing on one side only
	f("c1", map[string]string{"alertname": "CPU", "severity": "critical", "host": "web-1"})
	// Rule 2 matches both sides for NodeDown: the source does not inhibit
	// itself, nor another NodeDown (two-sided match), but does inhibit
	// other alerts of its dc.
	f("down-dc2", firing["down-dc2"])
	f("down2-dc2", map[string]string{"alertname": "NodeDown", "dc": "dc2", "host": "db-8"})
	f("disk", map[string]string{"alertname": "Disk", "dc": "dc2"}, "down-dc2")
	f("disk1", map[string]string{"alertname": "Disk", "dc": "dc1"})
}

func TestInhibitor_MissingEqualLabelOnBothSides(t *testing.T) {
	rules, _ := compileInhibitRules([]InhibitRule{{SourceMatchers: []string{"a=src"}, TargetMatchers: []string{"a=tgt"}, Equal: []string{"zone"}}})
	in := newInhibitor(rules, func(yield func(string, map[string]string) bool) {
		yield("s", map[string]string{"a": "src"})
	})
	if got := in.inhibitedBy("t", map[string]string{"a": "tgt"}); !slices.Equal(got, []string{"s"}) {
		t.Errorf("missing equal label on both sides: inhibitedBy = %v, want [s] (as Alertmanager)", got)
	}
}

func TestNotifier_Inhibition(t *testing.T) {
	rec := newRecorder("webhook[0]")
	cfg := simpleConfig(time.Second, time.Minute, time.Hour)
	cfg.Route.GroupBy = []string{"..."}
	cfg.InhibitRules = []InhibitRule{{SourceMatchers: []string{`severity="critical"`}, TargetMatchers: []string{`severity="warning"`}, Equal: []string{"instance"}}}
	fx := newFixture(t, cfg, map[string][]receiver.Integration{"team": {rec}})
	crit := alert("alertname", "Disk", "severity", "critical", "instance", "a")
	warn := alert("alertname", "Disk", "severity", "warning", "instance", "a")
	other := alert("alertname", "Disk", "severity", "warning", "instance", "b")
	flagged := alert("alertname", "CPU", "instance", "c")
	flagged.Inhibited = true
	fx.n.Put(crit, warn, other, flagged)
	fx.step(time.Second)
	wantSummary(t, rec.take(), "firing:a=firing", "firing:b=firing")

	states := map[string]string{}
	for _, s := range fx.n.Alerts() {
		states[s.Alert.Labels["severity"]+"/"+s.Alert.Labels["instance"]] = s.State.String() + " " + s.Alert.Fingerprint + " by " + join(s.InhibitedBy)
	}
	if got, want := states["warning/a"], "suppressed "+warn.Fingerprint+" by "+crit.Fingerprint; got != want {
		t.Errorf("warning/a: %s, want %s", got, want)
	}
	if got := states["/c"]; got != "suppressed "+flagged.Fingerprint+" by " {
		t.Errorf("flagged alert: %s, want suppressed", got)
	}
	if got := fx.n.Inhibited(warn.Labels); !slices.Equal(got, []string{crit.Fingerprint}) {
		t.Errorf("Inhibited(warn) = %v", got)
	}

	// The source resolves: the warning is shown at the next flush.
	fx.n.Put(resolve(crit, fx.clk.Now()))
	fx.step(time.Minute)
	wantSummary(t, rec.take(), "resolved:a=resolved", "firing:a=firing")
}

func join(ss []string) string { return strings.Join(ss, ",") }
