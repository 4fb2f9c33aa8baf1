package pages

import (
	"strconv"
	"time"

	"outpost/alerting"
	"outpost/query"
)

// slowRows formats the engine's slow queries, newest first as given.
func slowRows(qs []query.SlowQuery) []slowRow {
	rows := make([]slowRow, 0, len(qs))
	for _, q := range qs {
		r := slowRow{At: q.At, Duration: roundDuration(q.Duration), Query: q.Query, Samples: statusCount(q.Samples), Err: q.Err}
		if q.Instant {
			r.Range = "at " + q.End.UTC().Format("2006-01-02 15:04:05Z")
		} else {
			r.Range = q.Start.UTC().Format("2006-01-02 15:04:05Z") + " to " + q.End.UTC().Format("2006-01-02 15:04:05Z") +
				", step " + q.Step.String()
		}
		rows = append(rows, r)
	}
	return rows
}

// roundDuration prints d with three significant figures or so: 1.23s,
// 456ms, 2m3s.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// alertingView is the alerting section of the status page.
type alertingView struct {
	Rules, Groups string
	Defaults      bool
	Files         []alerting.FileStatus
	Alerts        string // alerts held by the notifier
	Depth         string // notifications waiting in the outbox, every integration
	Integrations  []integrationRow
}

// integrationRow is one integration's outbox counters.
type integrationRow struct {
	Receiver, Integration string
	Sent, Failed, Dropped string
	Depth                 string
}

// alertingStatus formats the alert manager's status.
func alertingStatus(st alerting.Status) *alertingView {
	v := &alertingView{Rules: strconv.Itoa(st.Rules), Groups: strconv.Itoa(st.Groups), Defaults: st.Defaults, Files: st.Files,
		Alerts: statusCount(int64(st.Delivery.Alerts))}
	depth := 0
	for _, in := range st.Delivery.Integrations {
		var dropped uint64
		for _, n := range in.Dropped {
			dropped += n
		}
		depth += in.Depth
		v.Integrations = append(v.Integrations, integrationRow{Receiver: in.Receiver, Integration: in.Integration,
			Sent: statusCount(int64(in.Sent)), Failed: statusCount(int64(in.Failed)), Dropped: statusCount(int64(dropped)),
			Depth: strconv.Itoa(in.Depth)})
	}
	v.Depth = strconv.Itoa(depth)
	return v
}
