package pages

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hostDashboard is a dashboard with a host variable, thresholds, a
// $__rate_interval and a stat.
const hostDashboard = `title: Hosts <b>bold</b>
description: one host at a time
variables:
  - name: host
    label: host
    match: 'cpu_usage_idle{cpu="cpu-total"}'
rows:
  - title: CPU
    panels:
      - title: CPU busy
        unit: percent
        expr: 100 - cpu_usage_idle{cpu="cpu-total",host="$host"}
        legend: host
        thresholds:
          - {value: 80, label: busy}
          - {value: 95, color: purple, label: saturated}
      - title: Rate window
        expr: label_set(vector(1), "window", "$__rate_interval")
        legend: window
      - title: Idle
        kind: stat
        unit: percent
        expr: cpu_usage_idle{cpu="cpu-total",host="$host"}
        thresholds:
          - {value: 50, color: orange}
          - {value: 85, color: red}
`

// dashboardSite writes files (name, content pairs) into a directory,
// configures ui.dashboards to its *.yml and stores CPU series of web1,
// web2 and a host whose name is markup.
func dashboardSite(t *testing.T, files ...string) (*testSite, string) {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i+1 < len(files); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestSite(t, exploreNow, siteOptions{cfg: Config{Dashboards: []string{filepath.Join(dir, "*.yml")}}})
	for i, h := range []string{"web1", "web2", "<script>alert(1)</script>"} {
		s.write(s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", h), 360, 10*time.Second,
			func(int) float64 { return float64(90 - 10*i) })...)
	}
	return s, dir
}

// dashboardPage fetches path, wanting status want and no label value
// written as markup.
func dashboardPage(t *testing.T, s *testSite, path string, want int) string {
	t.Helper()
	code, body := s.get(path)
	if code != want {
		t.Fatalf("GET %s = %d, want %d: %s", path, code, want, body)
	}
	if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, "<b>bold") {
		t.Error("a label value or a title was written as markup")
	}
	return body
}

func TestDashboards_List(t *testing.T) {
	fleet, err := os.ReadFile(filepath.Join(exampleDashboards, "fleet.yml"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := dashboardSite(t, "fleet.yml", string(fleet), "hosts.yml", hostDashboard,
		"broken.yml", "title: Broken\nrows:\n  - panels:\n      - title: CPU\n        exprs: up\n")
	body := dashboardPage(t, s, "/dashboards", http.StatusOK)
	mustContain(t, body, `id="dashboards-list"`, `<a href="/dashboards/fleet">Fleet overview</a>`,
		`<a href="/dashboards/hosts">Hosts &lt;b&gt;bold&lt;/b&gt;</a>`, "CPU, memory, disk and network of every host",
		`id="dashboards-errors"`, "broken.yml:5:9: rows[0].panels[0].exprs: unknown field",
		"broken.yml:4:9: rows[0].panels[0]: a panel needs expr or queries")
	if strings.Contains(body, `href="/dashboards/broken"`) {
		t.Error("the broken dashboard is linked as if it worked")
	}
	// The good ones render; the broken one says why it does not.
	body = dashboardPage(t, s, "/dashboards/fleet", http.StatusOK)
	mustContain(t, body, `id="dashboard-title">Fleet overview<`, `id="panel-2-1" data-option=`, `id="var-host"`,
		`<option value="$__all" selected>All</option>`)
	body = dashboardPage(t, s, "/dashboards/broken", http.StatusOK)
	mustContain(t, body, `id="dashboard-errors"`, "rows[0].panels[0].exprs: unknown field")
	body = dashboardPage(t, s, "/dashboards/nope", http.StatusNotFound)
	mustContain(t, body, `id="dashboard-missing"`, `id="dashboards-list"`)
}

func TestDashboards_Variable(t *testing.T) {
	s, _ := dashboardSite(t, "hosts.yml", hostDashboard)
	// No choice in the URL: the first host.
	body := dashboardPage(t, s, "/dashboards/hosts", http.StatusOK)
	mustContain(t, body, `<select name="var-host" id="var-host">`, `<option value="&lt;script&gt;alert(1)&lt;/script&gt;" selected>`,
		`<option value="web1">web1</option>`, `<option value="web2">web2</option>`)
	if got := seriesNames(chartOption(t, body, "panel-1-1")); len(got) != 1 || got[0] != "<script>alert(1)</script>" {
		t.Errorf("series %q, want the first host's", got)
	}
	// A choice in the URL, kept by the range form.
	body = dashboardPage(t, s, "/dashboards/hosts?var-host=web2&from=now-30m", http.StatusOK)
	mustContain(t, body, `<option value="web2" selected>web2</option>`, `<input type="hidden" name="var-host" value="web2">`,
		`<input type="hidden" name="from" value="now-30m">`)
	if got := seriesNames(chartOption(t, body, "panel-1-1")); len(got) != 1 || got[0] != "web2" {
		t.Errorf("series %q, want web2", got)
	}
	// A value the range does not have is still used, and said so.
	body = dashboardPage(t, s, "/dashboards/hosts?var-host=db9", http.StatusOK)
	mustContain(t, body, `<option value="db9" selected>db9 (not in this range)</option>`)
}

func TestDashboards_ThresholdsAndRateInterval(t *testing.T) {
	s, _ := dashboardSite(t, "hosts.yml", hostDashboard)
	body := dashboardPage(t, s, "/dashboards/hosts?var-host=web1&from=now-1h", http.StatusOK)
	opt := chartOption(t, body, "panel-1-1")
	series := opt["series"].([]any)
	ml := series[0].(map[string]any)["markLine"].(map[string]any)
	data := ml["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("markLine data %v", data)
	}
	for i, want := range []struct {
		value float64
		name  string
		color string
	}{{80, "busy", "#d98a00"}, {95, "saturated", "#7b4fc9"}} {
		it := data[i].(map[string]any)
		color := it["lineStyle"].(map[string]any)["color"]
		if it["yAxis"] != want.value || it["name"] != want.name || color != want.color {
			t.Errorf("threshold %d: %v", i, it)
		}
	}
	// web1 is 10% busy: the axis stretches to show the thresholds.
	y, _ := opt["yAxis"].(map[string]any)
	if ys, ok := opt["yAxis"].([]any); ok {
		y, _ = ys[0].(map[string]any)
	}
	if m, _ := y["max"].(float64); m < 95 {
		t.Errorf("y axis max %v, want it above the 95 threshold", y["max"])
	}
	// now-1h: a 10 s step, so $__rate_interval is 4 × 10 s.
	if got := seriesNames(chartOption(t, body, "panel-1-2")); len(got) != 1 || got[0] != "40s" {
		t.Errorf("$__rate_interval expanded to %q, want 40s", got)
	}
	// The stat: web1 idles at 90%, above the red threshold (85).
	mustContain(t, body, `id="panel-1-3"`, `<span class="v c-red">90%</span>`)
	body = dashboardPage(t, s, "/dashboards/hosts?var-host=web2&from=now-1h", http.StatusOK)
	mustContain(t, body, `<span class="v c-orange">80%</span>`)
}

func TestDashboards_AllAndDefaults(t *testing.T) {
	const all = `title: All hosts
from: now-30m
refresh: 1m
variables:
  - {name: host, label: host, all: true}
  - {name: mode, values: [idle, user], default: idle}
rows:
  - panels:
      - expr: cpu_usage_$mode{host=~"$host"}
        legend: host
`
	s, _ := dashboardSite(t, "all.yml", all)
	body := dashboardPage(t, s, "/dashboards/all", http.StatusOK)
	mustContain(t, body, `<option value="$__all" selected>All</option>`, `<option value="idle" selected>idle</option>`,
		`<input type="hidden" name="from" value="now-30m">`, `<meta http-equiv="refresh" content="60">`)
	if got := seriesNames(chartOption(t, body, "panel-1-1")); len(got) != 3 {
		t.Errorf("All gave series %q", got)
	}
	// The URL's range and refresh win over the file's.
	body = dashboardPage(t, s, "/dashboards/all?from=now-2h&refresh=&var-host=web1", http.StatusOK)
	mustContain(t, body, `<input type="hidden" name="from" value="now-2h">`)
	if strings.Contains(body, `http-equiv="refresh"`) {
		t.Error("refresh off in the URL, yet the page reloads itself")
	}
	if got := seriesNames(chartOption(t, body, "panel-1-1")); len(got) != 1 || got[0] != "web1" {
		t.Errorf("var-host=web1 gave series %q", got)
	}
}

func TestDashboards_Legends(t *testing.T) {
	const d = `title: Legends
rows:
  - panels:
      - queries:
          - {expr: 'cpu_usage_idle{host="web1"}', legend: idle}
          - {expr: 'cpu_usage_idle{host="web2"}', legend: '{{host}} {{cpu}}'}
          - {expr: 'cpu_usage_idle{host="web2"}', legend: cpu}
          - {expr: 'sum(cpu_usage_idle{host="web2"})'}
      - kind: stat
        unit: percent
        expr: cpu_usage_idle
        legend: host
`
	s, _ := dashboardSite(t, "l.yml", d)
	body := dashboardPage(t, s, "/dashboards/l", http.StatusOK)
	got := seriesNames(chartOption(t, body, "panel-1-1"))
	want := []string{"idle", "web2 cpu-total", "cpu-total", "value"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("legends %q, want %q", got, want)
	}
	mustContain(t, body, `id="panel-1-2"`, `<span class="stat-name">web1</span> <span class="v">90%</span>`,
		`<span class="stat-name">&lt;script&gt;alert(1)&lt;/script&gt;</span> <span class="v">70%</span>`)
}

func TestDashboards_QueryError(t *testing.T) {
	const d = `title: Errors
rows:
  - panels:
      - title: Duplicate
        expr: label_replace(cpu_usage_idle, "host", "x", "", "")
`
	s, _ := dashboardSite(t, "e.yml", d)
	body := dashboardPage(t, s, "/dashboards/e", http.StatusOK)
	mustContain(t, body, `<div class="card panel-err" id="panel-1-1"><h3>Duplicate</h3><div class="note err">`)
}

func TestDashboards_Reload(t *testing.T) {
	s, dir := dashboardSite(t, "a.yml", "title: First\nrows:\n  - panels:\n      - expr: up\n")
	mustContain(t, dashboardPage(t, s, "/dashboards", http.StatusOK), ">First</a>")
	path := filepath.Join(dir, "a.yml")
	if err := os.WriteFile(path, []byte("title: Second\nrows:\n  - panels:\n      - expr: up\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.yml"), []byte("title: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	body := dashboardPage(t, s, "/dashboards", http.StatusOK)
	mustContain(t, body, ">Second</a>", "b.yml:1: invalid YAML")
	if err := os.Remove(filepath.Join(dir, "b.yml")); err != nil {
		t.Fatal(err)
	}
	if body := dashboardPage(t, s, "/dashboards", http.StatusOK); strings.Contains(body, "b.yml") {
		t.Error("a removed file is still listed")
	}
}

func TestDashboards_NoneConfigured(t *testing.T) {
	s := newTestSite(t, exploreNow, siteOptions{})
	body := dashboardPage(t, s, "/dashboards", http.StatusOK)
	mustContain(t, body, `id="dashboards-none"`, "/etc/outpost/dashboards/*.yml")
}

func TestDashboards_DuplicateName(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sub, "x.yml"), []byte("title: "+sub+"\nrows:\n  - panels:\n      - expr: up\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestSite(t, exploreNow, siteOptions{cfg: Config{Dashboards: []string{filepath.Join(dir, "*", "*.yml")}}})
	body := dashboardPage(t, s, "/dashboards", http.StatusOK)
	mustContain(t, body, `<a href="/dashboards/x">a</a>`, `dashboard name &#34;x&#34; is already`)
}

func TestFormatUnit(t *testing.T) {
	f := func(v float64, unit, want string) {
		t.Helper()
		if got := formatUnit(v, unit); got != want {
			t.Errorf("formatUnit(%v, %q) = %q, want %q", v, unit, got, want)
		}
	}
	f(12.3456, "percent", "12.3%")
	f(0.5, "percent", "0.5%")
	f(1536, "bytes", "1.5 KiB")
	f(3*1024*1024*1024, "bytes", "3 GiB")
	f(1.25e6, "bits/s", "1.25 Mb/s")
	f(999, "short", "999")
	f(12345, "short", "12.3 K")
	f(0.25, "s", "250 ms")
	f(42, "s", "42 s")
	f(3*86400+4*3600+5, "s", "3d 4h")
	f(125, "s", "2m 5s")
	f(2, "", "2")
}
