package pages

import (
	"time"

	"outpost/alerting"
)

// maxEndedScan bounds the history events the board reads for the alerts
// that ended in its range, and maxEnded the ended alerts it lists.
const (
	maxEndedScan = 20000
	maxEnded     = 500
)

// endedAlert is an alert that resolved or was retired within the range
// and is not open again: its last state event.
type endedAlert struct {
	alerting.Event
	State string // resolved or retired
}

// endedAlerts reads, from the history of rg, the alerts whose last change
// was to resolved or retired, newest first, leaving out those open again.
func (p *Pages) endedAlerts(am *alerting.Manager, rg Range, open []alerting.AlertView) ([]endedAlert, error) {
	isOpen := make(map[string]bool, len(open))
	for i := range open {
		isOpen[noteKey(open[i].Rule, open[i].ID)] = true
	}
	seen := map[string]bool{}
	var out []endedAlert
	scanned := 0
	_, err := am.HistoryWhere(rg.Start, rg.End, 1, func(e *alerting.Event) bool {
		scanned++
		if scanned > maxEndedScan || len(out) >= maxEnded {
			return true // stops the scan
		}
		if e.Kind != alerting.EventState {
			return false
		}
		k := noteKey(e.Rule, e.Fingerprint)
		if seen[k] {
			return false
		}
		seen[k] = true // the newest change of each alert decides
		if (e.To == "resolved" || e.To == "retired") && !isOpen[k] {
			out = append(out, endedAlert{Event: *e, State: e.To})
		}
		return false
	})
	return out, err
}

// groupEnded turns ended alerts into groups for the board.
func groupEnded(es []endedAlert) []alertGroup {
	rows := make([]alertRow, 0, len(es))
	for _, e := range es {
		rows = append(rows, alertRow{ID: e.Fingerprint, Rule: e.Rule, Alertname: alertname(e.Labels, e.Rule),
			State: e.State, Severity: alertSeverity(e.Severity), Labels: alertLabels(e.Labels, "alertname"),
			Value: formatValue(float64(e.Value)), Ended: e.T, Reason: e.Reason, states: []string{e.State}})
	}
	return groupRows(rows)
}

// alertNotes reads the notes, acks and unacks of the open alerts since
// their breach began (within the history's retention), newest first, by
// noteKey.
func (p *Pages) alertNotes(am *alerting.Manager, open []alerting.AlertView) (map[string][]alerting.Event, error) {
	if len(open) == 0 {
		return nil, nil
	}
	now := p.now()
	from := now // the oldest breach: no note of these alerts is older
	since := make(map[string]time.Time, len(open))
	for i := range open {
		t := open[i].ActiveAt
		since[noteKey(open[i].Rule, open[i].ID)] = t
		if !t.IsZero() && t.Before(from) {
			from = t
		}
		if t.IsZero() {
			from = now.Add(-am.HistoryRetention())
		}
	}
	if oldest := now.Add(-am.HistoryRetention()); from.Before(oldest) {
		from = oldest
	}
	evs, err := am.HistoryWhere(from, now.Add(time.Second), 1000, func(e *alerting.Event) bool {
		switch e.Kind {
		case alerting.EventNote, alerting.EventAck, alerting.EventUnack:
			t, ok := since[noteKey(e.Rule, e.Fingerprint)]
			return ok && !e.T.Before(t)
		}
		return false
	})
	out := map[string][]alerting.Event{}
	for _, e := range evs {
		k := noteKey(e.Rule, e.Fingerprint)
		out[k] = append(out[k], e)
	}
	return out, err
}
