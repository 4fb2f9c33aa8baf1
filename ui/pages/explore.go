package pages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"outpost/query"
	"outpost/tsdb"
)

// exploreRoutes returns the routes of the explore page.
func (p *Pages) exploreRoutes() []Route {
	return []Route{{Pattern: "GET /explore", Handler: http.HandlerFunc(p.explore)}}
}

// Bounds of the explore page.
const (
	maxExploreRows = 1000 // rows of the table
	maxMetricNames = 2000 // metric names offered as you type, without JS
	maxMetricLinks = 300  // metric names listed when there is no query
	metricNamesMin = 24 * time.Hour
)

// exploreBody is the explore page's own data.
type exploreBody struct {
	Q       string
	Instant bool // the instant mode: the value at the end of the range
	Ran     bool // there was a query to run
	Err     string
	Hint    string     // what to do about Err
	Caret   *caretView // where a syntax error is
	Note    string     // e.g. a query with no range shown as one value
	Chart   Chart
	Rows    []exploreRow
	Total   int // series in the result (Rows may be fewer)
	At      time.Time
	Step    time.Duration
	// Metrics are the metric names offered as you type; MetricsTotal
	// counts them all.
	Metrics      []string
	MetricsTotal int
	MetricLinks  []string
	MetricsErr   string
	// Start and End are the range in Unix seconds, for explore.js's
	// lookups of label names and values.
	Start, End int64
}

// exploreRow is one series of the result in the table.
type exploreRow struct {
	Name   string
	Labels []tsdb.Label // without the name
	// A range result: the last, lowest, mean and highest value.
	Last, Min, Avg, Max string
	// An instant result: the value and its time.
	Value string
	T     time.Time
}

// caretView points at a syntax error: the query's line and the spaces
// before the column.
type caretView struct{ Line, Pad string }

// explore answers GET /explore?q=...: the query over the page's range as a
// chart and a table, or its value at the end of the range (instant=1).
// A query that fails shows why on the page, which is answered with 200
// like any other: the page itself worked.
func (p *Pages) explore(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Explore", "Explore")
	pg.Scripts = []string{"explore.js"}
	pg.Styles = []string{"explore.css"}
	ctx := r.Context()
	uq := r.URL.Query()
	rg := pg.Range
	b := exploreBody{Q: strings.TrimSpace(uq.Get("q")), Instant: uq.Get("instant") != "", Step: rg.Step,
		Start: rg.Start.Unix(), End: rg.End.Unix(), At: rg.End}
	pg.Keep = map[string]string{}
	if b.Q != "" {
		pg.Keep["q"] = b.Q
		b.Ran = true
		if b.Instant {
			pg.Keep["instant"] = "1"
			p.exploreInstant(ctx, &b, rg.End)
		} else {
			p.exploreRange(ctx, &b, rg)
		}
	}
	pg.Charts = !b.Chart.Empty && b.Chart.Option != ""
	names, err := p.d.Storage.LabelValues(ctx, tsdb.MetricName, rg.End.Add(-max(metricNamesMin, rg.End.Sub(rg.Start))).UnixMilli(), rg.End.UnixMilli())
	if err != nil {
		b.MetricsErr = "metric names could not be read: " + err.Error()
	}
	b.MetricsTotal = len(names)
	b.Metrics = names[:min(len(names), maxMetricNames)]
	if !b.Ran {
		b.MetricLinks = names[:min(len(names), maxMetricLinks)]
	}
	pg.Body = b
	p.render(w, r, p.tmpl["explore.html"], http.StatusOK, pg)
}

// exploreRange runs b.Q over rg for the chart and the table.
func (p *Pages) exploreRange(ctx context.Context, b *exploreBody, rg Range) {
	m, err := p.rangeQuery(ctx, b.Q, rg, nil)
	if errors.Is(err, query.ErrBadArgument) {
		// A query with no range (a string) still has a value at one time.
		if v, ierr := p.d.Engine.Instant(ctx, expandVars(b.Q, rg, nil), rg.End); ierr == nil {
			b.Note = "This query has no range: its value at " + rg.End.UTC().Format("2006-01-02 15:04:05Z") + "."
			b.Instant = true
			b.instantRows(v)
			return
		}
	}
	if err != nil {
		b.fail(err)
		return
	}
	b.Total = len(m)
	title := fmt.Sprintf("%d series, a point every %s", len(m), rg.Step)
	if len(m) == 1 {
		title = fmt.Sprintf("1 series, a point every %s", rg.Step)
	}
	b.Chart = lineChart(lineSpec{ID: "explore-chart", Title: title}, m, rg)
	for _, s := range m[:min(len(m), maxExploreRows)] {
		row := newExploreRow(s.Labels)
		lo, hi, sum, n := math.Inf(1), math.Inf(-1), 0.0, 0
		for _, pt := range s.Points {
			lo, hi = min(lo, pt.V), max(hi, pt.V)
			sum += pt.V
			n++
		}
		if n > 0 {
			row.Last, row.Min, row.Max = exactValue(s.Points[n-1].V), exactValue(lo), exactValue(hi)
			row.Avg = exactValue(sum / float64(n))
			row.T = time.UnixMilli(s.Points[n-1].T)
		}
		b.Rows = append(b.Rows, row)
	}
}

// exploreInstant runs b.Q at t for the table.
func (p *Pages) exploreInstant(ctx context.Context, b *exploreBody, t time.Time) {
	v, err := p.d.Engine.Instant(ctx, b.Q, t)
	if err != nil {
		b.fail(err)
		return
	}
	b.instantRows(v)
}

// instantRows fills the table with an instant query's result.
func (b *exploreBody) instantRows(v query.Value) {
	switch v := v.(type) {
	case query.Vector:
		b.Total = len(v)
		for _, s := range v[:min(len(v), maxExploreRows)] {
			row := newExploreRow(s.Labels)
			row.Value, row.T = exactValue(s.V), time.UnixMilli(s.T)
			b.Rows = append(b.Rows, row)
		}
	case query.Scalar:
		b.Total = 1
		b.Rows = []exploreRow{{Name: "scalar", Value: exactValue(v.V), T: time.UnixMilli(v.T)}}
	case query.String:
		b.Total = 1
		b.Rows = []exploreRow{{Name: "string", Value: v.V, T: time.UnixMilli(v.T)}}
	}
}

// newExploreRow splits labels into the name and the others.
func newExploreRow(ls tsdb.Labels) exploreRow {
	row := exploreRow{Name: ls.Get(tsdb.MetricName)}
	for _, l := range ls {
		if l.Name != tsdb.MetricName {
			row.Labels = append(row.Labels, l)
		}
	}
	return row
}

// exactValue prints a value of the table with six significant digits and
// no exponent below 1e15 (2.476e+05 reads worse than 247612).
func exactValue(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return query.FormatValue(v)
	}
	return trimFloat(v, 6)
}

// fail shows err on the page, with where a syntax error is and what to
// try for the errors of limits.
func (b *exploreBody) fail(err error) {
	b.Err = err.Error()
	var pe *query.ParseError
	switch {
	case errors.As(err, &pe):
		b.Caret = caretAt(pe.Query, pe.Pos)
	case errors.Is(err, query.ErrTooManySamples), errors.Is(err, query.ErrMemoryLimit):
		b.Hint = "The query reads too much: shorten the range, add label filters ({host=\"web1\"}) or aggregate (sum by (host) (...))."
	case errors.Is(err, query.ErrTimeout):
		b.Hint = "The query ran out of time: shorten the range or add label filters."
	case errors.Is(err, query.ErrDuplicateSeries):
		b.Hint = "Two series ended up with the same labels: aggregate with sum by (...), or match with on (...) or ignoring (...)."
	case errors.Is(err, query.ErrUnknownFunction):
		b.Hint = "Check the function's name: MetricsQL's and PromQL's functions are known."
	}
}

// caretAt returns the line of q holding byte offset pos and the padding
// that puts a caret under it; tabs count as one space.
func caretAt(q string, pos int) *caretView {
	pos = max(0, min(pos, len(q)))
	start := strings.LastIndexByte(q[:pos], '\n') + 1
	end := strings.IndexByte(q[pos:], '\n')
	if end < 0 {
		end = len(q)
	} else {
		end += pos
	}
	line := strings.ReplaceAll(q[start:end], "\t", " ")
	return &caretView{Line: line, Pad: strings.Repeat(" ", utf8.RuneCountInString(q[start:pos]))}
}
