package pages

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"outpost/query"
	"outpost/tsdb"
)

// maxChartSeries is the most series one chart draws; the rest are counted
// in the chart's note, so that a careless query cannot make a page heavy.
const maxChartSeries = 50

// Threshold is a horizontal line drawn across a chart.
type Threshold struct {
	Value float64 `yaml:"value"`
	Color string  `yaml:"color"` // a CSS colour; empty: by order (orange, red)
	Label string  `yaml:"label"`
}

// Chart is a rendered chart: what the template needs to place it.
type Chart struct {
	ID     string
	Title  string
	Unit   string // how outpost.js formats values: percent, bytes, bytes/s, s, short
	Option string // echarts options as JSON; html/template escapes it into an attribute
	Note   string // e.g. "showing 50 of 230 series", or why it is empty
	Empty  bool   // no series: the panel may be left out
	Series int
}

// lineSpec says how to draw a range-query result as a line chart.
type lineSpec struct {
	ID         string
	Title      string
	Unit       string
	Stack      bool
	Legend     string // a label name, or a template with {{name}} placeholders; "" = labels
	Thresholds []Threshold
	Min, Max   *float64 // fixed y-axis bounds
}

// lineChart builds a line chart of m over r with go-echarts.
func lineChart(spec lineSpec, m query.Matrix, r Range) Chart {
	c := Chart{ID: spec.ID, Title: spec.Title, Unit: spec.Unit, Series: len(m), Empty: len(m) == 0}
	if c.Empty {
		c.Note = "no data in this range"
		return c
	}
	if len(m) > maxChartSeries {
		c.Note = fmt.Sprintf("showing %d of %d series", maxChartSeries, len(m))
		m = m[:maxChartSeries]
	}
	start, end := r.alignedGrid()
	line := charts.NewLine()
	yAxis := opts.YAxis{Type: "value", Scale: opts.Bool(!spec.Stack && spec.Min == nil)}
	if spec.Min != nil {
		yAxis.Min = *spec.Min
	}
	if spec.Max != nil {
		yAxis.Max = *spec.Max
	}
	if len(spec.Thresholds) > 0 { // echarts does not widen the axis for mark lines
		stretchForThresholds(&yAxis, spec, m)
	}
	line.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(len(m) > 1), Type: "scroll", Bottom: "0"}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "24", Bottom: legendSpace(len(m)), ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Min: start.UnixMilli(), Max: end.UnixMilli()}),
		charts.WithYAxisOpts(yAxis),
	)
	gap := int64(r.Step/time.Millisecond) * 3 / 2
	for i, s := range m {
		data := points(s.Points, gap)
		so := []charts.SeriesOpts{charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(len(s.Points) < 3)})}
		if spec.Stack {
			so = append(so, charts.WithLineChartOpts(opts.LineChart{Stack: "total", ShowSymbol: opts.Bool(false)}),
				charts.WithAreaStyleOpts(opts.AreaStyle{Opacity: opts.Float(0.3)}))
		}
		if i == 0 && len(spec.Thresholds) > 0 {
			so = append(so, withThresholds(spec.Thresholds),
				charts.WithMarkLineStyleOpts(opts.MarkLineStyle{Symbol: []string{"none", "none"}}))
		}
		line.AddSeries(seriesName(s.Labels, spec.Legend), nil, so...)
		line.MultiSeries[len(line.MultiSeries)-1].Data = data
	}
	c.Option = chartJSON(line)
	return c
}

// points returns a series' points as echarts' [t, v] pairs (plain pairs
// rather than go-echarts' {"value": [t, v]} objects: a third of a page's
// weight), with a null point where the series has a gap wider than gap
// milliseconds, so that echarts draws a gap rather than a slope.
func points(ps []query.Point, gap int64) [][2]any {
	data := make([][2]any, 0, len(ps)+8)
	for j, p := range ps {
		if j > 0 && p.T-ps[j-1].T > gap {
			data = append(data, [2]any{ps[j-1].T + 1, nil})
		}
		data = append(data, [2]any{p.T, jsonNumber(p.V)})
	}
	return data
}

// stretchForThresholds widens the y axis to show thresholds beyond the
// data, on the sides the spec does not fix.
func stretchForThresholds(y *opts.YAxis, spec lineSpec, m query.Matrix) {
	lo, hi := dataBounds(m, spec.Stack)
	tlo, thi := math.Inf(1), math.Inf(-1)
	for _, t := range spec.Thresholds {
		tlo, thi = min(tlo, t.Value), max(thi, t.Value)
	}
	pad := (max(hi, thi) - min(lo, tlo)) * 0.05
	// Bounds on a round number of the pad's order (25, not 24.43...):
	// the axis labels its ends.
	exp := 0.0
	if pad > 0 && !math.IsInf(pad, 0) {
		exp = math.Floor(math.Log10(pad))
	}
	unit := math.Pow(10, exp)
	round := func(v float64) float64 { // 24.400000000000002 -> 24.4
		r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', max(0, int(-exp)), 64), 64)
		return r
	}
	if spec.Max == nil && thi > hi {
		y.Max = round(math.Ceil((thi+pad)/unit) * unit)
	}
	if spec.Min == nil && tlo < lo {
		y.Min = round(math.Floor((tlo-pad)/unit) * unit)
	}
}

// dataBounds returns the lowest and highest values drawn: of the points,
// or of their sums at each time when the series are stacked.
func dataBounds(m query.Matrix, stack bool) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	if stack {
		sums := map[int64]float64{}
		for _, s := range m {
			for _, p := range s.Points {
				if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
					sums[p.T] += p.V
				}
			}
		}
		for _, v := range sums {
			lo, hi = min(lo, v), max(hi, v)
		}
		return min(lo, 0), hi
	}
	for _, s := range m {
		for _, p := range s.Points {
			if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
				lo, hi = min(lo, p.V), max(hi, p.V)
			}
		}
	}
	return lo, hi
}

// thresholdColors colour thresholds that name no colour, by order: the
// first is a warning, the second critical.
var thresholdColors = []string{"#d98a00", "#c9302c", "#5b6475"}

// thresholdItem is one echarts markLine item: a horizontal line at YAxis
// in its own colour (go-echarts' item type has no line style).
type thresholdItem struct {
	Name      string         `json:"name"`
	YAxis     float64        `json:"yAxis"`
	LineStyle map[string]any `json:"lineStyle"`
	Label     map[string]any `json:"label"`
}

// withThresholds draws ts as horizontal lines on a series.
func withThresholds(ts []Threshold) charts.SeriesOpts {
	return func(s *charts.SingleSeries) {
		if s.MarkLines == nil {
			s.MarkLines = &opts.MarkLines{}
		}
		for i, t := range ts {
			name := t.Label
			if name == "" {
				name = query.FormatValue(t.Value)
			}
			color := t.Color
			if color == "" {
				color = thresholdColors[min(i, len(thresholdColors)-1)]
			}
			s.MarkLines.Data = append(s.MarkLines.Data, thresholdItem{Name: name, YAxis: t.Value,
				LineStyle: map[string]any{"color": color, "type": "dashed", "width": 1},
				Label:     map[string]any{"formatter": "{b}", "color": color}})
		}
	}
}

// legendSpace leaves room under the grid for a legend when there is one.
func legendSpace(series int) string {
	if series > 1 {
		return "36"
	}
	return "8"
}

// chartJSON returns the chart's echarts options as JSON. encoding/json
// escapes <, > and & in strings, and the result lands in an attribute that
// html/template escapes again: no label value can end the element.
func chartJSON(c interface {
	Validate()
	JSON() map[string]any
}) string {
	c.Validate()
	b, err := json.Marshal(c.JSON())
	if err != nil { // only numbers, strings and go-echarts' own types
		return `{"title":{"text":"chart options could not be encoded"}}`
	}
	return string(b)
}

// jsonNumber returns v, or nil for what JSON cannot carry (NaN, ±Inf),
// which echarts draws as a gap.
func jsonNumber(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// seriesName names a series in a legend: legend is a label name, or a
// template such as "{{device}} {{mode}}"; empty means every label but
// __name__ (or the name when there is no other label).
func seriesName(ls tsdb.Labels, legend string) string {
	switch {
	case strings.Contains(legend, "{{"):
		out := legend
		for _, l := range ls {
			out = strings.ReplaceAll(out, "{{"+l.Name+"}}", l.Value)
			out = strings.ReplaceAll(out, "{{ "+l.Name+" }}", l.Value)
		}
		return out
	case legend != "":
		if v := ls.Get(legend); v != "" {
			return v
		}
	}
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		if l.Name != "__name__" {
			parts = append(parts, l.Name+"="+l.Value)
		}
	}
	if len(parts) == 0 {
		if n := ls.Get("__name__"); n != "" {
			return n
		}
		return "value"
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
