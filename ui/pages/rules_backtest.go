package pages

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/rulefile"
	"outpost/query"
)

// What the editor's Test shows of a backtest: its totals, a chart per
// alert series (at most maxTestCharts) of its rule's expression over the
// range with the rule's threshold lines, the series' state timeline under
// it, and the would-be notifications.

// maxTestCharts is the most alert series the test result draws.
const maxTestCharts = 10

// maxTestNotifications is the most notification rows it lists.
const maxTestNotifications = 500

// backtestView is a backtest as the editor shows it.
type backtestView struct {
	Group             string
	Start, End        time.Time
	Step              string
	Steps             int
	Totals            alerting.BacktestTotals
	FailedEvaluations int
	Errors            []alerting.BacktestError
	Truncated         bool
	Series            []testSeries
	MoreSeries        int // alert series not drawn
	Notifications     []testNotification
	MoreNotifications int
}

// charts reports whether the view draws a chart.
func (v *backtestView) charts() bool {
	for _, s := range v.Series {
		if !s.Chart.Empty || !s.States.Empty {
			return true
		}
	}
	return false
}

// testSeries is one alert series of the test: its chart and timeline.
type testSeries struct {
	Alertname string
	Labels    []alertLabel
	Chart     Chart
	States    StateChart
	Changes   int
}

// testNotification is one series' appearance in a would-be notification.
type testNotification struct {
	Time                  time.Time
	Kind                  string // firing, repeat, resolved
	Receiver, Integration string
	Severity              string
	Alertname             string
	Labels                []alertLabel
	Reason                string // of the state change it reports
}

// backtestView builds the view of res, the backtest of g over rg.
func (p *Pages) backtestView(ctx context.Context, g *rulefile.Group, res *alerting.BacktestResult, rg Range) *backtestView {
	v := &backtestView{Group: res.Group, Start: res.Start, End: res.End, Step: res.Step, Steps: res.Steps,
		Totals: res.Totals, FailedEvaluations: res.FailedEvaluations, Errors: res.Errors, Truncated: res.Truncated}
	for _, s := range res.Series {
		for _, n := range s.Notifications {
			v.Notifications = append(v.Notifications, testNotification{Time: n.Time, Kind: n.Kind, Receiver: n.Receiver,
				Integration: n.Integration, Severity: n.Severity, Alertname: s.Alertname,
				Labels: alertLabels(s.Labels, "alertname"), Reason: reasonAt(s.Timeline, n.Time, n.Kind, n.Severity)})
		}
	}
	slices.SortStableFunc(v.Notifications, func(a, b testNotification) int { return a.Time.Compare(b.Time) })
	if len(v.Notifications) > maxTestNotifications {
		v.MoreNotifications = len(v.Notifications) - maxTestNotifications
		v.Notifications = v.Notifications[:maxTestNotifications]
	}

	series := res.Series
	if len(series) > maxTestCharts {
		v.MoreSeries = len(series) - maxTestCharts
		series = series[:maxTestCharts]
	}
	results := map[string]query.Matrix{} // by rule name: its expression over the range
	failed := map[string]string{}
	for i, s := range series {
		ts := testSeries{Alertname: s.Alertname, Labels: alertLabels(s.Labels, "alertname"), Changes: len(s.Timeline)}
		id := fmt.Sprintf("test-chart-%d", i)
		rule := findGroupRule(g, s.Alertname)
		switch {
		case rule == nil:
			ts.Chart = Chart{ID: id, Title: "expression", Empty: true, Note: "no rule of the group is called " + s.Alertname}
		default:
			expr, spec, _ := ruleChartSpec(rule, rg)
			spec.ID = id
			m, seen := results[rule.Name]
			if !seen && failed[rule.Name] == "" {
				var err error
				if m, err = p.rangeQuery(ctx, expr, rg, nil); err != nil {
					failed[rule.Name] = err.Error()
				}
				results[rule.Name] = m
			}
			if msg := failed[rule.Name]; msg != "" {
				ts.Chart = Chart{ID: id, Title: spec.Title, Empty: true, Note: "query failed: " + msg}
			} else {
				ts.Chart = lineChart(spec, seriesOf(m, s.Labels), rg)
			}
		}
		ts.States = stateChart(fmt.Sprintf("test-states-%d", i), "state", []stateRow{timelineRow(s, rg)}, rg)
		ts.States.Height = 80
		v.Series = append(v.Series, ts)
	}
	return v
}

// findGroupRule returns the alerting or flatline rule of g called name.
func findGroupRule(g *rulefile.Group, name string) *rulefile.Rule {
	for i := range g.Rules {
		if r := &g.Rules[i]; r.Name == name && r.Kind != rulefile.KindRecord {
			return r
		}
	}
	return nil
}

// seriesOf returns the series of m whose labels (but the name) the alert
// series' labels all hold: the ones it was made of.
func seriesOf(m query.Matrix, alert map[string]string) query.Matrix {
	var out query.Matrix
	for _, s := range m {
		ok := true
		for _, l := range s.Labels {
			if l.Name != "__name__" && alert[l.Name] != l.Value {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// timelineRow is an alert series' state changes as one state-timeline row:
// each stretch from a change to the next (the first from the range's
// start, in the state it left), firing named by its severity.
func timelineRow(s alerting.BacktestSeries, rg Range) stateRow {
	start, end := rg.alignedGrid()
	row := stateRow{Name: s.Alertname}
	at, state := start.UnixMilli(), ""
	if len(s.Timeline) > 0 {
		state = testStateName(s.Timeline[0].From, "")
	}
	for _, c := range s.Timeline {
		t := c.Time.UnixMilli()
		if t > at && state != "" {
			row.Segments = append(row.Segments, stateSegment{Start: at, End: t, State: state})
		}
		at, state = max(at, t), testStateName(c.To, c.Severity)
	}
	if e := end.UnixMilli(); e > at && state != "" {
		row.Segments = append(row.Segments, stateSegment{Start: at, End: e, State: state})
	}
	return row
}

// testStateName names a state in the timeline so that its colour says
// what it is: firing as its severity (critical red, warning orange),
// pending, and ok for inactive and resolved.
func testStateName(state, severity string) string {
	switch state {
	case "firing":
		if severity != "" {
			return severity
		}
		return "firing"
	case "inactive", "resolved":
		return "ok"
	case "insufficient_data":
		return "unknown"
	}
	return state
}

// reasonAt is the reason of the last state change of tl at or before t
// when it is the change the notification of kind and severity reports
// (into firing at that severity, or out of firing for a resolution), else
// "": a change of severity within firing is not a change of state.
func reasonAt(tl []alerting.BacktestChange, t time.Time, kind, severity string) string {
	var last *alerting.BacktestChange
	for i := range tl {
		if tl[i].Time.After(t) {
			break
		}
		last = &tl[i]
	}
	switch {
	case last == nil:
		return ""
	case kind == alerting.NotifyResolved && last.From == "firing" && last.To != "firing",
		kind != alerting.NotifyResolved && last.To == "firing" && (severity == "" || last.Severity == severity):
		return strings.TrimSpace(last.Reason)
	}
	return ""
}
