package pages

import (
	"net/http"
	"net/url"
)

// dashboardRoutes returns the routes of the dashboards pages: the list of
// the dashboard files of ui.dashboards (with the problems of those that do
// not load) and each dashboard. The files are read on first use and again
// whenever one changes (see dashboardSet).
func (p *Pages) dashboardRoutes() []Route {
	set := newDashboardSet(p.cfg.Dashboards, p.log.With("component", "dashboards"))
	return []Route{
		{Pattern: "GET /dashboards", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.dashboardList(w, r, set.snapshot(), "")
		})},
		{Pattern: "GET /dashboards/{name}", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.dashboard(w, r, set.snapshot())
		})},
	}
}

// dashboardListBody is the list page's own data.
type dashboardListBody struct {
	Globs    []string
	OK       []dashboardEntry
	Broken   []dashboardEntry
	Patterns []string // malformed globs
	Missing  string   // the name asked for that no file has
}

// dashboardList answers GET /dashboards, and an unknown dashboard's name
// (with status 404 and missing set).
func (p *Pages) dashboardList(w http.ResponseWriter, r *http.Request, snap *dashboardSnapshot, missing string) {
	pg := p.start(r, "Dashboards", "Dashboards")
	pg.Styles = []string{"dashboards.css"}
	b := dashboardListBody{Globs: p.cfg.Dashboards, Patterns: snap.patterns, Missing: missing}
	for _, e := range snap.entries {
		if e.OK() {
			b.OK = append(b.OK, e)
		} else {
			b.Broken = append(b.Broken, e)
		}
	}
	pg.Body = b
	status := http.StatusOK
	if missing != "" {
		status = http.StatusNotFound
	}
	p.render(w, r, p.tmpl["dashboards.html"], status, pg)
}

// dashboard answers GET /dashboards/{name}.
func (p *Pages) dashboard(w http.ResponseWriter, r *http.Request, snap *dashboardSnapshot) {
	name := r.PathValue("name")
	e, ok := snap.byName[name]
	if !ok {
		p.dashboardList(w, r, snap, name)
		return
	}
	if !e.OK() {
		pg := p.start(r, name, "Dashboards")
		pg.Styles = []string{"dashboards.css"}
		pg.Body = dashboardViewBody{Name: name, File: e.Path, Errs: e.Errs}
		p.render(w, r, p.tmpl["dashboards_view.html"], http.StatusOK, pg)
		return
	}
	d := e.D
	pg := p.start(r, d.Title, "Dashboards")
	pg.Styles = []string{"dashboards.css"}
	q := r.URL.Query()
	if d.From != "" && !q.Has("from") || d.Refresh != "" && !q.Has("refresh") {
		// The dashboard's own defaults, when the URL gives none.
		dq := url.Values{}
		for k, vs := range q {
			dq[k] = vs
		}
		if !q.Has("from") && d.From != "" {
			dq.Set("from", d.From)
		}
		if !q.Has("refresh") && d.Refresh != "" {
			dq.Set("refresh", d.Refresh)
		}
		if rg, err := parseRange(dq, p.now()); err == nil {
			pg.Range = rg
		}
	}
	vars, values := p.dashboardVars(r.Context(), d, q, pg.Range)
	pg.Keep = map[string]string{}
	for _, v := range vars {
		pg.Keep[v.Param] = v.Selected
	}
	rows := p.dashboardRows(r.Context(), d, pg.Range, values)
	for _, row := range rows {
		for _, c := range row.Charts {
			pg.Charts = pg.Charts || !c.Chart.Empty // load echarts only for a chart to draw
		}
	}
	pg.Body = dashboardViewBody{Name: name, File: e.Path, D: d, Vars: vars, Rows: rows}
	p.render(w, r, p.tmpl["dashboards_view.html"], http.StatusOK, pg)
}
