package pages

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
	"github.com/go-echarts/go-echarts/v2/types"
)

// A state timeline draws one row per series and, along time, a coloured
// bar per stretch in which the series kept one state: a string of an
// _info series or the 0/1 of a flag. It is an echarts custom series whose
// renderItem is assets/outpost.js's: the options name it
// (stateRenderItem), as JSON cannot carry a function and the pages run no
// script but their own.

// stateRenderItem is the renderItem value outpost.js replaces with its
// state-bar function.
const stateRenderItem = "outpost:state"

// maxStateRows is the most rows one timeline draws; the rest are counted in
// its note.
const maxStateRows = 40

// stateSegment is one stretch of a row in one state, [Start, End) in ms.
type stateSegment struct {
	Start, End int64
	State      string
}

// stateRow is one row of a state timeline.
type stateRow struct {
	Name     string
	Segments []stateSegment
	// Flag is true for a 0/1 series, whose colours say good and bad.
	Flag bool
	// BadWhenOne is set for a flag whose name says 1 is a failure
	// (failed, error, down).
	BadWhenOne bool
}

// now returns the row's state at the end of the range, or "" when its last
// stretch ended before it.
func (r stateRow) now(end int64, step int64) string {
	if len(r.Segments) == 0 {
		return ""
	}
	last := r.Segments[len(r.Segments)-1]
	if last.End+step < end {
		return ""
	}
	return last.State
}

// StateChart is a rendered state timeline: the chart and what the page
// prints without JavaScript (each row's state at the end of the range).
type StateChart struct {
	Chart
	Height int // pixels, for outpost.js: rows differ from chart to chart
	Rows   []StateNow
}

// StateNow is one row's name and latest state, for the page's text.
type StateNow struct {
	Name, State, Color string
}

// stateChart builds a state timeline of rows over r with go-echarts.
func stateChart(id, title string, rows []stateRow, r Range) StateChart {
	c := StateChart{Chart: Chart{ID: id, Title: title, Series: len(rows), Empty: len(rows) == 0}}
	if c.Empty {
		c.Note = "no states in this range"
		return c
	}
	if len(rows) > maxStateRows {
		c.Note = fmt.Sprintf("showing %d of %d rows", maxStateRows, len(rows))
		rows = rows[:maxStateRows]
	}
	start, end := r.alignedGrid()
	step := r.Step.Milliseconds()
	names := make([]string, len(rows))
	var data []opts.CustomData
	for i, row := range rows {
		names[i] = row.Name
		for _, s := range row.Segments {
			data = append(data, opts.CustomData{
				Name:      s.State,
				Value:     []any{i, s.Start, s.End},
				ItemStyle: &opts.ItemStyle{Color: stateColor(row, s.State)},
			})
		}
		st := row.now(end.UnixMilli(), step)
		c.Rows = append(c.Rows, StateNow{Name: row.Name, State: st, Color: stateClass(row, st)})
	}
	ch := charts.NewCustom()
	ch.SetGlobalOptions(
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithGridOpts(opts.Grid{Left: "8", Right: "16", Top: "8", Bottom: "8", ContainLabel: opts.Bool(true)}),
		charts.WithXAxisOpts(opts.XAxis{Type: "time", Min: start.UnixMilli(), Max: end.UnixMilli()}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: names, Inverse: opts.Bool(true)}),
	)
	ch.AddSeries("states", data,
		charts.WithCustomChartOpts(opts.CustomChart{RenderItem: types.FuncStr(stateRenderItem)}),
		charts.WithEncodeOpts(opts.Encode{X: []int{1, 2}, Y: 0}),
	)
	c.Option = chartJSON(ch)
	c.Height = 40 + 26*len(rows)
	return c
}

// stateWords are states whose colour is known, lower-case.
var stateWords = map[string]string{
	"true": "ok", "ok": "ok", "up": "ok", "healthy": "ok", "running": "ok", "active": "ok", "online": "ok",
	"ready": "ok", "pass": "ok", "passing": "ok", "good": "ok", "yes": "ok", "on": "ok", "started": "ok",
	"false": "crit", "failed": "crit", "fail": "crit", "error": "crit", "down": "crit", "unhealthy": "crit",
	"dead": "crit", "critical": "crit", "crit": "crit", "offline": "crit", "stopped": "crit", "no": "crit", "off": "crit",
	"warning": "warn", "warn": "warn", "degraded": "warn", "pending": "warn", "unknown": "warn", "starting": "warn",
}

// stateColors are the colours of the known classes, as outpost.css's.
var stateColors = map[string]string{"ok": "#2e8b57", "crit": "#c9302c", "warn": "#d98a00"}

// statePalette colours other strings, each always the same.
var statePalette = []string{"#2f6fd6", "#8e44ad", "#16a085", "#7f8c8d", "#d35400", "#2c3e50", "#27ae60", "#c0392b"}

// stateClass names the class of a row's state: ok, warn, crit, or "" when
// it says nothing (any other string).
func stateClass(row stateRow, state string) string {
	if row.Flag {
		good := state == "1"
		if row.BadWhenOne {
			good = !good
		}
		if good {
			return "ok"
		}
		return "crit"
	}
	return stateWords[strings.ToLower(strings.TrimSpace(state))]
}

// stateColor returns the bar colour of a state.
func stateColor(row stateRow, state string) string {
	if c, ok := stateColors[stateClass(row, state)]; ok {
		return c
	}
	h := fnv.New32a()
	h.Write([]byte(state))
	return statePalette[h.Sum32()%uint32(len(statePalette))]
}

// flagBadWhenOne reports whether a 0/1 series' name says that 1 is bad.
func flagBadWhenOne(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "unhealthy") {
		return true
	}
	for _, w := range []string{"fail", "error", "err_", "down", "dead", "crit", "problem", "degraded"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// flagState writes a 0/1 value as a state.
func flagState(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
