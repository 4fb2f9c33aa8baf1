package pages

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"outpost/query"
)

//go:embed templates
var templateFS embed.FS

// navItem is one entry of the top navigation.
type navItem struct{ Name, Path string }

// nav is the top navigation, in order.
var nav = []navItem{
	{"Overview", "/"}, {"Hosts", "/hosts"}, {"Dashboards", "/dashboards"}, {"Explore", "/explore"},
	{"Alerts", "/alerts"}, {"Rules", "/rules"}, {"Status", "/status"},
}

// page is what the layout needs, around a page's own data (Body).
type page struct {
	Title   string
	Section string            // the nav entry that is on
	Path    string            // the page's path, for the range form's action
	Keep    map[string]string // other URL parameters the range form carries on
	Range   Range
	NoRange bool     // the page has no time range (status)
	Charts  bool     // the page draws charts: load the scripts
	Scripts []string // more scripts of the page, by asset name (e.g. explore.js)
	Styles  []string // more stylesheets of the page, by asset name
	ECharts bool     // the echarts script is embedded
	Admin   bool     // the request may use admin actions
	CSRF    string
	Error   string
	Body    any

	Nav            []navItem
	RangeChoices   []string
	RefreshChoices []string
}

// funcs are the template functions every page may use; asset names an
// embedded asset's URL with its content hash, so a browser that cached an
// older binary's script asks for the new one.
func funcs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset":       a.url,
		"seconds":     func(d time.Duration) int { return int(d / time.Second) },
		"value":       formatValue,
		"bytes":       formatBytes,
		"time":        func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"ago":         formatAgo,
		"unixms":      func(ms int64) time.Time { return time.UnixMilli(ms) },
		"hostPath":    func(h string) string { return "/hosts/" + url.PathEscape(h) },
		"hostOf":      func(a string) string { h, _, _ := net.SplitHostPort(a); return h },
		"portOf":      func(a string) string { _, p, _ := net.SplitHostPort(a); return p },
		"silentAfter": func() string { return silentAfter.String() },
	}
}

// parsePage parses the layout with one page's template file.
func parsePage(file string, a *assets) (*template.Template, error) {
	t, err := template.New(file).Funcs(funcs(a)).ParseFS(templateFS, "templates/layout.html", "templates/"+file)
	if err != nil {
		return nil, fmt.Errorf("parse page template %s: %w", file, err)
	}
	return t, nil
}

// render executes t's layout into a buffer, then writes it, so that a
// template error is a clean 500 rather than half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, t *template.Template, status int, pg page) {
	pg.Nav, pg.RangeChoices, pg.RefreshChoices = p.nav, rangeChoices, refreshChoices
	pg.ECharts = p.assets.echarts
	if pg.Path == "" {
		pg.Path = r.URL.Path
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		p.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a failed write means the client left
}

// contentSecurityPolicy lets a page load scripts, styles, images and data
// from outpost alone, and run no inline script: nothing a page shows can
// make the browser ask another host for anything.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// formatValue prints a sample value briefly.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return query.FormatValue(v)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// formatBytes prints n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// formatAgo prints how long ago t was, coarsely.
func formatAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "in " + (-d).Round(time.Second).String()
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
}

// logger returns l or a logger that discards.
func logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
