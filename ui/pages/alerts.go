package pages

import (
	"net/http"
	"time"

	"outpost/alerting"
)

// The alerts pages: the board of open alerts (grouped by alertname, then
// severity, as Alerta's board and Alertmanager's groups show them), the
// alerts that ended in the range, the silences, and the history. Admin
// forms acknowledge, annotate, silence (in the embedded Alertmanager, so
// amtool sees the silence) and retire; each is a POST that answers 303
// back to the page it came from.

// alertRoutes returns the routes of the alerts pages.
func (p *Pages) alertRoutes() []Route {
	return []Route{
		{Pattern: "GET /alerts", Handler: http.HandlerFunc(p.alertsPage)},
		{Pattern: "GET /alerts/history", Handler: http.HandlerFunc(p.alertHistoryPage)},
		{Pattern: "POST /alerts/{id}/ack", Admin: true, Handler: p.formHandler(p.ackAction)},
		{Pattern: "POST /alerts/{id}/unack", Admin: true, Handler: p.formHandler(p.unackAction)},
		{Pattern: "POST /alerts/{id}/note", Admin: true, Handler: p.formHandler(p.noteAction)},
		{Pattern: "POST /alerts/silences", Admin: true, Handler: p.formHandler(p.silenceAction)},
		{Pattern: "POST /alerts/silences/{id}/expire", Admin: true, Handler: p.formHandler(p.expireAction)},
		{Pattern: "POST /alerts/retire", Admin: true, Handler: p.formHandler(p.retireAction)},
	}
}

// alertsBody is the alerts page's own data.
type alertsBody struct {
	Now      time.Time
	Off      bool // no alert manager
	Filter   alertFilter
	Tiles    []alertTile
	Groups   []alertGroup // open alerts
	Ended    []alertGroup // resolved and retired in the range
	Silences []silenceView
	Expired  []silenceView
	Done     string // what the last action did
	Back     string // this page's URL, for the forms to come back to
	// SilenceDefault is the silence form's default duration.
	SilenceDefault string
	Problems       []string
}

// alertTile is one count at the top of the board, linking to its filter.
type alertTile struct {
	State, Label string
	N            int
	Link         string
}

func (p *Pages) alertsPage(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Alerts", "Alerts")
	pg.Styles = []string{"alerts.css"}
	b := alertsBody{Now: p.now(), Back: formBackURL(r), Done: doneMessage(r.URL.Query()), SilenceDefault: "2h"}
	f, err := parseAlertFilter(r.URL.Query())
	if err != nil {
		b.Problems = append(b.Problems, err.Error())
	}
	b.Filter = f
	pg.Keep = f.keep()
	if p.d.Alerts == nil {
		b.Off = true
		pg.Body = b
		p.render(w, r, p.tmpl["alerts.html"], http.StatusOK, pg)
		return
	}
	am := p.d.Alerts
	open := am.Alerts()
	ended, err := p.endedAlerts(am, pg.Range, open)
	if err != nil {
		b.Problems = append(b.Problems, "resolved and retired alerts: "+err.Error())
	}
	notes, err := p.alertNotes(am, open)
	if err != nil {
		b.Problems = append(b.Problems, "notes: "+err.Error())
	}
	b.Tiles = alertTiles(open, ended, f, pg.Range)
	var shown []alerting.AlertView
	for _, a := range open {
		if f.keepOpen(&a) {
			shown = append(shown, a)
		}
	}
	b.Groups = groupOpen(shown, notes, pg.Range)
	b.Ended = groupEnded(f.keepEnded(ended))
	b.Silences, b.Expired = p.silenceViews(am, open)
	pg.Body = b
	p.render(w, r, p.tmpl["alerts.html"], http.StatusOK, pg)
}

// alertTiles counts the open alerts by state and the ended ones, each
// tile linking to the board filtered on it.
func alertTiles(open []alerting.AlertView, ended []endedAlert, f alertFilter, rg Range) []alertTile {
	n := map[string]int{}
	for i := range open {
		for _, s := range openStates(&open[i]) {
			n[s]++
		}
	}
	for _, e := range ended {
		n[e.State]++
	}
	tiles := make([]alertTile, 0, len(stateChoices))
	for _, s := range stateChoices {
		if s.Value == "" {
			continue
		}
		link := rg.Link("/alerts", f.with("state", s.Value)...)
		tiles = append(tiles, alertTile{State: s.Value, Label: s.Label, N: n[s.Value], Link: link})
	}
	return tiles
}
