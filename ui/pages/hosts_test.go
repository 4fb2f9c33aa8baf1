package pages

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/alerting"
)

var hostsNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// gauge writes an hour of a constant series every 10 s.
func (s *testSite) gauge(v float64, kv ...string) {
	s.t.Helper()
	s.write(s.series(labels(kv...), 360, 10*time.Second, func(int) float64 { return v })...)
}

// counter writes an hour of a counter growing by per10s every 10 s.
func (s *testSite) counter(per10s float64, kv ...string) {
	s.t.Helper()
	s.write(s.series(labels(kv...), 360, 10*time.Second, func(i int) float64 { return float64(i) * per10s })...)
}

// telegrafHost writes what Telegraf's cpu, mem, disk, net and system
// inputs send for host h (no diskio, swap, processes or kernel).
func (s *testSite) telegrafHost(h string) {
	for mode, v := range map[string]float64{"user": 20, "system": 10, "iowait": 2, "idle": 68} {
		s.gauge(v, "__name__", "cpu_usage_"+mode, "cpu", "cpu-total", "host", h, "db", "telegraf")
	}
	s.gauge(42, "__name__", "mem_used_percent", "host", h, "db", "telegraf")
	s.gauge(85, "__name__", "disk_used_percent", "host", h, "path", "/", "fstype", "ext4", "device", "sda1")
	s.gauge(100, "__name__", "disk_used_percent", "host", h, "path", "/snap/core/1", "fstype", "squashfs", "device", "loop0")
	s.counter(1e6, "__name__", "net_bytes_recv", "host", h, "interface", "eth0")
	s.counter(1e5, "__name__", "net_bytes_sent", "host", h, "interface", "eth0")
	for _, n := range []string{"load1", "load5", "load15"} {
		s.gauge(0.5, "__name__", "system_"+n, "host", h)
	}
	s.gauge(4, "__name__", "system_n_cpus", "host", h)
	s.counter(10, "__name__", "system_uptime", "host", h)
	s.gauge(1, "__name__", "system_uptime_format_info", "host", h, "value", " 0:12")
}

// collectdHost writes what collectd's cpu, memory, load, df and interface
// plugins send for host h.
func (s *testSite) collectdHost(h string) {
	for mode, per := range map[string]float64{"user": 300, "system": 100, "idle": 600} {
		for _, cpu := range []string{"0", "1"} {
			s.counter(per, "__name__", "cpu_value", "host", h, "instance", cpu, "type", "cpu", "type_instance", mode)
		}
	}
	for kind, v := range map[string]float64{"used": 4e9, "buffered": 1e8, "cached": 2e9, "free": 1.9e9} {
		s.gauge(v, "__name__", "memory_value", "host", h, "type", "memory", "type_instance", kind)
	}
	for kind, v := range map[string]float64{"used": 60e9, "free": 40e9} {
		s.gauge(v, "__name__", "df_value", "host", h, "instance", "root", "type", "df_complex", "type_instance", kind)
	}
	s.gauge(0.7, "__name__", "load_shortterm", "host", h, "type", "load")
	s.counter(5e5, "__name__", "interface_rx", "host", h, "instance", "eth0", "type", "if_octets")
	s.counter(5e4, "__name__", "interface_tx", "host", h, "instance", "eth0", "type", "if_octets")
	s.gauge(86400*3, "__name__", "uptime_value", "host", h, "type", "uptime")
}

// panels returns the data-panel values of a page, in order.
func panels(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-panel="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func hasPanel(body, key string) bool { return strings.Contains(body, `data-panel="`+key+`"`) }

func TestHosts_List(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	s.telegrafHost("web1")
	s.collectdHost("db1")
	old := s.series(labels("__name__", "mem_used_percent", "host", "gone1"), 10, 10*time.Second, func(int) float64 { return 1 })
	for i := range old {
		old[i].T -= time.Hour.Milliseconds()
	}
	s.write(old...)

	code, body := s.get("/hosts?from=now-6h")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts = %d: %s", code, body)
	}
	mustContain(t, body, `id="hosts-total">3<`, `id="hosts-reporting">2<`, `id="hosts-silent">1<`,
		`data-host="web1"`, `href="/hosts/web1?from=now-6h"`, `data-host="db1"`, `class="host silent" data-host="gone1"`)
	row := func(h string) string {
		i := strings.Index(body, `data-host="`+h+`"`)
		j := strings.Index(body[i:], "</tr>")
		return body[i : i+j]
	}
	// web1: 100 - 68 idle; the squashfs snap at 100% is not a disk to fill.
	mustContain(t, row("web1"), `data-gauge="cpu">32.0%<`, `data-gauge="mem">42.0%<`, `warn" data-gauge="disk">85.0%<`)
	// db1: 900 of 1500 jiffies busy... 600 idle of 1000 per CPU: 40% busy; memory 4e9 of 8e9; df 60%.
	mustContain(t, row("db1"), `data-gauge="cpu">40.0%<`, `data-gauge="mem">50.0%<`, `data-gauge="disk">60.0%<`)
	mustContain(t, row("gone1"), `data-gauge="cpu">—<`)

	_, body = s.get("/hosts?q=WEB")
	if !strings.Contains(body, `data-host="web1"`) || strings.Contains(body, `data-host="db1"`) {
		t.Errorf("filter q=WEB: want web1 alone")
	}
}

func TestHosts_List_Empty(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	code, body := s.get("/hosts/")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts/ = %d", code)
	}
	mustContain(t, body, `id="hosts-none"`, `id="hosts-total">0<`)
}

func TestHosts_Dashboard_Telegraf(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	s.telegrafHost("web1")
	code, body := s.get("/hosts/web1")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts/web1 = %d: %s", code, body)
	}
	for _, p := range []string{"cpu", "load", "mem", "disk", "net"} {
		if !hasPanel(body, p) {
			t.Errorf("panel %q missing; panels: %v", p, panels(body))
		}
	}
	// No data: no diskio, swap, processes, kernel panels; cpu-total only, so no per-core panel;
	// no states (uptime_format is never one).
	for _, p := range []string{"diskio", "diskio-ops", "swap", "processes", "kernel", "cpu-cores", "inodes", "states", "mem-kinds"} {
		if hasPanel(body, p) {
			t.Errorf("panel %q drawn without data", p)
		}
	}
	if strings.Contains(body, "uptime_format") || strings.Contains(body, "0:12") {
		t.Error("uptime_format is drawn")
	}
	mustContain(t, body, `<h1 id="host-name">web1</h1>`, `id="host-uptime">`, `id="host-sender">Telegraf<`,
		`data-unit="bits/s"`, `data-unit="percent"`,
		// the built-in DiskSpaceLow rule's lines
		`warn 80 (DiskSpaceLow)`, `crit 90 (DiskSpaceLow)`,
		// the CPU modes, stacked
		`&#34;name&#34;:&#34;user&#34;`, `&#34;stack&#34;:&#34;total&#34;`)
	if hasPanel(body, "metric") {
		t.Errorf("a Telegraf host's own names got per-metric panels: %v", panels(body))
	}
}

func TestHosts_Dashboard_Collectd(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	s.collectdHost("db1")
	code, body := s.get("/hosts/db1")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts/db1 = %d: %s", code, body)
	}
	for _, p := range []string{"cpu", "cpu-cores", "load", "mem", "mem-kinds", "disk", "net"} {
		if !hasPanel(body, p) {
			t.Errorf("panel %q missing; panels: %v", p, panels(body))
		}
	}
	mustContain(t, body, `id="host-sender">collectd<`, `id="host-uptime">3d 0h<`,
		`&#34;name&#34;:&#34;user&#34;`, `&#34;name&#34;:&#34;system&#34;`, `&#34;name&#34;:&#34;cpu 1&#34;`,
		`&#34;name&#34;:&#34;eth0 in&#34;`, `&#34;name&#34;:&#34;root&#34;`, `&#34;name&#34;:&#34;cached&#34;`)
	if strings.Contains(body, `&#34;name&#34;:&#34;idle&#34;`) {
		t.Error("idle is drawn as a busy mode")
	}

	// A host that sends both gets Telegraf's CPU panel.
	s.telegrafHost("db1")
	_, body = s.get("/hosts/db1")
	mustContain(t, body, `id="host-sender">Telegraf and collectd<`, `&#34;name&#34;:&#34;iowait&#34;`)
}

func TestHosts_Dashboard_States(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	s.gauge(42, "__name__", "mem_used_percent", "host", "k8s1")
	// A string field that said "running", then "failed" for the last 20 minutes.
	pts := s.series(labels("__name__", "exec_service_state_info", "host", "k8s1", "unit", "api", "value", "running"), 240, 10*time.Second, func(int) float64 { return 1 })
	for i := range pts {
		pts[i].T -= 20 * time.Minute.Milliseconds()
	}
	s.write(pts...)
	s.write(s.series(labels("__name__", "exec_service_state_info", "host", "k8s1", "unit", "api", "value", "failed"), 120, 10*time.Second, func(int) float64 { return 1 })...)
	s.write(s.series(labels("__name__", "kube_components_healthy", "host", "k8s1"), 360, 10*time.Second, func(i int) float64 {
		if i > 100 && i < 150 {
			return 0
		}
		return 1
	})...)
	s.gauge(21.5, "__name__", "exec_unicode_temp", "host", "k8s1", "loc", "Zürich")

	code, body := s.get("/hosts/k8s1")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts/k8s1 = %d: %s", code, body)
	}
	mustContain(t, body, `data-panel="states"`, `id="states"`, `&#34;renderItem&#34;:&#34;outpost:state&#34;`,
		`<td>exec_service_state {unit=api}</td><td><span class="state crit">failed</span>`,
		`<td>kube_components_healthy</td><td><span class="state ok">1</span>`,
		`&#34;name&#34;:&#34;running&#34;`, `data-height="92"`,
		// a metric outside the convention: a panel of its own, with its labels as legend
		`data-metric="exec_unicode_temp"`, `&#34;name&#34;:&#34;loc=Zürich&#34;`)
	if strings.Contains(body, `data-metric="kube_components_healthy"`) {
		t.Error("a 0/1 series is drawn as a line as well as a state")
	}
}

func TestHosts_Dashboard_HostileNames(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	for _, h := range []string{"<script>alert(1)</script>", `a/b c"\`} {
		s.gauge(42, "__name__", "mem_used_percent", "host", h)
		s.gauge(1, "__name__", "check_info", "host", h, "value", "<script>alert(2)</script>")
		code, body := s.get("/hosts/" + url.PathEscape(h))
		if code != http.StatusOK {
			t.Fatalf("GET /hosts/%s = %d: %s", url.PathEscape(h), code, body)
		}
		if !hasPanel(body, "mem") || !hasPanel(body, "states") {
			t.Errorf("host %q: panels %v, want mem and states", h, panels(body))
		}
		if strings.Contains(body, "<script>alert") {
			t.Errorf("host %q: a label value was written as markup", h)
		}
		mustContain(t, body, `action="/hosts/`+url.PathEscape(h)+`"`)
	}
	_, body := s.get("/hosts/" + url.PathEscape("<script>alert(1)</script>"))
	mustContain(t, body, `<h1 id="host-name">&lt;script&gt;alert(1)&lt;/script&gt;</h1>`, "&lt;script&gt;alert(2)&lt;/script&gt;")
	_, body = s.get("/hosts")
	mustContain(t, body, `href="/hosts/a%2Fb%20c%22%5C"`, `href="/hosts/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`)
	if strings.Contains(body, "<script>alert") {
		t.Error("host list: a label value was written as markup")
	}
}

func TestHosts_Dashboard_Unknown(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	s.telegrafHost("web1")
	code, body := s.get("/hosts/nope?from=now-6h")
	if code != http.StatusNotFound {
		t.Fatalf("GET /hosts/nope = %d, want 404", code)
	}
	mustContain(t, body, `id="host-unknown"`, `id="back-to-hosts"`, `href="/hosts?from=now-6h"`, `<code>host="nope"</code>`)
}

func TestHosts_Dashboard_NoDataInRange(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	old := s.series(labels("__name__", "mem_used_percent", "host", "old1"), 10, 10*time.Second, func(int) float64 { return 1 })
	for i := range old {
		old[i].T -= 3 * 24 * time.Hour.Milliseconds()
	}
	s.write(old...)
	code, body := s.get("/hosts/old1")
	if code != http.StatusOK {
		t.Fatalf("GET /hosts/old1 = %d", code)
	}
	mustContain(t, body, `id="host-no-data"`, `href="/hosts/old1?from=now-7d"`)
}

func TestHosts_Dashboard_Graphite(t *testing.T) {
	s := newTestSite(t, hostsNow, siteOptions{})
	// servers.*.host.measurement* with a host part: names of the sender's own.
	for _, m := range []string{"nginx_requests", "nginx_active", "app_queue_depth"} {
		s.gauge(7, "__name__", m, "host", "gw1")
	}
	_, body := s.get("/hosts/gw1")
	for _, m := range []string{"app_queue_depth", "nginx_active", "nginx_requests"} {
		mustContain(t, body, `data-metric="`+m+`"`)
	}
	if hasPanel(body, "cpu") {
		t.Error("a CPU panel without CPU series")
	}
}

func TestHosts_Dashboard_FiringAlerts(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "disk.yml")
	if err := os.WriteFile(rules, []byte(`groups:
  - name: disks
    interval: 1s
    rules:
      - alert: DiskFilling
        expr: disk_used_percent{fstype!="squashfs"}
        warn: "> 70"
        crit: "> 84"
        annotations:
          summary: 'disk {{ $labels.path }} is full'
`), 0o644); err != nil {
		t.Fatal(err)
	}
	acfg := alerting.DefaultConfig()
	acfg.Defaults, acfg.Rules = false, []string{rules}
	s := newTestSite(t, hostsNow, siteOptions{alerting: &acfg})
	s.telegrafHost("web1")
	s.telegrafHost("web2")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.am.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for firing := 0; firing < 2; {
		if time.Now().After(deadline) {
			t.Fatal("the rule did not fire within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
		firing = 0
		for _, a := range s.am.Alerts() {
			if a.State == alerting.StateFiring {
				firing++
			}
		}
	}
	_, body := s.get("/hosts/web1")
	mustContain(t, body, `id="host-alerts"`, `id="host-firing">1<`, `<span class="sev critical">critical</span>`,
		"DiskFilling</a>: disk / is full", `warn 70 (DiskFilling)`, `crit 84 (DiskFilling)`)
	if strings.Contains(body, "DiskSpaceLow") {
		t.Error("the built-in rule's lines are drawn although alerting.defaults is off")
	}
	_, body = s.get("/hosts")
	mustContain(t, body, `id="hosts-alerting">2<`, `<span class="sev critical">1 firing</span>`)
}

func TestRoundSignificant(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{61.15973301201844, 61.16}, {17179869184, 17180000000}, {0.000123456, 0.0001235}, {-5.55555, -5.556},
		{0, 0}, {1, 1}, {99.99, 99.99}, {100.04, 100},
	} {
		if got := roundSignificant(c.in, 4); got != c.want {
			t.Errorf("roundSignificant(%v, 4) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestStateSegments(t *testing.T) {
	pts := []statePoint{{0, "a"}, {10, "a"}, {20, "b"}, {40, "b"}, {50, "b"}}
	got := stateSegments(pts, 10)
	want := []stateSegment{{0, 20, "a"}, {20, 30, "b"}, {40, 60, "b"}} // a missing step ends a stretch
	if len(got) != len(want) {
		t.Fatalf("stateSegments = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("segment %d = %v, want %v", i, got[i], want[i])
		}
	}
}
