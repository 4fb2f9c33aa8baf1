package pages

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"outpost/query"
)

// varNameRE is what a variable's name may be.
var varNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// varRefRE finds the variables a query uses: $name or ${name}. A name
// starts with a letter or _, so label_replace's $1 is not one.
var varRefRE = regexp.MustCompile(`\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`)

// labelValuesRE reads Grafana's label_values(selector, label) and
// label_values(label).
var labelValuesRE = regexp.MustCompile(`^label_values\(\s*(?:(.+?)\s*,\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\)$`)

// variable decodes one variable; checkVariables checks it against the
// others.
func (d *dashDecoder) variable(n *yaml.Node, path string) Variable {
	var v Variable
	var q string
	var queryNode, labelNode, valuesNode *yaml.Node
	d.mapping(n, path, []dashField{
		{"name", d.str(&v.Name)},
		{"label", func(x *yaml.Node, path string) { labelNode = x; d.str(&v.Label)(x, path) }},
		{"match", d.str(&v.Match)},
		{"query", func(x *yaml.Node, path string) { queryNode = x; d.str(&q)(x, path) }},
		{"values", func(x *yaml.Node, path string) { valuesNode = x; d.stringList(&v.Values)(x, path) }},
		{"default", d.str(&v.Default)},
		{"all", d.boolean(&v.All)},
		{"all_value", d.str(&v.AllValue)},
	})
	if d.stop {
		return v
	}
	if queryNode != nil {
		m := labelValuesRE.FindStringSubmatch(strings.TrimSpace(q))
		switch {
		case m == nil:
			d.errorf(queryNode, fieldPath(path, "query"), "%q is not label_values(selector, label) or label_values(label)", q)
		case labelNode != nil || v.Match != "":
			d.errorf(queryNode, fieldPath(path, "query"), "give query, or label and match, not both")
		default:
			v.Match, v.Label = m[1], m[2]
		}
	}
	sources := 0
	for _, x := range []*yaml.Node{labelNode, queryNode, valuesNode} {
		if x != nil {
			sources++
		}
	}
	switch {
	case sources == 0:
		d.errorf(n, path, "a variable needs label, query or values")
	case valuesNode != nil && sources > 1:
		d.errorf(valuesNode, fieldPath(path, "values"), "give values, or label (or query), not both")
	case valuesNode != nil && len(v.Values) == 0:
		d.errorf(valuesNode, fieldPath(path, "values"), "required: at least one value")
	case valuesNode != nil && v.Default != "" && !slices.Contains(v.Values, v.Default):
		d.errorf(n, fieldPath(path, "default"), "%q is not one of the values", v.Default)
	case labelNode != nil && !varNameRE.MatchString(v.Label):
		d.errorf(labelNode, fieldPath(path, "label"), "%q is not a label name", v.Label)
	}
	if v.AllValue != "" && !v.All {
		d.errorf(n, fieldPath(path, "all_value"), "all_value needs all: true")
	}
	if v.All && v.AllValue == "" {
		v.AllValue = defaultAllValue
	}
	return v
}

// checkVariables checks the variables' names and their match selectors
// (which may use earlier variables), and returns a sample value of each,
// to check the queries with.
func (d *dashDecoder) checkVariables(vs []Variable, nodes []*yaml.Node) map[string]string {
	samples := map[string]string{}
	for i, v := range vs {
		path := "variables[" + strconv.Itoa(i) + "]"
		switch {
		case v.Name == "":
			d.errorf(nodes[i], fieldPath(path, "name"), "required: the name queries use as $name")
			continue
		case !varNameRE.MatchString(v.Name):
			d.errorf(nodes[i], fieldPath(path, "name"), "%q is not a name (letters, digits and _)", v.Name)
			continue
		case strings.HasPrefix(v.Name, "__"):
			d.errorf(nodes[i], fieldPath(path, "name"), "%q: names starting with __ are Grafana's", v.Name)
			continue
		case slices.ContainsFunc(vs[:i], func(o Variable) bool { return o.Name == v.Name }):
			d.errorf(nodes[i], fieldPath(path, "name"), "%q is given twice", v.Name)
			continue
		}
		if v.Match != "" {
			if bad := unknownVars(v.Match, samples); bad != "" {
				d.errorf(nodes[i], fieldPath(path, "match"), "$%s is not a variable defined before this one", bad)
			} else if _, err := query.ParseSelectors([]string{expandVars(v.Match, sampleRange(), samples)}); err != nil {
				d.errorf(nodes[i], fieldPath(path, "match"), "not a series selector: %v", err)
			}
		}
		switch {
		case v.Default != "":
			samples[v.Name] = escapeVarValue(v.Default)
		case len(v.Values) > 0 && v.Values[0] != "":
			samples[v.Name] = escapeVarValue(v.Values[0])
		default:
			samples[v.Name] = "x"
		}
	}
	return samples
}

// checkExpr checks that a panel's query uses only known variables and
// parses once they are replaced by sample values.
func (d *dashDecoder) checkExpr(e exprRef, samples map[string]string) {
	if strings.TrimSpace(e.expr) == "" {
		d.errorf(e.node, e.path, "required: a MetricsQL query")
		return
	}
	if bad := unknownVars(e.expr, samples); bad != "" {
		d.errorf(e.node, e.path, "$%s is not a variable of this dashboard", bad)
		return
	}
	if _, err := query.Parse(expandVars(e.expr, sampleRange(), samples)); err != nil {
		d.errorf(e.node, e.path, "does not parse: %v", err)
	}
}

// unknownVars returns the first variable s uses that is neither in known
// nor one of Grafana's, or "".
func unknownVars(s string, known map[string]string) string {
	for _, m := range varRefRE.FindAllStringSubmatch(s, -1) {
		name := m[1] + m[2]
		if _, ok := known[name]; !ok && !builtinVars[name] {
			return name
		}
	}
	return ""
}

// sampleRange is the range queries are checked with.
func sampleRange() Range {
	end := time.Unix(1e9, 0)
	return Range{Start: end.Add(-time.Hour), End: end, Step: 15 * time.Second}
}
