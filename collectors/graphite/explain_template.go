package graphite

import "fmt"

// explainTemplate fills in the template chosen for res, the filters
// considered, the steps and the name rule.
func (p *Parser) explainTemplate(e *Explanation, res *resolved) {
	if res.tmpl == nil {
		e.Why = "no graphite.templates are configured, so the metric name is the path as sent (the VictoriaMetrics convention)"
		e.NameRule = "the whole path " + quote(res.metricPath)
		return
	}
	t := res.tmpl
	e.Template = describeTemplate(t)
	matched := 0
	for i, ft := range p.ts.bySpecificity() {
		ok, why := filterMatch(ft.filterE, res.elems)
		if ok {
			matched++
		}
		e.Filters = append(e.Filters, ExplainFilter{Rank: i + 1, Index: ft.index, Filter: ft.filter,
			Template: ft.pattern, Matched: ok, Chosen: ft == t, Why: why})
	}
	switch {
	case t.filter != "" && matched == 1:
		e.Why = fmt.Sprintf("filter %s of graphite.templates[%d] is the only filter that matches the path", quote(t.filter), t.index)
	case t.filter != "":
		e.Why = fmt.Sprintf("filter %s of graphite.templates[%d] is the most specific of the %s that match the path "+
			"(at the first element where two filters differ, a literal beats \"*\"; a longer filter beats its own prefix)",
			quote(t.filter), t.index, plural(matched, "filter", "filters"))
	case t.index >= 0 && len(e.Filters) == 0:
		e.Why = fmt.Sprintf("graphite.templates[%d] has no filter and no other template has one, so it applies to every path", t.index)
	case t.index >= 0:
		e.Why = fmt.Sprintf("no filter matches the path, so the default template graphite.templates[%d] (the one without a filter) applies", t.index)
	default:
		e.Why = "no filter matches the path and no default template is configured, so the built-in default " +
			"\"measurement*\" applies: the whole path is the metric name"
	}
	e.Steps = explainSteps(t, res.elems)
	switch a := res.applied; {
	case a.measurement == "" && a.field != "":
		e.NameRule = fmt.Sprintf("the template yields no measurement here, so the whole path %s is the measurement; then \"_\" and the field %s", quote(res.metricPath), quote(a.field))
	case a.measurement == "":
		e.NameRule = fmt.Sprintf("the template yields no measurement here, so the whole path %s is the metric name", quote(res.metricPath))
	case a.field != "":
		e.NameRule = fmt.Sprintf("the measurement %s, then \"_\" and the field %s", quote(a.measurement), quote(a.field))
	default:
		e.NameRule = fmt.Sprintf("the measurement %s (parts joined with %s)", quote(a.measurement), quote(t.sep))
	}
}

// word returns the template part as written.
func (p tmplPart) word() string {
	switch p.kind {
	case partMeasurement:
		return "measurement"
	case partMeasurementRest:
		return "measurement*"
	case partField:
		return "field"
	case partFieldRest:
		return "field*"
	case partTag:
		return p.tag
	}
	return ""
}

// explainSteps says, position by position, what t does with the path.
func explainSteps(t *template, elems []string) []ExplainStep {
	var steps []ExplainStep
	rest := "" // set once measurement* or field* has taken the rest of the path
	for i := 0; i < max(len(elems), len(t.parts)); i++ {
		st := ExplainStep{Position: i + 1}
		if i < len(elems) {
			st.Element = elems[i]
		}
		if i < len(t.parts) {
			st.Part = t.parts[i].word()
		}
		switch {
		case rest != "" && i < len(elems):
			st.Effect = rest
		case rest != "":
			st.Effect = "unused: an earlier part took the rest of the path"
		case i >= len(t.parts):
			st.Effect = fmt.Sprintf("ignored: the template has only %s", plural(len(t.parts), "part", "parts"))
		case i >= len(elems):
			st.Effect = fmt.Sprintf("unused: the path has only %s", plural(len(elems), "element", "elements"))
		default:
			st.Effect, rest = stepEffect(t, i)
		}
		steps = append(steps, st)
	}
	return steps
}

// stepEffect describes what part i of t does with its element, and what
// it does with every later element when it takes the rest.
func stepEffect(t *template, i int) (effect, rest string) {
	p := t.parts[i]
	switch p.kind {
	case partSkip:
		return "dropped (empty template part)", ""
	case partMeasurement:
		return "appended to the measurement", ""
	case partMeasurementRest:
		return "appended to the measurement, with every later element", "appended to the measurement (by measurement*)"
	case partField:
		return "the field name", ""
	case partFieldRest:
		return "the field name, with every later element", "appended to the field name (by field*)"
	}
	for j := range i {
		if t.parts[j].kind == partTag && t.parts[j].tag == p.tag {
			return fmt.Sprintf("appended to label %s with %s", quote(p.tag), quote(t.sep)), ""
		}
	}
	return fmt.Sprintf("label %s", quote(p.tag)), ""
}
