package pages

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exampleDashboards is where the example dashboard files are: good ones,
// and bad ones under bad/.
const exampleDashboards = "../../testdata/dashboards"

func TestParseDashboard_Examples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(exampleDashboards, "*.yml"))
	if err != nil || len(files) < 2 {
		t.Fatalf("example dashboards: %v, %d files", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, errs := parseDashboard(f, data)
			for _, e := range errs {
				t.Error(e)
			}
			if d == nil || d.Title == "" || len(d.Rows) == 0 {
				t.Fatalf("parsed %+v", d)
			}
		})
	}
}

func TestParseDashboard_Fleet(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(exampleDashboards, "fleet.yml"))
	if err != nil {
		t.Fatal(err)
	}
	d, errs := parseDashboard("fleet.yml", data)
	if errs != nil {
		t.Fatal(errs)
	}
	if d.Name != "fleet" || d.From != "now-6h" || len(d.Variables) != 1 {
		t.Fatalf("dashboard %q from %q, %d variables", d.Name, d.From, len(d.Variables))
	}
	v := d.Variables[0]
	if v.Name != "host" || v.Label != "host" || v.Match != `cpu_usage_idle{cpu="cpu-total"}` || !v.All || v.AllValue != ".*" {
		t.Errorf("variable from label_values: %+v", v)
	}
	cpu := d.Rows[1].Panels[0]
	if cpu.Kind != panelLine || cpu.Unit != "percent" || *cpu.Min != 0 || *cpu.Max != 100 || len(cpu.Thresholds) != 2 ||
		cpu.Thresholds[1] != (Threshold{Value: 95, Color: "red", Label: "saturated"}) || cpu.Queries[0].Legend != "host" {
		t.Errorf("CPU panel (thresholds through an alias): %+v", cpu)
	}
	if got := d.Rows[3].Panels[1].Queries; len(got) != 2 || got[1].Legend != "{{host}} write" {
		t.Errorf("disk throughput queries: %+v", got)
	}
}

// parseErrors parses src and returns its problems as text, one a line.
func parseErrors(t *testing.T, src string) string {
	t.Helper()
	d, errs := parseDashboard("d.yml", []byte(src))
	if (d == nil) == (len(errs) == 0) {
		t.Fatalf("parseDashboard gave %v and %d problems", d, len(errs))
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return strings.Join(out, "\n")
}

func TestParseDashboard_Errors(t *testing.T) {
	const ok = "title: T\nrows:\n  - panels:\n      - expr: up\n"
	f := func(name, src string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got := parseErrors(t, src)
			if len(want) == 0 && got != "" {
				t.Errorf("unexpected problems:\n%s", got)
			}
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
	f("ok", ok)
	f("unknown top key", ok+"titel: x\n", `d.yml:5:1: titel: unknown field (want one of title, description, from, refresh, variables, rows)`)
	f("unknown panel key", "title: T\nrows:\n  - panels:\n      - exprs: up\n",
		`d.yml:4:9: rows[0].panels[0].exprs: unknown field`, `d.yml:4:9: rows[0].panels[0]: a panel needs expr or queries`)
	f("key twice", "title: T\ntitle: U\nrows: []\n", `d.yml:2:1: title: given twice (first at line 1)`)
	f("no title no rows", "description: x\n", `d.yml:1:1: title: required`, `d.yml:1:1: rows: required`)
	f("empty", "", `d.yml: the file is empty`)
	f("not a mapping", "- a\n- b\n", `d.yml:1:1: want a mapping, got a list`)
	f("yaml syntax", "title: [\n", `d.yml:1: invalid YAML:`)
	f("two documents", ok+"---\ntitle: U\n", `a second starts here`)
	f("unit", "title: T\nrows:\n  - panels:\n      - {expr: up, unit: pct}\n",
		`d.yml:4:26: rows[0].panels[0].unit: "pct" is not a unit (want one of percent, bytes, bytes/s, bits/s, s, short)`)
	f("kind", "title: T\nrows:\n  - panels:\n      - {expr: up, kind: bar}\n", `rows[0].panels[0].kind: "bar" is not a panel kind`)
	f("stack not bool", "title: T\nrows:\n  - panels:\n      - {expr: up, stack: yes please}\n", `stack: want true or false`)
	f("min not number", "title: T\nrows:\n  - panels:\n      - {expr: up, min: low}\n", `min: want a finite number, got "low"`)
	f("min inf", "title: T\nrows:\n  - panels:\n      - {expr: up, min: .inf}\n", `min: want a finite number`)
	f("min above max", "title: T\nrows:\n  - panels:\n      - {expr: up, min: 5, max: 1}\n", `min (5) is not below max (1)`)
	f("expr and queries", "title: T\nrows:\n  - panels:\n      - {expr: up, queries: [{expr: up}]}\n", `give expr or queries, not both`)
	f("query without expr", "title: T\nrows:\n  - panels:\n      - {queries: [{legend: x}]}\n", `queries[0].expr: required`)
	f("empty expr", "title: T\nrows:\n  - panels:\n      - {expr: ''}\n", `rows[0].panels[0].expr: required: a MetricsQL query`)
	f("parse error", "title: T\nrows:\n  - panels:\n      - expr: rate(up[5m]\n",
		`d.yml:4:15: rows[0].panels[0].expr: does not parse: 1:`)
	f("unknown variable", "title: T\nrows:\n  - panels:\n      - expr: up{host=\"$host\"}\n", `$host is not a variable of this dashboard`)
	f("grafana variables", "title: T\nrows:\n  - panels:\n      - expr: rate(up[$__rate_interval]) + rate(up[${__interval}]) + up offset $__range\n")
	f("threshold colour", "title: T\nrows:\n  - panels:\n      - {expr: up, thresholds: [{value: 1, color: 'red;x'}, {color: red}]}\n",
		`thresholds[0].color: "red;x" is not a colour`, `thresholds[1].value: required`)
	f("hex colour", "title: T\nrows:\n  - panels:\n      - {expr: up, thresholds: [{value: 1, color: '#c9302c'}]}\n")
	f("no panels", "title: T\nrows:\n  - title: R\n", `rows[0].panels: required: at least one panel`)
	f("from", ok+"from: yesterday\nrefresh: often\n", `from: "yesterday" is not now-DURATION`, `refresh: "often" is not a duration`)
	f("merge key", "title: T\nbase: &b {unit: percent, expr: up}\nrows:\n  - panels:\n      - {<<: *b, title: x}\n", `base: unknown field`)
	f("legend unquoted", "title: T\nrows:\n  - panels:\n      - expr: up\n        legend: {{host}}\n",
		`d.yml:5:17: rows[0].panels[0].legend: want a string, got a mapping: quote a template`)
	f("merge key ok", "title: T\nrows:\n  - panels:\n      - &p {unit: percent, expr: up}\n      - {<<: *p, unit: bytes}\n")
}

func TestParseDashboard_Variables(t *testing.T) {
	const rows = "rows:\n  - panels:\n      - expr: up{host=\"$host\"}\n"
	f := func(name, vars string, want ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			src := "title: T\nvariables:\n" + vars + rows
			if len(want) == 0 {
				if _, errs := parseDashboard("d.yml", []byte(src)); errs != nil {
					t.Errorf("unexpected problems: %v", errs)
				}
				return
			}
			got := parseErrors(t, src)
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
	f("label", "  - {name: host, label: host}\n")
	f("label and match", "  - {name: host, label: host, match: 'cpu_usage_idle{cpu=\"cpu-total\"}'}\n")
	f("query", "  - {name: host, query: 'label_values(host)'}\n")
	f("values", "  - {name: host, values: [a, b], default: b}\n")
	f("all", "  - {name: host, label: host, all: true, all_value: '.+'}\n")
	f("chained", "  - {name: dc, label: dc}\n  - {name: host, label: host, match: 'up{dc=\"$dc\"}'}\n")
	f("no source", "  - {name: host}\n", `variables[0]: a variable needs label, query or values`)
	f("no name", "  - {label: host}\n", `variables[0].name: required`)
	f("bad name", "  - {name: host-name, label: host}\n", `"host-name" is not a name`)
	f("grafana name", "  - {name: __host, label: host}\n", `names starting with __ are Grafana's`)
	f("twice", "  - {name: host, label: host}\n  - {name: host, label: h}\n", `variables[1].name: "host" is given twice`)
	f("bad query", "  - {name: host, query: 'query_result(up)'}\n", `is not label_values(selector, label)`)
	f("query and label", "  - {name: host, query: 'label_values(host)', label: host}\n", `give query, or label and match, not both`)
	f("values and label", "  - {name: host, label: host, values: [a]}\n", `give values, or label (or query), not both`)
	f("default not a value", "  - {name: host, values: [a], default: b}\n", `"b" is not one of the values`)
	f("bad match", "  - {name: host, label: host, match: 'up{'}\n", `variables[0].match: not a series selector`)
	f("match uses a later variable", "  - {name: host, label: host, match: 'up{dc=\"$dc\"}'}\n  - {name: dc, label: dc}\n",
		`$dc is not a variable defined before this one`)
	f("all_value without all", "  - {name: host, label: host, all_value: '.*'}\n", `all_value needs all: true`)
	f("bad label", "  - {name: host, label: 'a b'}\n", `"a b" is not a label name`)
}

func TestParseDashboard_Bounds(t *testing.T) {
	// Aliases that would expand to a huge tree (500 rows of 500 panels of
	// 500 queries, in a few kilobytes) are refused, not walked.
	rep := func(s string) string { return strings.Repeat(", "+s, 499) }
	bomb := "title: T\nrows: [&r {panels: [&p {queries: [&q {expr: up}" + rep("*q") + "]}" + rep("*p") + "]}" + rep("*r") + "]\n"
	if got := parseErrors(t, bomb); !strings.Contains(got, "aliases expand it past 100000 nodes") {
		t.Errorf("problems: %s", got)
	}
	big := "title: T\nrows:\n" + strings.Repeat("  - panels: [{expr: up}]\n", maxDashboardPanels+1)
	if got := parseErrors(t, big); !strings.Contains(got, "101 panels: a dashboard has at most 100") {
		t.Errorf("problems: %s", got)
	}
	many := "title: T\n" + strings.Repeat("x: 1\n", 2*maxDashboardErrors)
	if got := parseErrors(t, many); !strings.Contains(got, "more problems") {
		t.Errorf("problems: %s", got)
	}
}

func TestParseDashboard_BadExamples(t *testing.T) {
	f := func(file string, want ...string) {
		t.Helper()
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(exampleDashboards, "bad", file))
			if err != nil {
				t.Fatal(err)
			}
			got := parseErrors(t, string(data))
			for _, w := range want {
				if !strings.Contains(got, w) {
					t.Errorf("problems lack %q:\n%s", w, got)
				}
			}
		})
	}
	f("unknown-key.yml", `d.yml:6:9: rows[0].panels[0].exprs: unknown field`, `d.yml:7:15: rows[0].panels[0].unit: "pct" is not a unit`)
	f("query.yml", `d.yml:8:15: rows[0].panels[0].expr: does not parse`, `d.yml:10:15: rows[0].panels[1].expr: $hots is not a variable`,
		`rows[0].panels[2].thresholds[0].color`, `rows[0].panels[2].thresholds[1].value: required`)
	f("yaml.yml", `d.yml:3: invalid YAML: found unexpected end of stream`)
}
