package graphite

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"outpost/tsdb"
)

// Explanation says how one path or line maps to a series: which template
// was chosen and why, what each path element became, and the result. It is
// the JSON answer of POST /api/v1/graphite/explain.
type Explanation struct {
	Summary  string            `json:"summary"`             // the answer in one sentence
	Input    string            `json:"input"`               // the line or path explained
	Path     string            `json:"path,omitempty"`      // the metric path, before any ";"
	LineTags []ExplainLabel    `json:"line_tags,omitempty"` // the tagged form's ";k=v" tags
	Template *ExplainTemplate  `json:"template,omitempty"`  // the template applied; nil when none is configured
	Why      string            `json:"why"`                 // why that template, or why none
	Filters  []ExplainFilter   `json:"filters,omitempty"`   // every filter, most specific first
	Steps    []ExplainStep     `json:"steps,omitempty"`     // what each path element became
	NameRule string            `json:"name_rule,omitempty"` // how the metric name was formed
	Series   *ExplainSeries    `json:"series,omitempty"`    // the resulting series
	Sample   *ExplainSample    `json:"sample,omitempty"`    // value and time, when a whole line was given
	Error    *ExplainError     `json:"error,omitempty"`     // why the input does not parse
	Config   map[string]string `json:"config"`              // separator and global tags in force
}

// ExplainTemplate describes one configured template.
type ExplainTemplate struct {
	Index    int            `json:"index"`          // position in graphite.templates; -1 for the built-in default
	Text     string         `json:"text"`           // the entry as configured
	Filter   string         `json:"filter"`         // "" for a default template
	Template string         `json:"template"`       // the template word
	Tags     []ExplainLabel `json:"tags,omitempty"` // the entry's k=v tags
	Default  bool           `json:"default"`        // the template has no filter
}

// ExplainFilter is one filtered template, considered against the path.
type ExplainFilter struct {
	Rank     int    `json:"rank"`     // 1 is the most specific filter
	Index    int    `json:"index"`    // position in graphite.templates
	Filter   string `json:"filter"`   // the filter
	Template string `json:"template"` // the template word
	Matched  bool   `json:"matched"`  // the filter matches the path
	Chosen   bool   `json:"chosen"`   // the filter is the one applied
	Why      string `json:"why"`      // why it matches or not
}

// ExplainStep is what the template did with one path element.
type ExplainStep struct {
	Position int    `json:"position"` // 1-based position in the path
	Element  string `json:"element"`  // the path element ("" past the end of the path)
	Part     string `json:"part"`     // the template part at that position
	Effect   string `json:"effect"`   // what became of the element
}

// ExplainLabel is one label, with where it came from.
type ExplainLabel struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	From  string `json:"from,omitempty"`
}

// ExplainSeries is the resulting series.
type ExplainSeries struct {
	Name   string         `json:"name"`   // the metric name
	Labels []ExplainLabel `json:"labels"` // the other labels, sorted, with their source
	Text   string         `json:"text"`   // name{label="value",...}, as queries write it
}

// ExplainSample is the value and time of a whole line.
type ExplainSample struct {
	Value      string `json:"value"`             // as stored, formatted; NaN is not stored
	Stored     bool   `json:"stored"`            // false for NaN and dropped samples
	Dropped    string `json:"dropped,omitempty"` // why the store would refuse it: "out of retention", "too far in the future"
	Timestamp  int64  `json:"timestamp"`         // milliseconds since the epoch
	Time       string `json:"time"`              // the same, RFC 3339 in UTC
	TimeSource string `json:"time_source"`       // "line" or "receive time"
}

// ExplainError is a parse error of the input.
type ExplainError struct {
	Col int    `json:"col"` // 1-based byte column
	Msg string `json:"msg"`
}

// Explain explains how input, a metric path or a whole line, maps to a
// series. now stands for a missing timestamp. Only the first non-blank line
// of input is considered.
func (p *Parser) Explain(input string, now time.Time) Explanation {
	line := firstLine(input)
	e := Explanation{Input: line, Config: p.configSummary()}
	fields := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(fields) == 0 {
		e.Why = "the input is empty"
		e.Summary = e.Why
		return e
	}
	path := fields[0]
	if len(fields) > 1 {
		r, _, perr := splitLine([]byte(line))
		if perr != nil {
			e.Error = &ExplainError{Col: perr.Col, Msg: perr.Msg}
		} else {
			e.Sample = explainSample(r, now)
		}
	}
	res, err := p.resolve(path, 1, nil)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			pe = &ParseError{Col: 1, Msg: err.Error()}
		}
		e.Error = &ExplainError{Col: pe.Col, Msg: pe.Msg}
		e.Why = "the path does not parse"
		e.Summary = "the path does not parse: " + e.Error.Msg
		return e
	}
	e.Path = res.metricPath
	e.LineTags = explainLabels(res.lineTags, "line tag")
	p.explainTemplate(&e, &res)
	e.Series = p.explainSeries(&res)
	e.Summary = fmt.Sprintf("%s becomes %s", res.metricPath, e.Series.Text)
	if t := e.Template; t != nil && t.Index >= 0 {
		e.Summary += fmt.Sprintf(" by graphite.templates[%d] %s", t.Index, quote(t.Text))
	} else if t != nil {
		e.Summary += " by the built-in default template \"measurement*\""
	}
	return e
}

// firstLine returns the first non-blank line of s, without surrounding
// spaces, tabs and "\r": the blanks the parser itself skips.
func firstLine(s string) string {
	for s != "" {
		var l string
		l, s, _ = strings.Cut(s, "\n")
		if l = strings.Trim(l, " \t\r"); l != "" {
			return l
		}
	}
	return ""
}

// explainSample describes the value and time of a parsed line.
func explainSample(r rawLine, now time.Time) *ExplainSample {
	s := &ExplainSample{Value: strconv.FormatFloat(r.value, 'g', -1, 64), Stored: !math.IsNaN(r.value),
		Timestamp: r.t, TimeSource: "line"}
	if r.useNow {
		s.Timestamp, s.TimeSource = now.UnixMilli(), "receive time"
	}
	s.Time = time.UnixMilli(s.Timestamp).UTC().Format(time.RFC3339Nano)
	if !s.Stored {
		s.Value = "NaN (skipped and counted as rejected, reason \"nan\")"
	}
	return s
}

// configSummary lists the settings that shape every mapping.
func (p *Parser) configSummary() map[string]string {
	m := map[string]string{"templates": strconv.Itoa(len(p.ts.list))}
	if len(p.ts.list) > 0 {
		m["separator"] = p.ts.list[0].sep
	}
	for _, l := range p.ts.global {
		m["tags."+l.Name] = l.Value
	}
	return m
}

// explainSeries describes the resulting series and where each label came from.
func (p *Parser) explainSeries(res *resolved) *ExplainSeries {
	src := map[string]string{}
	for _, l := range p.ts.global {
		src[l.Name] = "graphite.tags"
	}
	if res.tmpl != nil {
		for _, l := range res.tmpl.tags {
			src[l.Name] = "template tags"
		}
	}
	for _, l := range res.applied.tags {
		src[l.Name] = "path, by the template"
	}
	for _, l := range res.lineTags {
		src[l.Name] = "line tag"
	}
	s := &ExplainSeries{Name: res.name, Labels: []ExplainLabel{}, Text: res.labels.String()}
	for _, l := range res.labels {
		if l.Name != tsdb.MetricName {
			s.Labels = append(s.Labels, ExplainLabel{Name: l.Name, Value: l.Value, From: src[l.Name]})
		}
	}
	return s
}

// explainLabels lists labels with one source.
func explainLabels(ls []tsdb.Label, from string) []ExplainLabel {
	var out []ExplainLabel
	for _, l := range ls {
		out = append(out, ExplainLabel{Name: l.Name, Value: l.Value, From: from})
	}
	return out
}

// describeTemplate turns a compiled template into its JSON description.
func describeTemplate(t *template) *ExplainTemplate {
	return &ExplainTemplate{Index: t.index, Text: t.text, Filter: t.filter, Template: t.pattern,
		Tags: explainLabels(t.tags, ""), Default: t.filter == ""}
}

// quote formats s for the explanation's prose.
func quote(s string) string { return strconv.Quote(s) }

// plural formats n things.
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
