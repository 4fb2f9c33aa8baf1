package alerting

import (
	"testing"
	"time"
)

const pagesRules = `
groups:
- name: disk
  interval: 30s
  rules:
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
    datapoints_to_alarm: 2
    evaluation_periods: 3
  - alert: DiskFull
    expr: disk_used_percent > 99
- name: hosts
  rules:
  - flatline: HostSilent
    expr: up
    by: [host]
    for: 5m
`

// Groups lists every group and rule in file order with the ordinal of
// rules that share a name, and their health after a round.
func TestManager_Groups(t *testing.T) {
	tm := newTestManager(t, pagesRules)
	gs := tm.Groups()
	if len(gs) != 2 || gs[0].Name != "disk" || gs[1].Name != "hosts" || len(gs[0].Rules) != 2 {
		t.Fatalf("groups: %+v", gs)
	}
	if r := gs[0].Rules[1]; r.Ordinal != 1 || r.Spec.Expr != "disk_used_percent > 99" || !r.LastEval.IsZero() {
		t.Fatalf("second DiskFull: %+v", r)
	}
	if gs[0].Interval != 30*time.Second || gs[1].Interval != tm.cfg.EvaluationInterval {
		t.Fatalf("intervals %s %s", gs[0].Interval, gs[1].Interval)
	}
	tm.data.set("disk_used_percent", disk(95, "web1"))
	tm.Evaluate(t.Context(), tm.now.Add(30*time.Second))
	gs = tm.Groups()
	r := gs[0].Rules[0]
	if r.LastEval != tm.now.Add(30*time.Second) || r.LastError != "" || gs[0].LastEval != r.LastEval {
		t.Fatalf("after a round: %+v (group %+v)", r, gs[0])
	}
	if a := tm.alert("host", "web1"); a != nil && a.State == StateFiring {
		t.Fatal("2 of 3 fired after one datapoint")
	}
}

// Evaluate runs a round like the schedule: a breach held long enough
// fires and lands in the history, which HistoryWhere filters.
func TestManager_Evaluate_HistoryWhere(t *testing.T) {
	tm := newTestManager(t, diskRules)
	tm.data.set("disk_used_percent", disk(95, "web1"))
	t0 := tm.now
	tm.Evaluate(t.Context(), t0)
	tm.wantState(StateFiring, "critical", "host", "web1")
	if err := tm.Note(t.Context(), tm.alert("host", "web1").ID, "test", "looking"); err != nil {
		t.Fatal(err)
	}
	notes, err := tm.HistoryWhere(t0.Add(-time.Minute), t0.Add(time.Minute), 0, func(e *Event) bool { return e.Kind == EventNote })
	if err != nil || len(notes) != 1 || notes[0].Comment != "looking" {
		t.Fatalf("notes: %+v %v", notes, err)
	}
	all, err := tm.HistoryWhere(t0.Add(-time.Minute), t0.Add(time.Minute), 0, nil)
	if err != nil || len(all) != 2 || all[0].Kind != EventNote || all[1].To != "firing" {
		t.Fatalf("all events, newest first: %+v %v", all, err)
	}
	if tm.HistoryRetention() != 30*24*time.Hour {
		t.Fatalf("retention %s", tm.HistoryRetention())
	}
}
