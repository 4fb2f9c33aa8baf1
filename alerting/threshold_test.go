package alerting

import (
	"strings"
	"testing"
	"time"

	"outpost/query"
)

const diskRules = `
groups:
- name: disk
  interval: 30s
  rules:
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
    clear: "< 75"
    annotations:
      summary: "{{ $labels.host }} {{ $labels.path }} is {{ $value }}% full"
`

func disk(v float64, host string) query.Vector {
	return query.Vector{sample(v, "__name__", "disk_used_percent", "host", host, "path", "/")}
}

// The Kapacitor story: 85 % warns, 95 % is critical, 78 % stays critical
// (hysteresis: clear is < 75), 70 % resolves.
func TestThreshold_DiskWarnCritClear(t *testing.T) {
	tm := newTestManager(t, diskRules)
	steps := []struct {
		v    float64
		st   State
		sev  string
		why  string
		summ string
	}{
		{50, StateInactive, "", "", ""},
		{85, StateFiring, "warning", "1 of the last 1 datapoint [85 (10:01:00)] was > 80", "web1 / is 85% full"},
		{95, StateFiring, "critical", "1 of the last 1 datapoint [95 (10:01:30)] was > 90", "web1 / is 95% full"},
		{78, StateFiring, "critical", "1 of the last 1 datapoint [95 (10:01:30)] was > 90", "web1 / is 78% full"},
		{70, StateInactive, "", "", ""},
	}
	for i, s := range steps {
		tm.data.set("disk_used_percent", disk(s.v, "web1"))
		tm.round(30 * time.Second)
		tm.wantState(s.st, s.sev, "host", "web1")
		if s.st == StateFiring {
			a := tm.alert("host", "web1")
			if a.Reason != s.why || a.Annotations["summary"] != s.summ {
				t.Fatalf("step %d: reason %q summary %q, want %q %q", i, a.Reason, a.Annotations["summary"], s.why, s.summ)
			}
		}
	}
	evs, err := tm.History(tm.now.Add(-time.Hour), tm.now, "", "DiskFull", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(evs) - 1; i >= 0; i-- {
		got = append(got, evs[i].From+">"+evs[i].To+" "+evs[i].Severity+" "+evs[i].Reason)
	}
	want := []string{
		"inactive>firing warning 1 of the last 1 datapoint [85 (10:01:00)] was > 80",
		"firing>resolved critical the last datapoint [70 (10:02:30)] was < 75",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// M of N: 2 of the last 3 datapoints must breach.
func TestThreshold_MofN(t *testing.T) {
	tm := newTestManager(t, `
groups:
- name: cpu
  interval: 10s
  rules:
  - alert: CPUHigh
    expr: cpu_busy
    crit: "> 90"
    datapoints_to_alarm: 2
    evaluation_periods: 3
`)
	for i, v := range []float64{95, 50, 40, 95, 60, 93} {
		tm.data.set("cpu_busy", query.Vector{sample(v, "__name__", "cpu_busy", "host", "db1")})
		tm.round(10 * time.Second)
		st := StateInactive
		if i == 5 {
			st = StateFiring
		}
		sev := ""
		if st == StateFiring {
			sev = "critical"
		}
		tm.wantState(st, sev, "host", "db1")
	}
	if a := tm.alert("host", "db1"); a.Reason != "2 of the last 3 datapoints [95 (10:00:40), 60 (10:00:50), 93 (10:01:00)] were > 90" {
		t.Fatalf("reason %q", a.Reason)
	}
}

// Prometheus semantics: every returned sample breaches; "for" makes it
// pending first; keep_firing_for holds it after the breach ends.
func TestThreshold_PrometheusForKeepFiring(t *testing.T) {
	tm := newTestManager(t, `
groups:
- name: up
  interval: 1m
  rules:
  - alert: WebappDown
    expr: webapp_uptime == 0
    for: 2m
    keep_firing_for: 2m
    labels: {severity: page}
`)
	down := query.Vector{sample(0, "host", "web1")}
	want := []State{StatePending, StatePending, StateFiring, StateFiring, StateFiring, StateInactive}
	for i, st := range want {
		if i < 3 {
			tm.data.set("webapp_uptime == 0", down)
		} else {
			tm.data.set("webapp_uptime == 0", nil)
		}
		tm.round(time.Minute)
		sev := ""
		if st != StateInactive {
			sev = "page"
		}
		tm.wantState(st, sev, "host", "web1")
	}
}

// missing_data policies for a series that stops while its host (no
// flatline rule watches it) is not known to be silent.
func TestThreshold_MissingData(t *testing.T) {
	for _, c := range []struct {
		policy string
		want   State
	}{
		{"breaching", StateFiring},
		{"not_breaching", StateInactive},
		{"ignore", StateInactive},
		{"missing", StateInsufficientData},
	} {
		t.Run(c.policy, func(t *testing.T) {
			tm := newTestManager(t, `
groups:
- name: g
  interval: 10s
  rules:
  - alert: Temp
    expr: temp
    crit: "> 50"
    evaluation_periods: 2
    datapoints_to_alarm: 2
    missing_data: `+c.policy+`
`)
			tm.data.set("temp", query.Vector{sample(20, "__name__", "temp", "room", "a")})
			tm.round(10 * time.Second)
			tm.data.set("temp", nil)
			tm.round(10 * time.Second)
			tm.round(10 * time.Second)
			sev := ""
			if c.want == StateFiring {
				sev = "critical"
			}
			tm.wantState(c.want, sev, "room", "a")
		})
	}
}

// State survives a restart: a firing alert and an insufficient-data one
// (whose datapoints are NaN, which JSON cannot hold as numbers) come back
// as they were, with no new state change in the history.
func TestThreshold_Restart(t *testing.T) {
	yml := `
groups:
- name: g
  interval: 10s
  rules:
  - alert: Temp
    expr: temp
    crit: "> 50"
    evaluation_periods: 2
    datapoints_to_alarm: 1
    missing_data: missing
`
	dir, data := t.TempDir(), &fakeData{}
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tm := openTestManager(t, dir, yml, data, start)
	data.set("temp", query.Vector{sample(80, "__name__", "temp", "room", "hot"), sample(20, "__name__", "temp", "room", "cold")})
	tm.round(10 * time.Second)
	data.set("temp", query.Vector{sample(80, "__name__", "temp", "room", "hot")})
	tm.round(10 * time.Second)
	tm.round(10 * time.Second)
	tm.wantState(StateFiring, "critical", "room", "hot")
	tm.wantState(StateInsufficientData, "", "room", "cold")
	now := tm.now
	tm.Close()

	tm2 := openTestManager(t, dir, yml, data, now)
	tm2.wantState(StateFiring, "critical", "room", "hot")
	tm2.wantState(StateInsufficientData, "", "room", "cold")
	tm2.round(10 * time.Second)
	tm2.wantState(StateFiring, "critical", "room", "hot")
	evs, _ := tm2.History(start, tm2.now, "", "", 0)
	if len(evs) != 2 {
		t.Fatalf("history %+v, want the two changes before the restart only", evs)
	}
}

// A change of level is a new severity label, so a new alert for the
// receivers: the old severity's alert is resolved at once, never left
// firing in the dispatcher.
func TestThreshold_LevelChangeResolvesOldSeverity(t *testing.T) {
	tm := newTestManager(t, diskRules)
	held := func() map[string]string { // severity -> status
		out := map[string]string{}
		for _, a := range tm.Notifier().Alerts() {
			if a.Alert.Labels["alertname"] == "DiskFull" {
				out[a.Alert.Labels["severity"]] = a.Alert.Status
			}
		}
		return out
	}
	for i, s := range []struct {
		v    float64
		want map[string]string
	}{
		{85, map[string]string{"warning": "firing"}},
		{95, map[string]string{"warning": "resolved", "critical": "firing"}},
		{85, map[string]string{"warning": "firing", "critical": "resolved"}},
		{70, map[string]string{"warning": "resolved", "critical": "resolved"}},
	} {
		tm.data.set("disk_used_percent", disk(s.v, "web1"))
		tm.round(30 * time.Second)
		got := held()
		for sev, st := range s.want {
			if got[sev] != st {
				t.Errorf("step %d (%v): the dispatcher holds %v, want %s %s", i, s.v, got, sev, st)
			}
		}
	}
}
