package pages

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/alerting/rulefile"
)

// ruleHistoryLimit is how many history events a rule's page lists.
const ruleHistoryLimit = 100

// ruleBody is a rule page's own data.
type ruleBody struct {
	Now        time.Time
	Off        bool
	Group      groupView // without its rules
	Rule       ruleView
	Key        string
	YAML       string
	Chart      Chart
	ChartAbout string
	Alerts     []alertGroup
	History    []historyRow
	Defaults   bool // a built-in rule: there is no file to edit
	Stored     bool // its group is stored over the rules API: the editor changes it
	Problems   []string
}

// rulePage serves GET /rules/{group}/{rule}?file=...&n=...: the rule's
// definition, its chart with thresholds, its open alerts and history.
func (p *Pages) rulePage(w http.ResponseWriter, r *http.Request) {
	group, name := r.PathValue("group"), r.PathValue("rule")
	pg := p.start(r, name+" · rules", "Rules")
	pg.Styles = []string{"alerts.css"}
	q := r.URL.Query()
	file := q.Get("file")
	n, _ := strconv.Atoi(q.Get("n"))
	pg.Keep = map[string]string{}
	for k, v := range map[string]string{"file": file, "n": q.Get("n")} {
		if v != "" {
			pg.Keep[k] = v
		}
	}
	b := ruleBody{Now: p.now()}
	if p.d.Alerts == nil {
		b.Off = true
		pg.Body = b
		p.render(w, r, p.tmpl["rules_detail.html"], http.StatusOK, pg)
		return
	}
	am := p.d.Alerts
	g, ri, ok := findRule(am.Groups(), group, name, file, n)
	if !ok {
		pg.Error = fmt.Sprintf("no loaded rule %q in group %q", name, group)
		if file != "" {
			pg.Error += " of " + file
		}
		pg.Body = b
		p.render(w, r, p.tmpl["rules_detail.html"], http.StatusNotFound, pg)
		return
	}
	all := am.Alerts()
	var mine []alerting.AlertView
	for _, a := range all {
		if a.Rule == ri.Key {
			mine = append(mine, a)
		}
	}
	b.Key, b.Defaults, b.Stored = ri.Key, g.File == defaultsFile, isStored(am.RuleStore(), g)
	b.Group = groupView{Name: g.Name, File: g.File, Interval: ruleDuration(g.Interval), LastEval: g.LastEval,
		EvalTime: ruleEvalDuration(g.EvalTime, g.LastEval)}
	b.Rule = ruleViewOf(g, ri, ruleCounts(mine)[ri.Key], pg.Range)
	yml, err := ruleYAML(ri.Spec)
	if err != nil {
		b.Problems = append(b.Problems, "write the rule as YAML: "+err.Error())
	}
	b.YAML = yml
	notes, err := p.alertNotes(am, mine)
	if err != nil {
		b.Problems = append(b.Problems, "notes: "+err.Error())
	}
	b.Alerts = groupOpen(mine, notes, pg.Range)
	evs, err := am.HistoryWhere(pg.Range.Start, pg.Range.End, ruleHistoryLimit, func(e *alerting.Event) bool {
		return e.Rule == ri.Key
	})
	if err != nil {
		b.Problems = append(b.Problems, "history: "+err.Error())
	}
	for _, e := range evs {
		b.History = append(b.History, historyRow{Event: e, Labels: alertLabels(e.Labels, "alertname"),
			Severity: alertSeverity(e.Severity), Value: formatValue(float64(e.Value))})
	}
	b.Chart, b.ChartAbout = p.ruleChart(r, ri.Spec, pg.Range)
	pg.Charts = !b.Chart.Empty
	pg.Body = b
	p.render(w, r, p.tmpl["rules_detail.html"], http.StatusOK, pg)
}

// findRule finds the n-th rule called name in group (of file, when
// given).
func findRule(groups []alerting.GroupInfo, group, name, file string, n int) (alerting.GroupInfo, alerting.RuleInfo, bool) {
	for _, g := range groups {
		if g.Name != group || (file != "" && g.File != file) {
			continue
		}
		for _, ri := range g.Rules {
			if ri.Spec.Name == name && ri.Ordinal == n {
				return g, ri, true
			}
		}
	}
	return alerting.GroupInfo{}, alerting.RuleInfo{}, false
}

// ruleChart draws the rule's expression over the range: a threshold
// rule's value with its warn, crit and clear lines; a flatline rule's
// series per group (a gap is a silence); the others' result as is.
func (p *Pages) ruleChart(r *http.Request, s *rulefile.Rule, rg Range) (Chart, string) {
	expr, spec, about := ruleChartSpec(s, rg)
	m, err := p.rangeQuery(r.Context(), expr, rg, nil)
	if err != nil {
		return Chart{ID: spec.ID, Title: spec.Title, Empty: true, Note: "query failed: " + err.Error()}, about
	}
	return lineChart(spec, m, rg), about
}

// ruleChartSpec returns what ruleChart draws of s: the query, the chart
// (with the rule's conditions as threshold lines) and a sentence about it.
func ruleChartSpec(s *rulefile.Rule, rg Range) (string, lineSpec, string) {
	expr := s.Expr
	spec := lineSpec{ID: "rule-chart", Title: "expression over the range"}
	about := "The rule's expression, evaluated over the range at a " + rg.Step.String() + " step."
	switch ruleType(s) {
	case "threshold":
		spec.Title = "value with the thresholds"
		for _, t := range []struct {
			c     *rulefile.Condition
			what  string
			color string
		}{{s.Warn, "warn", "#d98a00"}, {s.Crit, "crit", "#c9302c"}, {s.Clear, "clear", "#2e8b57"}} {
			if t.c != nil {
				spec.Thresholds = append(spec.Thresholds, Threshold{Value: t.c.Value, Color: t.color, Label: t.what + " " + t.c.String()})
			}
		}
		about += " The lines are the rule's conditions."
	case "flatline":
		expr = fmt.Sprintf("count by (%s) (%s)", strings.Join(s.By, ", "), s.Expr)
		spec.Title = "series reporting, by " + strings.Join(s.By, ", ")
		parts := make([]string, len(s.By))
		for i, b := range s.By {
			parts[i] = "{{" + b + "}}"
		}
		spec.Legend = strings.Join(parts, " ")
		about = "How many of the rule's series each group sends: a gap of " + ruleDuration(s.For) + " or more fires the rule."
	case "prometheus alert":
		about += " Every series drawn is a breach."
	}
	return expr, spec, about
}
