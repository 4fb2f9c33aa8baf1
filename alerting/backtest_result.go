package alerting

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/receiver"
)

// BacktestResult is what a backtest found: per alert series, its state
// changes and the notifications it was in; every notification; totals.
type BacktestResult struct {
	Group string    `json:"group"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Step is the group's interval; Steps the evaluations run.
	Step  string `json:"step"`
	Steps int    `json:"steps"`
	// Series are the alert series that changed state, by alertname and
	// labels.
	Series []BacktestSeries `json:"series"`
	// Notifications are every notification the dispatcher would have
	// sent, one per receiver integration, in time order.
	Notifications []BacktestNotification `json:"notifications"`
	Totals        BacktestTotals         `json:"totals"`
	// Truncated says the lists were cut at their bound (the totals are
	// whole); the earliest entries are kept.
	Truncated bool `json:"truncated,omitempty"`
	// FailedEvaluations counts rule evaluations that failed; Errors holds
	// the first failure of each rule.
	FailedEvaluations int             `json:"failedEvaluations"`
	Errors            []BacktestError `json:"errors"`
}

// BacktestSeries is one alert series of a backtest.
type BacktestSeries struct {
	Alertname   string            `json:"alertname"`
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	// Timeline is its state changes in time order.
	Timeline []BacktestChange `json:"timeline"`
	// Notifications are the notifications it was in, in time order.
	Notifications []SeriesNotification `json:"notifications"`
}

// BacktestChange is one change of state.
type BacktestChange struct {
	Time     time.Time `json:"time"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Severity string    `json:"severity,omitempty"`
	Value    number    `json:"value"`
	Reason   string    `json:"reason,omitempty"`
}

// The kinds of SeriesNotification.
const (
	// NotifyFiring: the first notification since the series started
	// firing (or changed severity).
	NotifyFiring = "firing"
	// NotifyRepeat: sent again while it fires: its repeat interval, or a
	// notification of its group for another alert.
	NotifyRepeat = "repeat"
	// NotifyResolved: its resolution.
	NotifyResolved = "resolved"
)

// SeriesNotification is one notification a series was in.
type SeriesNotification struct {
	Time        time.Time `json:"time"`
	Receiver    string    `json:"receiver"`
	Integration string    `json:"integration"`
	// Kind is NotifyFiring, NotifyRepeat or NotifyResolved.
	Kind     string `json:"kind"`
	Severity string `json:"severity,omitempty"`
}

// BacktestNotification is one notification to one integration.
type BacktestNotification struct {
	Time        time.Time `json:"time"`
	Receiver    string    `json:"receiver"`
	Integration string    `json:"integration"`
	GroupKey    string    `json:"groupKey"`
	// Status is "firing" when any alert in it fires, else "resolved";
	// Firing and Resolved count its alerts.
	Status   string `json:"status"`
	Firing   int    `json:"firing"`
	Resolved int    `json:"resolved"`
}

// BacktestTotals counts what a backtest found.
type BacktestTotals struct {
	Series      int `json:"series"`
	Transitions int `json:"transitions"`
	// Notifications counts the notifications; Firing, Repeat and Resolved
	// the series' appearances in them by kind.
	Notifications int `json:"notifications"`
	Firing        int `json:"firing"`
	Repeat        int `json:"repeat"`
	Resolved      int `json:"resolved"`
}

// BacktestError is the first failed evaluation of a rule.
type BacktestError struct {
	Rule  string    `json:"rule"`
	Time  time.Time `json:"time"`
	Error string    `json:"error"`
}

// drain reads the scratch history up to to into the timelines, then
// deletes it from the scratch file.
func (r *backtestRun) drain(to time.Time) error {
	evs, err := r.m.HistoryWhere(r.start, to, 0, func(e *Event) bool { return e.Kind == EventState })
	if err != nil {
		return fmt.Errorf("backtest: read the history: %w", err)
	}
	for i := len(evs) - 1; i >= 0; i-- { // oldest first
		e := &evs[i]
		s := r.byFP[e.Fingerprint]
		if s == nil {
			s = &BacktestSeries{Alertname: e.Alertname, Labels: e.Labels, Fingerprint: e.Fingerprint,
				Timeline: []BacktestChange{}, Notifications: []SeriesNotification{}}
			r.byFP[e.Fingerprint] = s
		}
		if e.To == StateFiring.String() {
			r.fired[e.Fingerprint] = e.T
		}
		r.res.Totals.Transitions++
		if r.listed() {
			s.Timeline = append(s.Timeline, BacktestChange{Time: e.T, From: e.From, To: e.To, Severity: e.Severity, Value: e.Value, Reason: e.Reason})
		}
	}
	for {
		n, err := r.m.st.pruneHistory(to.Add(time.Nanosecond))
		if err != nil {
			return fmt.Errorf("backtest: %w", err)
		}
		if n < 10000 {
			return nil
		}
	}
}

// listed counts one more listed entry and reports whether it is within
// the bound.
func (r *backtestRun) listed() bool {
	if r.items++; r.items > maxBacktestItems {
		r.res.Truncated = true
		return false
	}
	return true
}

// take adds notifications, all made after every change of state drained,
// to the result and to their series.
func (r *backtestRun) take(sent []notify.Sent) {
	for _, sn := range sent {
		nt := &sn.Notification
		bn := BacktestNotification{Time: nt.CreatedAt, Receiver: sn.Receiver, Integration: sn.Integration, GroupKey: nt.GroupKey, Status: nt.Status}
		for _, a := range nt.Alerts {
			fp := seriesOf(a, r.byFP)
			// The dispatcher tells a new severity as a new alert.
			k := fp + "\x00" + a.Severity + "\x00" + sn.Receiver + "\x00" + sn.Integration
			en := SeriesNotification{Time: nt.CreatedAt, Receiver: sn.Receiver, Integration: sn.Integration, Severity: a.Severity}
			prev, told := r.last[k]
			switch {
			case !a.Firing():
				bn.Resolved++
				en.Kind = NotifyResolved
				delete(r.last, k)
				r.res.Totals.Resolved++
			case told && !prev.Before(r.fired[fp]):
				bn.Firing++
				en.Kind = NotifyRepeat
				r.res.Totals.Repeat++
			default:
				bn.Firing++
				en.Kind = NotifyFiring
				r.res.Totals.Firing++
			}
			if a.Firing() {
				r.last[k] = nt.CreatedAt
			}
			if s := r.byFP[fp]; s != nil && r.listed() {
				s.Notifications = append(s.Notifications, en)
			}
		}
		r.res.Totals.Notifications++
		if len(r.res.Notifications) < maxBacktestItems {
			r.res.Notifications = append(r.res.Notifications, bn)
		} else {
			r.res.Truncated = true
		}
	}
}

// finish puts the series into the result, by alertname and labels.
func (r *backtestRun) finish() {
	r.res.Series = make([]BacktestSeries, 0, len(r.byFP))
	for _, s := range r.byFP {
		r.res.Series = append(r.res.Series, *s)
	}
	r.res.Totals.Series = len(r.res.Series)
	slices.SortFunc(r.res.Series, func(a, b BacktestSeries) int {
		return strings.Compare(a.Alertname+"\x00"+labelsKey(a.Labels), b.Alertname+"\x00"+labelsKey(b.Labels))
	})
}

// seriesOf finds the series of a notified alert: its labels are the
// series' plus, for a rule with levels, severity.
func seriesOf(a receiver.Alert, byFP map[string]*BacktestSeries) string {
	if fp := fingerprint(a.Labels); byFP[fp] != nil {
		return fp
	}
	ls := maps.Clone(a.Labels)
	delete(ls, "severity")
	return fingerprint(ls)
}

// labelsKey is labels as one sortable string.
func labelsKey(ls map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		b.WriteString(k + "=" + ls[k] + "\x00")
	}
	return b.String()
}
