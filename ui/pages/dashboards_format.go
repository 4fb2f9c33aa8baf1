package pages

// A dashboard file is one YAML document:
//
//	title: Fleet overview                  # required
//	description: CPU, memory, disk and network of every host
//	from: now-24h                          # the range when the URL gives none (default now-1h)
//	refresh: 1m                            # the auto-refresh when the URL gives none (default off)
//	variables:                             # chosen with a form on the page, kept in the URL as var-NAME
//	  - name: dc                           # used in queries as $dc or ${dc}
//	    values: [eu, us]                   # fixed values
//	  - name: host
//	    label: host                        # the values of a label among the series of the range,
//	    match: 'cpu_usage_idle{dc="$dc"}'  # optionally only those of this selector (earlier variables allowed)
//	    # query: label_values(cpu_usage_idle{dc="$dc"}, host)   is the same, in Grafana's words
//	    default: web1                      # default: the first value (or All when all is set)
//	    all: true                          # offer "All", which expands to all_value
//	    all_value: '.*'                    # default .* (so write host=~"$host")
//	rows:
//	  - title: CPU
//	    panels:
//	      - title: CPU busy
//	        kind: line                     # line (default) or stat: the last value in the range, big
//	        unit: percent                  # percent, bytes, bytes/s, bits/s, s, short
//	        stack: false                   # stack the series (areas)
//	        min: 0                         # fixed y axis bounds
//	        max: 100
//	        queries:                       # one or more; or expr and legend on the panel for one
//	          - expr: 100 - cpu_usage_idle{cpu="cpu-total",host=~"$host"}
//	            legend: '{{host}}'         # a template of {{label}}s, a label name, or text
//	        thresholds:                    # horizontal lines; a stat takes the colour of the
//	          - {value: 80, color: orange, label: busy}   # highest threshold its value reaches
//	          - {value: 95, color: red}
//
// Queries are MetricsQL with Grafana's variables: $__interval (the step),
// $__rate_interval, $__range and the dashboard's own. A variable's value
// is written in the query as it is, with \ and " escaped (it usually sits
// in a "..." label value); All writes all_value as it is. Unknown keys,
// unknown variables and queries that do not parse are errors, each with its
// file:line:col and field. Colours are #rgb, #rrggbb or one of the palette
// names (green, blue, orange, yellow, red, purple, gray).

// Dashboard is one dashboard file, parsed and checked.
type Dashboard struct {
	Name        string // from the file name: fleet.yml is /dashboards/fleet
	File        string // the path it was loaded from
	Title       string
	Description string
	From        string // the default range start (now-24h); "" = the pages' default
	Refresh     string // the default auto-refresh (1m); "" = off
	Variables   []Variable
	Rows        []Row
}

// Variable is a dashboard variable: a value chosen on the page that
// queries use as $name.
type Variable struct {
	Name     string
	Label    string   // offer the values of this label...
	Match    string   // ...among the series of this selector ("" = all series)
	Values   []string // or these fixed values
	Default  string
	All      bool   // offer "All"
	AllValue string // what All expands to (default .*)
}

// Row is a titled group of panels.
type Row struct {
	Title  string
	Panels []Panel
}

// Panel kinds.
const (
	panelLine = "line"
	panelStat = "stat"
)

// Panel is one chart (line) or value (stat) of a row.
type Panel struct {
	Title      string
	Kind       string // panelLine or panelStat
	Unit       string // one of units
	Stack      bool
	Min, Max   *float64
	Thresholds []Threshold
	Queries    []PanelQuery
}

// PanelQuery is one query of a panel and how its series are named.
type PanelQuery struct {
	Expr   string
	Legend string // a {{label}} template, a label name or text; "" = the labels
}

// allChoice is the URL value of a variable's "All" choice (Grafana's).
const allChoice = "$__all"

// defaultAllValue is what All expands to unless all_value says otherwise.
const defaultAllValue = ".*"

// units are the units a panel may have: those outpost.js formats.
var units = []string{"", "percent", "bytes", "bytes/s", "bits/s", "s", "short"}

// palette maps the colour names a dashboard may use to their CSS colours
// (the pages' own shades) and to the class a stat panel takes for them.
var palette = map[string]string{
	"green": "#2e8b57", "blue": "#2f6fd6", "orange": "#d98a00", "yellow": "#e0b000",
	"red": "#c9302c", "purple": "#7b4fc9", "gray": "#5b6475", "grey": "#5b6475",
}

// builtinVars are Grafana's variables that expandVars replaces.
var builtinVars = map[string]bool{"__interval": true, "__rate_interval": true, "__range": true}
