package pages

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"time"

	"outpost/alerting"
	"outpost/query"
	"outpost/ui"
)

// Config is the pages' part of outpost's configuration (key "ui").
type Config struct {
	// Dashboards lists globs of dashboard YAML files (filepath.Glob
	// syntax, relative to the working directory), one dashboard a file,
	// shown at /dashboards/NAME for NAME.yml. Files are read on first use
	// and again when one changes; a file with problems is listed on
	// /dashboards with each problem's file:line:col and key, and keeps
	// out only itself. The format (dashboards_format.go has it all):
	//
	//	title: Fleet overview
	//	description: CPU and disk of every host
	//	from: now-6h                  # default range; refresh: 1m likewise
	//	variables:                    # a form on the page; var-host=... in the URL
	//	  - name: host                # $host or ${host} in queries
	//	    label: host               # values of a label (or values: [a, b]),
	//	    match: cpu_usage_idle     # among the series of this selector
	//	    all: true                 # offer All (all_value, default .*)
	//	rows:
	//	  - title: CPU
	//	    panels:
	//	      - title: CPU busy
	//	        kind: line            # or stat (the last value)
	//	        unit: percent         # bytes, bytes/s, bits/s, s, short
	//	        stack: false
	//	        min: 0
	//	        max: 100
	//	        expr: 100 - cpu_usage_idle{cpu="cpu-total",host=~"$host"}
	//	        legend: '{{host}}'    # or queries: [{expr, legend}, ...]
	//	        thresholds: [{value: 90, color: red, label: busy}]
	//
	// Queries may use $__interval, $__rate_interval and $__range.
	// Unknown keys and variables, and queries that do not parse, are
	// errors.
	Dashboards []string `koanf:"dashboards"`
}

// DefaultConfig returns the embedded defaults: no dashboard files.
func DefaultConfig() Config { return Config{} }

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	for i, g := range c.Dashboards {
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("ui.dashboards[%d]: %q is not a glob: %w", i, g, err)
		}
	}
	return nil
}

// Ingest is one protocol's ingest counters, as the overview and status
// pages show them.
type Ingest struct {
	Protocol    string
	Samples     uint64
	Bytes       uint64
	Connections uint64
	Rejections  []Rejection
}

// Rejection counts what a protocol turned away for one reason.
type Rejection struct {
	What, Reason string
	N            uint64
}

// Listener is one ingest address, for the overview's "next step" box.
type Listener struct {
	Protocol string // influx, graphite, collectd, ...
	Network  string // tcp, udp, tcp+udp
	Addr     string // as configured, e.g. ":2003"; empty: off
}

// Deps is what the pages read.
type Deps struct {
	Engine  *query.Engine
	Storage query.Storage
	// Alerts is the alert manager; nil leaves the alert and rule pages
	// saying alerting is off.
	Alerts *alerting.Manager
	// Ingest returns the ingest counters of every protocol.
	Ingest func() []Ingest
	// Listeners are the ingest addresses in effect.
	Listeners []Listener
	// Series returns the number of series in the store.
	Series func() int
	// DataDir is the store's directory, whose size the overview shows.
	DataDir string
	// ConfigYAML returns the configuration in effect with secrets masked.
	ConfigYAML func() string
	// Store returns the store's figures for the status page (*tsdb.DB's
	// Stats); nil leaves the page with the directory's size and Series.
	Store StoreStats
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Route is one page route for main to mount: Admin routes need the admin
// role, the others the read role.
type Route struct {
	Pattern string
	Admin   bool
	Public  bool // needs no token (the favicon, which browsers fetch without asking)
	Handler http.Handler
}

// Pages serves outpost's web pages. It is safe for concurrent use.
type Pages struct {
	cfg    Config
	d      Deps
	log    *slog.Logger
	now    func() time.Time
	assets *assets
	forms  *forms
	tmpl   map[string]*template.Template // by file name
	nav    []navItem                     // the sections that have pages
}

// New builds the pages: it parses every template now, so a broken one fails
// at startup.
func New(cfg Config, d Deps) (*Pages, error) {
	p := &Pages{cfg: cfg, d: d, log: logger(d.Logger), now: d.Now, tmpl: map[string]*template.Template{}}
	if p.now == nil {
		p.now = time.Now
	}
	var err error
	if p.assets, err = newAssets(); err != nil {
		return nil, fmt.Errorf("read embedded page assets: %w", err)
	}
	if p.forms, err = newForms(p.now); err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list page templates: %w", err)
	}
	for _, f := range files {
		f = path.Base(f)
		if f == "layout.html" {
			continue
		}
		if p.tmpl[f], err = parsePage(f, p.assets); err != nil {
			return nil, err
		}
	}
	mounted := map[string]bool{}
	for _, r := range p.Routes() {
		_, path, _ := strings.Cut(r.Pattern, " ")
		mounted[strings.TrimSuffix(path, "{$}")] = true
	}
	for _, n := range nav {
		if mounted[n.Path] {
			p.nav = append(p.nav, n)
		}
	}
	return p, nil
}

// Routes returns the page routes.
func (p *Pages) Routes() []Route {
	rs := []Route{
		{Pattern: "GET /{$}", Handler: http.HandlerFunc(p.overview)},
		{Pattern: "GET " + assetsPrefix + "{name}", Handler: p.assets},
		{Pattern: "GET /favicon.ico", Public: true, Handler: http.HandlerFunc(favicon)},
	}
	for _, section := range [][]Route{p.hostRoutes(), p.dashboardRoutes(), p.exploreRoutes(), p.alertRoutes(),
		p.ruleRoutes(), p.statusRoutes()} {
		rs = append(rs, section...)
	}
	return rs
}

// HaveECharts reports whether the echarts script is embedded.
func (p *Pages) HaveECharts() bool { return p.assets.echarts }

// start reads what every page needs from the request: the time range (an
// error is shown on the page, with the default range), the form token and
// whether admin actions may be offered.
func (p *Pages) start(r *http.Request, title, section string) page {
	pg := page{Title: title, Section: section, Admin: ui.Can(r, ui.RoleAdmin)}
	rg, err := parseRange(r.URL.Query(), p.now())
	if err != nil {
		pg.Error = "time range: " + err.Error()
		rg, _ = parseRange(nil, p.now())
	}
	pg.Range = rg
	if pg.Admin {
		pg.CSRF = p.forms.token(r)
	}
	return pg
}

// rangeQuery runs q over the page's range with its step, after replacing
// Grafana's variables and vars (see expandVars).
func (p *Pages) rangeQuery(ctx context.Context, q string, rg Range, vars map[string]string) (query.Matrix, error) {
	q = expandVars(q, rg, vars)
	start, end := rg.alignedGrid()
	v, err := p.d.Engine.Range(ctx, q, start, end, rg.Step)
	if err != nil {
		return nil, err
	}
	m, ok := v.(query.Matrix)
	if !ok {
		return nil, fmt.Errorf("query %q gave a %s, not a range of series", q, v.Type())
	}
	return m, nil
}

// instant runs q at t and returns its samples (a scalar becomes one
// sample without labels).
func (p *Pages) instant(ctx context.Context, q string, t time.Time) (query.Vector, error) {
	v, err := p.d.Engine.Instant(ctx, q, t)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case query.Vector:
		return v, nil
	case query.Scalar:
		return query.Vector{{T: v.T, V: v.V}}, nil
	}
	return nil, fmt.Errorf("query %q gave a %s, not series", q, v.Type())
}

// favicon answers the browser's own request for /favicon.ico (a page's
// data: icon covers HTML pages; plain-text answers have none) with no
// content, so that it is neither an error in the console nor asked again
// for a day.
func favicon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
}
