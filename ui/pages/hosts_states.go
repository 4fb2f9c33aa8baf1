package pages

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"outpost/query"
	"outpost/tsdb"
)

// statePoint is a row's state at one step of the range.
type statePoint struct {
	T int64
	S string
}

// infoRows turns the result of timestamp(<_info series>) keep_metric_names
// into timeline rows. An _info series carries its string in the label
// value (DESIGN.md §3), so one row (the series without value) has one
// series per string it took; at each step the row is in the state whose
// sample is the newest, which settles the steps where the lookback window
// still sees the string before.
func infoRows(m query.Matrix, step int64) []stateRow {
	type best struct {
		ts float64
		s  string
	}
	byRow := map[string]map[int64]best{}
	for _, s := range m {
		name := stateRowName(s.Labels)
		at := byRow[name]
		if at == nil {
			at = map[int64]best{}
			byRow[name] = at
		}
		state := s.Labels.Get("value")
		for _, p := range s.Points {
			if b, ok := at[p.T]; !ok || p.V > b.ts || (p.V == b.ts && state < b.s) {
				at[p.T] = best{p.V, state}
			}
		}
	}
	rows := make([]stateRow, 0, len(byRow))
	for name, at := range byRow {
		pts := make([]statePoint, 0, len(at))
		for t, b := range at {
			pts = append(pts, statePoint{t, b.s})
		}
		slices.SortFunc(pts, func(a, b statePoint) int { return cmp.Compare(a.T, b.T) })
		rows = append(rows, stateRow{Name: name, Segments: stateSegments(pts, step)})
	}
	slices.SortFunc(rows, func(a, b stateRow) int { return strings.Compare(a.Name, b.Name) })
	return rows
}

// isFlag reports whether every point of m is 0 or 1: such a series is a
// state (an exec input's healthy flag), drawn as a timeline.
func isFlag(m query.Matrix) bool {
	if len(m) == 0 {
		return false
	}
	for _, s := range m {
		for _, p := range s.Points {
			if p.V != 0 && p.V != 1 {
				return false
			}
		}
	}
	return true
}

// flagRows turns a 0/1 metric's series into timeline rows.
func flagRows(m query.Matrix, step int64) []stateRow {
	rows := make([]stateRow, 0, len(m))
	for _, s := range m {
		pts := make([]statePoint, 0, len(s.Points))
		for _, p := range s.Points {
			if !math.IsNaN(p.V) {
				pts = append(pts, statePoint{p.T, flagState(p.V)})
			}
		}
		name := stateRowName(s.Labels)
		rows = append(rows, stateRow{Name: name, Segments: stateSegments(pts, step), Flag: true,
			BadWhenOne: flagBadWhenOne(s.Labels.Get("__name__"))})
	}
	return rows
}

// stateSegments merges points one step apart in the same state into
// stretches; a missing step ends a stretch (no data is no state).
func stateSegments(pts []statePoint, step int64) []stateSegment {
	var out []stateSegment
	for i, p := range pts {
		stop := p.T + step // the chart clips the last stretch at the range's end
		if i > 0 && len(out) > 0 {
			last := &out[len(out)-1]
			if last.State == p.S && p.T-pts[i-1].T <= step {
				last.End = stop
				continue
			}
		}
		out = append(out, stateSegment{Start: p.T, End: stop, State: p.S})
	}
	return out
}

// stateRowName names a row: the metric without _info, and the labels that
// tell its series apart (not host, db or the string itself).
func stateRowName(ls tsdb.Labels) string {
	name := strings.TrimSuffix(ls.Get("__name__"), "_info")
	var parts []string
	for _, l := range ls {
		switch l.Name {
		case "__name__", "host", "db", "value":
			continue
		}
		parts = append(parts, l.Name+"="+l.Value)
	}
	if len(parts) == 0 {
		return name
	}
	return name + " {" + strings.Join(parts, ", ") + "}"
}

// hostLegend names a series of a metric drawn on its own panel: the labels
// other than the name, host and db, or the name when there are none.
func hostLegend(ls tsdb.Labels) string {
	var parts []string
	for _, l := range ls {
		switch l.Name {
		case "__name__", "host", "db":
			continue
		}
		parts = append(parts, l.Name+"="+l.Value)
	}
	if len(parts) == 0 {
		if n := ls.Get("__name__"); n != "" {
			return n
		}
		return "value"
	}
	return strings.Join(parts, ", ")
}
