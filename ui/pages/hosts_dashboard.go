package pages

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"outpost/alerting"
	"outpost/query"
	"outpost/tsdb"
)

// hostQueryConcurrency is how many of a dashboard's queries run at once.
const hostQueryConcurrency = 4

// maxMetricPanels is the most metrics outside the convention (an exec
// input's, a Graphite sender's) drawn one panel each; the others are
// listed with a link to explore.
const maxMetricPanels = 24

// hostDashBody is the data of a host dashboard.
type hostDashBody struct {
	Host      string
	Known     bool // false: no series ever had this host label (404)
	InRange   bool // the host has series in the range
	Now       time.Time
	LastSeen  time.Time // zero: nothing within the last hour
	Silent    bool      // nothing within silentAfter
	Sender    string    // whose names the panels read: Telegraf, collectd, both, or neither
	Uptime    string
	AlertsOff bool
	Alerts    []hostAlert
	Pending   int
	Panels    []hostPanelView
	States    StateChart
	Metrics   []hostPanelView // one per metric name outside the convention
	More      []hostMetricLink
	Problems  []string
}

// hostPanelView is one drawn panel.
type hostPanelView struct {
	Key    string // data-panel
	Metric string // the metric of a per-name panel
	Chart  Chart
}

// hostMetricLink is a metric not drawn, with a link to explore it.
type hostMetricLink struct{ Name, Query string }

// hostAlert is a firing alert of the host.
type hostAlert struct {
	ID, Rule, Severity, Summary string
	Since                       time.Time
	Value                       float64
	Acked, Silenced             bool
}

// hostJob is one query of a dashboard.
type hostJob struct {
	expr string
	vars map[string]string
	at   time.Time // an instant query at this time; zero: a range query
	m    query.Matrix
	v    query.Vector
	err  error
}

// runHostJobs runs jobs over rg, hostQueryConcurrency at a time, until
// ctx ends.
func (p *Pages) runHostJobs(ctx context.Context, jobs []*hostJob, rg Range) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(hostQueryConcurrency, len(jobs)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := jobs[i]
				if j.at.IsZero() {
					j.m, j.err = p.rangeQuery(ctx, j.expr, rg, j.vars)
				} else {
					j.v, j.err = p.instant(ctx, expandVars(j.expr, rg, j.vars), j.at)
				}
			}
		})
	}
	wg.Wait()
}

// hostDashboard answers GET /hosts/{host}.
func (p *Pages) hostDashboard(w http.ResponseWriter, r *http.Request) {
	host := r.PathValue("host")
	pg := p.start(r, host, "Hosts")
	pg.Charts, pg.Styles = true, []string{"hosts.css"}
	pg.Path = "/hosts/" + url.PathEscape(host) // r.URL.Path has a / of the name unescaped
	ctx := r.Context()
	b := hostDashBody{Host: host, Known: true, Now: p.now()}
	rg := pg.Range
	hm, err := tsdb.NewMatcher(tsdb.MatchEqual, "host", host)
	if err != nil {
		http.Error(w, "host matcher: "+err.Error(), http.StatusBadRequest)
		return
	}
	names, err := p.d.Storage.LabelValues(ctx, "__name__", rg.Start.UnixMilli(), rg.End.UnixMilli(), hm)
	if err != nil {
		b.Problems = append(b.Problems, "metric names: "+err.Error())
	}
	if len(names) == 0 && err == nil {
		ever, err := p.d.Storage.LabelValues(ctx, "__name__", tsdb.MinTime, tsdb.MaxTime, hm)
		if err == nil && len(ever) == 0 {
			b.Known = false
			pg.Body = b
			p.render(w, r, p.tmpl["hosts_host.html"], http.StatusNotFound, pg)
			return
		}
	}
	b.InRange = len(names) > 0
	p.fillDashboard(ctx, &b, names, rg)
	if ctx.Err() != nil {
		return // the client left
	}
	pg.Body = b
	p.render(w, r, p.tmpl["hosts_host.html"], http.StatusOK, pg)
}

// hostPlan is the queries of one dashboard, by what they draw.
type hostPlan struct {
	panels    []hostPanel
	panelJobs [][]*hostJob // by panel, one per query
	infoJob   *hostJob     // the _info series; nil when there are none
	others    []string     // metrics outside the convention, one panel each
	otherJobs []*hostJob
	uptimeJob *hostJob // nil when the host sends no uptime
	seenJob   *hostJob
	jobs      []*hostJob // all of them
}

// planDashboard decides, from the metric names the host has in the range,
// which panels and states b gets and what each asks.
func planDashboard(b *hostDashBody, names []string, rg Range) *hostPlan {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	pl := &hostPlan{}
	add := func(j *hostJob) *hostJob { pl.jobs = append(pl.jobs, j); return j }
	hostVar := map[string]string{"host": metricsqlString(b.Host)}
	pl.panels, b.Sender = hostChoosePanels(have)
	pl.panelJobs = make([][]*hostJob, len(pl.panels))
	for i, d := range pl.panels {
		for _, q := range d.Queries {
			pl.panelJobs[i] = append(pl.panelJobs[i], add(&hostJob{expr: q.Expr, vars: hostVar}))
		}
	}
	var infos []string
	for _, n := range names {
		switch {
		case strings.HasSuffix(n, "_info"):
			if !strings.Contains(n, "uptime_format") { // changes every minute: never a state
				infos = append(infos, n)
			}
		case !hostConventional(n):
			pl.others = append(pl.others, n)
		}
	}
	if len(infos) > 0 {
		pl.infoJob = add(&hostJob{expr: `timestamp({__name__=~"$metrics", host="$host"}) keep_metric_names`,
			vars: map[string]string{"host": hostVar["host"], "metrics": metricsqlString(namesRegexp(infos))}})
	}
	if len(pl.others) > maxMetricPanels {
		for _, n := range pl.others[maxMetricPanels:] {
			b.More = append(b.More, hostMetricLink{Name: n, Query: metricSelector(n, b.Host)})
		}
		pl.others = pl.others[:maxMetricPanels]
	}
	for _, n := range pl.others {
		pl.otherJobs = append(pl.otherJobs, add(&hostJob{expr: `{__name__="$metric", host="$host"}`,
			vars: map[string]string{"host": hostVar["host"], "metric": metricsqlString(n)}}))
	}
	for _, u := range hostUptimeQueries {
		if have[u.Name] {
			pl.uptimeJob = add(&hostJob{expr: u.Expr, vars: hostVar, at: rg.End})
			break
		}
	}
	pl.seenJob = add(&hostJob{expr: `max(tlast_over_time({host="$host", __name__!~"ALERTS|ALERTS_FOR_STATE"}[1h]))`,
		vars: hostVar, at: b.Now})
	return pl
}

// fillDashboard builds b's panels, states, stats and alerts for a host
// that has the metric names in names within rg.
func (p *Pages) fillDashboard(ctx context.Context, b *hostDashBody, names []string, rg Range) {
	pl := planDashboard(b, names, rg)
	p.runHostJobs(ctx, pl.jobs, rg)
	for i, d := range pl.panels {
		if pv, ok := p.panelView(b, d, pl.panelJobs[i], rg); ok {
			b.Panels = append(b.Panels, pv)
		}
	}
	var rows []stateRow
	step := rg.Step.Milliseconds()
	if pl.infoJob != nil {
		if pl.infoJob.err != nil {
			b.Problems = append(b.Problems, "states: "+pl.infoJob.err.Error())
		}
		rows = append(rows, infoRows(pl.infoJob.m, step)...)
	}
	for i, j := range pl.otherJobs {
		switch {
		case j.err != nil:
			b.Problems = append(b.Problems, pl.others[i]+": "+j.err.Error())
		case isFlag(j.m):
			rows = append(rows, flagRows(j.m, step)...)
		case len(j.m) > 0:
			for k := range j.m {
				j.m[k].Labels = tsdb.FromStrings("legend", hostLegend(j.m[k].Labels))
			}
			c := lineChart(lineSpec{ID: "metric-" + strconv.Itoa(i), Title: pl.others[i], Unit: "short", Legend: "legend"}, j.m, rg)
			b.Metrics = append(b.Metrics, hostPanelView{Key: "metric", Metric: pl.others[i], Chart: c})
		}
	}
	b.States = stateChart("states", "States", rows, rg)
	if j := pl.uptimeJob; j != nil && j.err == nil && len(j.v) > 0 {
		b.Uptime = formatUptime(j.v[0].V)
	}
	if j := pl.seenJob; j.err == nil && len(j.v) > 0 {
		b.LastSeen = time.Unix(int64(j.v[0].V), 0)
		b.Silent = b.Now.Sub(b.LastSeen) > silentAfter
	}
	p.hostAlerts(b)
}

// panelView turns a panel's query results into its chart; ok is false
// when the panel has no data and is left out.
func (p *Pages) panelView(b *hostDashBody, d hostPanel, jobs []*hostJob, rg Range) (hostPanelView, bool) {
	var m query.Matrix
	for k, j := range jobs {
		if j.err != nil {
			b.Problems = append(b.Problems, d.Title+": "+j.err.Error())
			continue
		}
		for _, s := range j.m {
			name := d.Queries[k].Name
			if name == "" {
				name = seriesName(s.Labels, d.Queries[k].Legend)
			}
			s.Labels = tsdb.FromStrings("legend", name)
			for i := range s.Points {
				s.Points[i].V = roundSignificant(s.Points[i].V, chartDigits)
			}
			m = append(m, s)
		}
	}
	if len(m) == 0 {
		return hostPanelView{}, false
	}
	rank := func(s query.Series) int {
		if i := slices.Index(d.Order, s.Labels[0].Value); i >= 0 {
			return i
		}
		return len(d.Order)
	}
	slices.SortStableFunc(m, func(a, b query.Series) int {
		if c := rank(a) - rank(b); c != 0 {
			return c
		}
		return strings.Compare(a.Labels[0].Value, b.Labels[0].Value)
	})
	spec := lineSpec{ID: "panel-" + d.Key, Title: d.Title, Unit: d.Unit, Stack: d.Stack, Legend: "legend", Min: d.Min, Max: d.Max}
	if d.Disk {
		spec.Thresholds = p.diskThresholds(d.Needs[0])
	}
	return hostPanelView{Key: d.Key, Chart: lineChart(spec, m, rg)}, true
}

// hostAlerts puts the host's firing alerts in b, most severe first.
func (p *Pages) hostAlerts(b *hostDashBody) {
	if p.d.Alerts == nil {
		b.AlertsOff = true
		return
	}
	for _, a := range p.d.Alerts.Alerts() {
		if a.Labels["host"] != b.Host {
			continue
		}
		switch a.State {
		case alerting.StatePending:
			b.Pending++
		case alerting.StateFiring:
			b.Alerts = append(b.Alerts, hostAlert{ID: a.ID, Rule: a.RuleName, Severity: a.Severity,
				Summary: a.Annotations["summary"], Since: a.FiredAt, Value: float64(a.Value),
				Acked: a.Ack != nil, Silenced: len(a.SilencedBy) > 0})
		}
	}
	slices.SortStableFunc(b.Alerts, func(x, y hostAlert) int { return alertSevRank(x.Severity) - alertSevRank(y.Severity) })
}

// metricsqlString escapes s for the inside of a double-quoted MetricsQL
// string (which the parser reads with strconv.Unquote).
func metricsqlString(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// namesRegexp matches exactly the names given.
func namesRegexp(names []string) string {
	qs := make([]string, len(names))
	for i, n := range names {
		qs[i] = regexp.QuoteMeta(n)
	}
	return strings.Join(qs, "|")
}

// metricSelector is a query of one metric of one host, for explore links.
func metricSelector(name, host string) string {
	return fmt.Sprintf(`{__name__="%s", host="%s"}`, metricsqlString(name), metricsqlString(host))
}

// chartDigits are the significant digits a convention panel's values keep:
// a chart cannot show more, and each point of a day's chart then weighs
// about a fifth less in the page.
const chartDigits = 4

// roundSignificant rounds v to digits significant digits, so that it
// prints short ("61.16", not "61.15973301201844").
func roundSignificant(v float64, digits int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	exp := int(math.Floor(math.Log10(math.Abs(v))))
	if shift := digits - 1 - exp; shift > 0 {
		if shift > 300 {
			return v
		}
		f := math.Pow10(shift) // exact: dividing by it rounds correctly
		return math.Round(v*f) / f
	} else {
		q := math.Pow10(-shift) // an integer: the product is exact below 2^53
		return math.Round(v/q) * q
	}
}

// formatUptime prints seconds as days, hours and minutes.
func formatUptime(sec float64) string {
	if sec < 0 || sec != sec {
		return ""
	}
	d := time.Duration(sec) * time.Second
	days, d := d/(24*time.Hour), d%(24*time.Hour)
	hours, d := d/time.Hour, d%time.Hour
	mins := d / time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, hours)
	case hours > 0:
		return fmt.Sprintf("%dh %dm", hours, mins)
	}
	return fmt.Sprintf("%dm", mins)
}
