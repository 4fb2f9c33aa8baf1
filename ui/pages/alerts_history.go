package pages

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"outpost/alerting"
)

// historyPageSize is how many events one page of the history shows.
const historyPageSize = 50

// kindChoices are the history's kind filter.
var kindChoices = []alertChoice{
	{"", "all"}, {alerting.EventState, "state changes"}, {alerting.EventAck, "acks"}, {alerting.EventUnack, "unacks"},
	{alerting.EventNote, "notes"}, {alerting.EventTracked, "tracked (flatline)"},
}

// historyBody is the history page's own data.
type historyBody struct {
	Now         time.Time
	Off         bool
	Filter      alertFilter
	Kind        string
	Alertname   string
	KindChoices []alertChoice
	Events      []historyRow
	// Next links to the next (older) page; First to the newest one when
	// this is not it.
	Next, First string
	Page        int
	Problems    []string
}

// historyRow is one event of the history.
type historyRow struct {
	alerting.Event
	Labels   []alertLabel
	Severity string
	Value    string
}

// historyCursor is where a page of the history starts: events at or
// before Before (Unix ns), skipping the first Skip of those at Before,
// which the previous page showed.
type historyCursor struct {
	Before int64
	Skip   int
	Page   int
}

func (p *Pages) alertHistoryPage(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Alert history", "Alerts")
	pg.Styles = []string{"alerts.css"}
	q := r.URL.Query()
	b := historyBody{Now: p.now(), Kind: q.Get("kind"), Alertname: q.Get("alertname"), KindChoices: kindChoices}
	f, err := parseAlertFilter(q)
	if err != nil {
		b.Problems = append(b.Problems, err.Error())
	}
	b.Filter = f
	keep := f.keep()
	for k, v := range map[string]string{"kind": b.Kind, "alertname": b.Alertname} {
		if v != "" {
			keep[k] = v
		}
	}
	pg.Keep = keep
	if p.d.Alerts == nil {
		b.Off = true
		pg.Body = b
		p.render(w, r, p.tmpl["alerts_history.html"], http.StatusOK, pg)
		return
	}
	cur := parseCursor(q)
	to := pg.Range.End
	if cur.Before != 0 && cur.Before < to.UnixNano() {
		to = time.Unix(0, cur.Before)
	}
	evs, err := p.d.Alerts.HistoryWhere(pg.Range.Start, to, cur.Skip+historyPageSize+1, func(e *alerting.Event) bool {
		return (b.Kind == "" || e.Kind == b.Kind) && (b.Alertname == "" || e.Alertname == b.Alertname) &&
			(f.State == "" || e.To == f.State) && f.matches(e.Severity, e.Labels)
	})
	if err != nil {
		b.Problems = append(b.Problems, "read the history: "+err.Error())
	}
	all := evs
	evs = evs[min(cur.Skip, len(evs)):]
	more := len(evs) > historyPageSize
	evs = evs[:min(len(evs), historyPageSize)]
	for _, e := range evs {
		b.Events = append(b.Events, historyRow{Event: e, Labels: alertLabels(e.Labels, "alertname"),
			Severity: alertSeverity(e.Severity), Value: formatValue(float64(e.Value))})
	}
	b.Page = cur.Page + 1
	link := func(extra ...string) string {
		args := make([]string, 0, 2*len(keep)+len(extra))
		for k, v := range keep {
			args = append(args, k, v)
		}
		return pg.Range.Link("/alerts/history", append(args, extra...)...)
	}
	if more {
		last := evs[len(evs)-1].T.UnixNano()
		skip := 0
		for _, e := range all[:cur.Skip+len(evs)] {
			if e.T.UnixNano() == last {
				skip++
			}
		}
		b.Next = link("before", strconv.FormatInt(last, 10), "skip", strconv.Itoa(skip), "page", strconv.Itoa(b.Page))
	}
	if cur.Page > 0 {
		b.First = link()
	}
	pg.Body = b
	p.render(w, r, p.tmpl["alerts_history.html"], http.StatusOK, pg)
}

// parseCursor reads before, skip and page; bad values start at the
// newest event.
func parseCursor(q url.Values) historyCursor {
	var c historyCursor
	var err error
	if c.Before, err = strconv.ParseInt(q.Get("before"), 10, 64); err != nil || c.Before < 0 {
		return historyCursor{}
	}
	if c.Skip, err = strconv.Atoi(q.Get("skip")); err != nil || c.Skip < 0 || c.Skip > 100000 {
		c.Skip = 0
	}
	if c.Page, err = strconv.Atoi(q.Get("page")); err != nil || c.Page < 0 {
		c.Page = 0
	}
	return c
}
