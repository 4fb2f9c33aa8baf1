package pages

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"outpost/query"
	"outpost/tsdb"
)

// Bounds of what one dashboard page shows.
const (
	maxVarValues     = 1000 // choices a variable offers
	maxStatValues    = 12   // values a stat panel shows
	panelConcurrency = 4    // panels of a page queried at once
)

// dashboardViewBody is a dashboard page's own data.
type dashboardViewBody struct {
	Name, File string
	D          *Dashboard
	Errs       []*DashboardError // the file does not load: these say why
	Vars       []varView
	Rows       []rowView
}

// varView is a variable's choice on the page.
type varView struct {
	Name     string
	Param    string // the URL parameter: var-NAME
	Options  []varOption
	Selected string // the URL value (allChoice for All)
	Note     string // why there is nothing to choose, or what was cut
}

type varOption struct {
	Value, Text string
	Selected    bool
}

// rowView is a row: its stat panels as tiles above its charts.
type rowView struct {
	Title  string
	Stats  []*panelView
	Charts []*panelView
}

// panelView is one panel, drawn.
type panelView struct {
	ID    string
	Title string
	Chart Chart       // line
	Stats []statValue // stat
	Err   string
}

// statValue is one value of a stat panel.
type statValue struct {
	Name  string // the series, when the panel has several
	Text  string // the value with its unit
	Class string // the colour of the threshold it reaches
}

// escapeVarValue makes a label value safe inside a "..." string of a
// query, where a variable usually sits.
func escapeVarValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// dashboardVars resolves the variables in order (a variable's match may
// use the ones before it): their choices, the value picked in q (var-NAME),
// and what each expands to in queries.
func (p *Pages) dashboardVars(ctx context.Context, d *Dashboard, q url.Values, rg Range) ([]varView, map[string]string) {
	values := map[string]string{}
	views := make([]varView, 0, len(d.Variables))
	for _, v := range d.Variables {
		vv := varView{Name: v.Name, Param: "var-" + v.Name}
		choices := v.Values
		if v.Label != "" {
			var err error
			if choices, err = p.labelChoices(ctx, v, rg, values); err != nil {
				vv.Note = "values could not be read: " + err.Error()
			} else if len(choices) == 0 {
				vv.Note = "no series with label " + v.Label + " in this range"
			}
		}
		if len(choices) > maxVarValues {
			vv.Note = fmt.Sprintf("showing the first %d of %d values", maxVarValues, len(choices))
			choices = choices[:maxVarValues]
		}
		sel := q.Get(vv.Param)
		if sel == "" || sel == allChoice && !v.All {
			switch {
			case v.Default != "":
				sel = v.Default
			case v.All:
				sel = allChoice
			case len(choices) > 0:
				sel = choices[0]
			}
		}
		vv.Selected = sel
		if v.All {
			vv.Options = append(vv.Options, varOption{Value: allChoice, Text: "All", Selected: sel == allChoice})
		}
		for _, c := range choices {
			vv.Options = append(vv.Options, varOption{Value: c, Text: c, Selected: c == sel})
		}
		if sel != "" && sel != allChoice && !slices.Contains(choices, sel) {
			vv.Options = append(vv.Options, varOption{Value: sel, Text: sel + " (not in this range)", Selected: true})
		}
		if sel == allChoice {
			values[v.Name] = v.AllValue
		} else {
			values[v.Name] = escapeVarValue(sel)
		}
		views = append(views, vv)
	}
	return views, values
}

// labelChoices returns the values of v's label among the series of v's
// selector (with the variables so far) that have samples in rg.
func (p *Pages) labelChoices(ctx context.Context, v Variable, rg Range, values map[string]string) ([]string, error) {
	mint, maxt := rg.Start.UnixMilli(), rg.End.UnixMilli()
	if v.Match == "" {
		return p.d.Storage.LabelValues(ctx, v.Label, mint, maxt)
	}
	sets, err := query.ParseSelectors([]string{expandVars(v.Match, rg, values)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ms := range sets {
		vs, err := p.d.Storage.LabelValues(ctx, v.Label, mint, maxt, ms...)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// dashboardRows queries and draws every panel, a few at a time.
func (p *Pages) dashboardRows(ctx context.Context, d *Dashboard, rg Range, values map[string]string) []rowView {
	rows := make([]rowView, len(d.Rows))
	sem := make(chan struct{}, panelConcurrency)
	var wg sync.WaitGroup
	for i, row := range d.Rows {
		rows[i].Title = row.Title
		for j := range row.Panels {
			pan := &row.Panels[j]
			pv := &panelView{ID: "panel-" + strconv.Itoa(i+1) + "-" + strconv.Itoa(j+1), Title: pan.Title}
			if pan.Kind == panelStat {
				rows[i].Stats = append(rows[i].Stats, pv)
			} else {
				rows[i].Charts = append(rows[i].Charts, pv)
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if pan.Kind == panelStat {
					p.statPanel(ctx, pv, pan, rg, values)
				} else {
					p.linePanel(ctx, pv, pan, rg, values)
				}
			})
		}
	}
	wg.Wait()
	return rows
}

// panelSeries runs a panel's queries over rg and names each series by its
// query's legend (the name is the series' only label); errs says which
// queries failed.
func (p *Pages) panelSeries(ctx context.Context, pan *Panel, rg Range, values map[string]string) (all query.Matrix, errs string) {
	var failed []string
	for i, q := range pan.Queries {
		m, err := p.rangeQuery(ctx, q.Expr, rg, values)
		if err != nil {
			failed = append(failed, queryLabel(i, len(pan.Queries))+err.Error())
			continue
		}
		legend := expandVars(q.Legend, rg, values)
		for _, s := range m {
			all = append(all, query.Series{Labels: tsdb.Labels{{Name: tsdb.MetricName, Value: legendName(s.Labels, legend)}}, Points: s.Points})
		}
	}
	return all, strings.Join(failed, "; ")
}

// linePanel draws a line panel's queries over the range in one chart.
func (p *Pages) linePanel(ctx context.Context, pv *panelView, pan *Panel, rg Range, values map[string]string) {
	all, errs := p.panelSeries(ctx, pan, rg, values)
	pv.Err = errs
	ts := make([]Threshold, len(pan.Thresholds))
	for i, t := range pan.Thresholds {
		ts[i] = t
		ts[i].Color = thresholdColor(pan.Thresholds, i)
	}
	spec := lineSpec{ID: pv.ID, Title: pan.Title, Unit: pan.Unit, Stack: pan.Stack, Thresholds: ts, Min: pan.Min, Max: pan.Max}
	pv.Chart = lineChart(spec, all, rg)
	if pv.Err != "" && !pv.Chart.Empty {
		pv.Chart.Note = strings.TrimPrefix(pv.Chart.Note+"; "+pv.Err, "; ")
	}
}

// statPanel shows the last value in the range of each series of a stat
// panel's queries (Grafana's "last" reduction), so that a stat agrees with
// the charts beside it and a host that stopped still shows its last value.
func (p *Pages) statPanel(ctx context.Context, pv *panelView, pan *Panel, rg Range, values map[string]string) {
	all, errs := p.panelSeries(ctx, pan, rg, values)
	pv.Err = errs
	named := len(all) > 1 || pan.Queries[0].Legend != ""
	for _, s := range all[:min(len(all), maxStatValues)] {
		if len(s.Points) == 0 {
			continue
		}
		v := s.Points[len(s.Points)-1].V
		sv := statValue{Text: formatUnit(v, pan.Unit), Class: thresholdClass(v, pan.Thresholds)}
		if named {
			sv.Name = s.Labels[0].Value
		}
		pv.Stats = append(pv.Stats, sv)
	}
}

// legendName names a series of a dashboard's panel: legend is a template
// of {{label}}s, a label's name, or text as it is (which tells apart the
// queries of a panel, as Grafana's legend does); empty means the labels.
func legendName(ls tsdb.Labels, legend string) string {
	if legend == "" || strings.Contains(legend, "{{") || ls.Has(legend) {
		return seriesName(ls, legend)
	}
	return legend
}

// queryLabel names query i in an error when a panel has several.
func queryLabel(i, n int) string {
	if n == 1 {
		return ""
	}
	return "query " + strconv.Itoa(i+1) + ": "
}
