package alerting

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

const fleetRules = `
groups:
- name: fleet
  interval: 30s
  rules:
  - flatline: HostSilent
    expr: '{host!=""}'
    by: [host]
    for: 2m
    forget_after: 1h
    labels: {severity: critical}
    annotations:
      summary: "{{ $labels.host }} has sent nothing"
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
`

// flatExpr is the query the fleet rule's flatline evaluates.
// (outpost's ALERTS series excluded).
const flatExpr = `max by (host) (tlast_over_time(({host!="",__name__!~"ALERTS|ALERTS_FOR_STATE"})[60s]))`

// report sets what the fleet's hosts send before the next round (30 s
// on): each host in up reports at that time, with disk at the given
// percent.
func report(tm *testManager, up []string, diskPct map[string]float64) {
	var last, d query.Vector
	for _, h := range up {
		last = append(last, sample(float64(tm.now.Add(30*time.Second).Unix()), "host", h))
		if v, ok := diskPct[h]; ok {
			d = append(d, sample(v, "__name__", "disk_used_percent", "host", h, "path", "/"))
		}
	}
	tm.data.set(flatExpr, last)
	tm.data.set("disk_used_percent", d)
}

func hosts(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("h%02d", i))
	}
	return out
}

// A volatile fleet: 20 hosts report; 3 stop -> 3 flatline alerts and no
// other alert from them; 2 are retired -> one retired notice each; a new
// host is tracked with no configuration; a host whose data stops while
// its disk alert fires gets no "resolved".
func TestFlatline_VolatileFleet(t *testing.T) {
	tm := newTestManager(t, fleetRules)
	all := hosts(0, 20)
	disk := map[string]float64{"h00": 85} // h00's disk alert fires, then h00 goes silent
	for range 3 {
		report(tm, all, disk)
		tm.round(30 * time.Second)
	}
	tm.wantState(StateFiring, "warning", "alertname", "DiskFull", "host", "h00")

	up := hosts(3, 20) // h00, h01, h02 stop
	for range 6 {
		report(tm, up, nil)
		tm.round(30 * time.Second)
	}
	var silent []string
	for _, a := range tm.Alerts() {
		if a.Labels["alertname"] == "HostSilent" && a.State == StateFiring {
			silent = append(silent, a.Labels["host"])
		}
	}
	slices.Sort(silent)
	if fmt.Sprint(silent) != "[h00 h01 h02]" {
		t.Fatalf("silent hosts %v, want [h00 h01 h02]", silent)
	}
	// h00's disk alert is held, not resolved.
	a := tm.alert("alertname", "DiskFull", "host", "h00")
	if a == nil || a.State != StateFiring || !a.Held {
		t.Fatalf("h00 disk alert = %+v, want firing and held", a)
	}

	// Retire h01 and h02.
	sel := [][]*tsdb.Matcher{{tsdb.MustNewMatcher(tsdb.MatchRegexp, "host", "h01|h02")}}
	res, err := tm.Retire(t.Context(), sel, "decommission.sh", "removed")
	if err != nil || len(res.Groups) != 2 {
		t.Fatalf("retire = %+v, %v", res, err)
	}
	// A new host appears: tracked, no alert.
	up = append(up, "h20")
	for range 4 {
		report(tm, up, nil)
		tm.round(30 * time.Second)
	}
	for _, a := range tm.Alerts() {
		if h := a.Labels["host"]; h != "h00" {
			t.Fatalf("unexpected alert %v %s", a.Labels, a.State)
		}
	}
	evs, _ := tm.History(tm.now.Add(-time.Hour), tm.now, "", "HostSilent", 0)
	retired, tracked := 0, 0
	for _, e := range evs {
		if e.To == "retired" {
			retired++
		}
		if e.Kind == EventTracked && e.Labels["host"] == "h20" {
			tracked++
		}
	}
	if retired != 2 || tracked != 1 {
		t.Fatalf("retired %d tracked(h20) %d, want 2 and 1", retired, tracked)
	}
}

// The flatline groups and their alerts survive a restart: a host that
// went silent before the restart is still alerting after it, without a
// new firing event.
func TestFlatline_Restart(t *testing.T) {
	dir := t.TempDir()
	data := &fakeData{}
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tm := openTestManager(t, dir, fleetRules, data, start)
	report(tm, []string{"a", "b"}, nil)
	tm.round(30 * time.Second)
	report(tm, []string{"a"}, nil)
	for range 6 {
		report(tm, []string{"a"}, nil)
		tm.round(30 * time.Second)
	}
	tm.wantState(StateFiring, "critical", "alertname", "HostSilent", "host", "b")
	now := tm.now
	tm.Close()

	tm2 := openTestManager(t, dir, fleetRules, data, now)
	tm2.wantState(StateFiring, "critical", "alertname", "HostSilent", "host", "b")
	tm2.round(30 * time.Second)
	tm2.wantState(StateFiring, "critical", "alertname", "HostSilent", "host", "b")
	evs, _ := tm2.History(start, tm2.now, "", "HostSilent", 0)
	fired := 0
	for _, e := range evs {
		if e.To == "firing" {
			fired++
		}
	}
	if fired != 1 {
		t.Fatalf("%d firing events, want 1", fired)
	}
}

// forget_after retires a group silent that long: one retired event, the
// group forgotten (no alert), and tracked anew when it reports again.
func TestFlatline_ForgetAfter(t *testing.T) {
	tm := newTestManager(t, strings.Replace(fleetRules, "forget_after: 1h", "forget_after: 5m", 1))
	report(tm, []string{"a", "b"}, nil)
	tm.round(30 * time.Second)
	for range 12 { // b silent for 6 minutes
		report(tm, []string{"a"}, nil)
		tm.round(30 * time.Second)
	}
	if a := tm.alert("alertname", "HostSilent", "host", "b"); a != nil {
		t.Fatalf("b still alerting after forget_after: %+v", a)
	}
	evs, _ := tm.History(tm.now.Add(-time.Hour), tm.now, "", "HostSilent", 0)
	var kinds []string
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Labels["host"] == "b" {
			kinds = append(kinds, evs[i].Kind+":"+evs[i].To)
		}
	}
	if fmt.Sprint(kinds) != "[tracked: state:firing state:retired]" {
		t.Fatalf("b's history %v", kinds)
	}
	report(tm, []string{"a", "b"}, nil)
	tm.round(30 * time.Second)
	evs, _ = tm.History(tm.now.Add(-time.Minute), tm.now, "", "HostSilent", 0)
	if len(evs) != 1 || evs[0].Kind != EventTracked || evs[0].Labels["host"] != "b" {
		t.Fatalf("b reporting again: %+v", evs)
	}
}

// A silent host raises no missing-data alert: under missing_data:
// breaching, the series of a host whose flatline group is silent is not
// counted as breaching.
func TestThreshold_SilentSourceNoMissingDataAlert(t *testing.T) {
	tm := newTestManager(t, strings.Replace(fleetRules, "    crit: \"> 90\"\n", "    crit: \"> 90\"\n    missing_data: breaching\n", 1))
	report(tm, []string{"a", "b"}, map[string]float64{"a": 40, "b": 40})
	tm.round(30 * time.Second)
	for range 4 {
		report(tm, []string{"a"}, map[string]float64{"a": 40})
		tm.round(30 * time.Second)
	}
	tm.wantState(StateFiring, "critical", "alertname", "HostSilent", "host", "b")
	tm.wantState(StateInactive, "", "alertname", "DiskFull", "host", "b")
	// a's disk stops while a still reports: that is missing data.
	report(tm, []string{"a"}, nil)
	tm.round(30 * time.Second)
	tm.wantState(StateFiring, "critical", "alertname", "DiskFull", "host", "a")
}
