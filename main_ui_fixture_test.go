package main

// The outpost the page tests look at (main_ui_browser_test.go,
// main_ui_offline_test.go): the real binary with read, write and admin
// tokens, an alert rule that fires, Telegraf-shaped data from ../shared's
// lpload, the real collectd daemon, and label values that are HTML.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// xssValue is a label value that must show as text wherever a page prints it.
const xssValue = "<script>alert(1)</script>"

// The tokens of the page tests' outpost, one per role.
const (
	uiReadToken  = "ui-read-5c1f0e"
	uiWriteToken = "ui-write-7d4a21"
	uiAdminToken = "ui-admin-9b2e63"
)

// collectdHost is the Hostname of startRealCollectd's daemon.
const collectdHost = "outpost-e2e"

// telegrafHost is one of the hosts of the Telegraf-shaped data.
const telegrafHost = "host_0"

// missingDep skips the test because something it needs is not on this
// machine, or fails it under CI (CI set, as the Makefile's deps reads it),
// where make deps and make assets must have provided it.
func missingDep(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: make deps and make assets must provide it)", msg)
	}
	t.Skip(msg)
}

// needECharts skips (fails under CI) when ui/pages/assets/echarts.min.js
// was not fetched, so the binary the tests build draws no chart.
func needECharts(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("ui", "pages", "assets", "echarts.min.js")); err != nil {
		missingDep(t, "the echarts script was not fetched, so the pages draw no chart: run make assets (%v)", err)
	}
}

// uiServerOpts is what a page test's outpost gets besides the rule file.
type uiServerOpts struct {
	tokens   bool          // configure read, write and admin tokens
	collectd bool          // start the real collectd daemon against it, when installed
	hosts    int           // Telegraf-shaped hosts to write
	hours    float64       // of data each, ending now
	self     time.Duration // outpost's own ingest series every self (0: off)
}

// uiServer is a running outpost with the page tests' data in it.
type uiServer struct {
	*server
	hook       *webhook
	dashboards []string // the dashboard files configured, if any
	collectd   bool     // the real collectd daemon sends to it
	noCollectd string   // why it does not, when it was asked for
	lines      int      // Telegraf-shaped lines written
	took       []string // how long each step of the start took
	source     string   // what wrote them
}

// startUIServer starts outpost with the alert rule of testdata/ui, writes
// Telegraf-shaped data and the HTML label values, optionally starts the
// real collectd daemon, and waits until the rule's three alerts fire.
func startUIServer(t *testing.T, o uiServerOpts) *uiServer {
	t.Helper()
	rules, err := filepath.Abs(filepath.Join("testdata", "ui", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	u := &uiServer{hook: newWebhook(t)}
	extra := alertingConfig([]string{rules}, u.hook.URL, "")
	if o.tokens {
		extra += fmt.Sprintf("auth:\n  tokens:\n    - {token: %s, role: read}\n    - {token: %s, role: write}\n    - {token: %s, role: admin}\n",
			uiReadToken, uiWriteToken, uiAdminToken)
	}
	for _, ext := range []string{"yml", "yaml"} {
		m, _ := filepath.Glob(filepath.Join("testdata", "dashboards", "*."+ext))
		u.dashboards = append(u.dashboards, m...)
	}
	if len(u.dashboards) > 0 {
		dir, err := filepath.Abs(filepath.Join("testdata", "dashboards"))
		if err != nil {
			t.Fatal(err)
		}
		extra += fmt.Sprintf("ui:\n  dashboards: [%q, %q]\n", filepath.Join(dir, "*.yml"), filepath.Join(dir, "*.yaml"))
	}
	if o.self > 0 {
		t.Setenv("OUTPOST_HOST_ENABLED", "true")
		t.Setenv("OUTPOST_HOST_SELF_INTERVAL", o.self.String())
	}
	cfg := serverConfig{Extra: extra}
	var cport, gport int
	if o.collectd {
		if _, err := os.Stat("/usr/sbin/collectd"); err != nil {
			u.noCollectd = fmt.Sprintf("the real collectd daemon is not installed (apt-get install collectd-core): %v", err)
			o.collectd = false
		}
	}
	if o.collectd {
		cport, gport = freePort(t), freePort(t)
		cfg.Collectd = fmt.Sprintf("  addr: 127.0.0.1:%d", cport)
		cfg.Graphite = fmt.Sprintf("127.0.0.1:%d", gport)
	}
	last := time.Now()
	mark := func(what string) {
		u.took = append(u.took, fmt.Sprintf("%s %v", what, time.Since(last).Round(time.Millisecond)))
		last = time.Now()
	}
	u.server = startServerWith(t, t.TempDir(), cfg)
	mark("start")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("outpost's log:\n%s", u.log)
		}
	})
	t.Cleanup(u.stop) // registered before collectd's, so it runs after collectd stopped
	if o.collectd {
		startRealCollectd(t, cport, gport, "None")
		u.collectd = true
	}

	lp, source := telegrafData(t, o.hosts, o.hours)
	mark("generate")
	u.source = source
	u.lines = bytes.Count(lp, []byte("\n"))
	u.write(t, lp, "ns")
	mark("write")
	now := time.Now().UnixMilli()
	var b bytes.Buffer
	for m := int64(30); m >= 0; m-- {
		for _, h := range []string{"ack-me", "silence-me"} {
			fmt.Fprintf(&b, "ui_demo,host=%s value=1 %d\n", h, now-m*60_000)
		}
	}
	// The HTML as a host (with a conventional metric, so that its host page
	// has a chart) and as another label.
	for m := int64(30); m >= 0; m-- {
		fmt.Fprintf(&b, "ui_demo,host=%s,note=%s value=1 %d\n", xssValue, xssValue, now-m*60_000)
		fmt.Fprintf(&b, "cpu,host=%s,cpu=cpu-total usage_user=%g,usage_system=%g,usage_idle=%g %d\n",
			xssValue, 10+5*math.Sin(float64(m)/5), 5.0, 85-5*math.Sin(float64(m)/5), now-m*60_000)
	}
	u.write(t, b.Bytes(), "ms")

	waitFor(t, 20*time.Second, func() string {
		n := 0
		for _, a := range u.alerts(t) {
			if a.State == "firing" {
				n++
			}
		}
		if n < 3 {
			return fmt.Sprintf("%d of the 3 UIDemo alerts firing", n)
		}
		return ""
	})
	mark("alerts firing")
	if u.collectd {
		waitFor(t, 20*time.Second, func() string {
			q := `count_over_time(load_shortterm{host="` + collectdHost + `"}[1m])`
			if v := u.instant(t, q); len(v) == 0 || v[0] < 2 {
				return fmt.Sprintf("the real collectd daemon's load_shortterm has fewer than 2 samples: %v", v)
			}
			return ""
		})
		mark("collectd samples")
	}
	return u
}

// waitSelf waits (at most a minute) until outpost's own ingest counters
// have n samples in the last minute: at one a second, n seconds of them,
// enough for a rate over a few steps of a chart.
func (u *uiServer) waitSelf(t *testing.T, n int) {
	t.Helper()
	took := waitFor(t, time.Minute, func() string {
		if v := u.instant(t, `max(count_over_time(outpost_ingest_samples_total[1m]))`); len(v) == 0 || v[0] < float64(n) {
			return fmt.Sprintf("outpost's own ingest series have fewer than %d samples in the last minute: %v", n, v)
		}
		return ""
	})
	if took > 100*time.Millisecond {
		t.Logf("waited %v for %d s of outpost's own ingest series", took.Round(time.Millisecond), n)
	}
}

// instant runs an instant query and returns the values of its series.
func (u *uiServer) instant(t *testing.T, q string) []float64 {
	t.Helper()
	code, body, _ := u.get(t, uiReadToken, "/api/v1/query?query="+url.QueryEscape(q))
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); code != http.StatusOK || err != nil {
		t.Fatalf("query %s: %d %v %s", q, code, err, body)
	}
	var out []float64
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("query %s: value %v: %v", q, s.Value[1], err)
		}
		out = append(out, v)
	}
	return out
}

// get sends GET path with the token (none when empty).
func (u *uiServer) get(t *testing.T, token, path string) (int, string, http.Header) {
	t.Helper()
	var hdr []string
	if token != "" {
		hdr = []string{"Authorization", "Bearer " + token}
	}
	return do(t, "GET", u.base+path, "", hdr...)
}

// write posts line protocol with timestamps of the given precision to
// db=telegraf, in bodies of at most 1 MB.
func (u *uiServer) write(t *testing.T, lp []byte, precision string) {
	t.Helper()
	for len(lp) > 0 {
		n := min(len(lp), 1<<20)
		if n < len(lp) {
			n = bytes.LastIndexByte(lp[:n], '\n') + 1
		}
		code, body, _ := do(t, "POST", u.base+"/write?db=telegraf&precision="+precision, string(lp[:n]),
			"Authorization", "Bearer "+uiWriteToken)
		if code != http.StatusNoContent {
			t.Fatalf("write: %d %s", code, body)
		}
		lp = lp[n:]
	}
}

// uiAlert is an alert as /api/v1/alerting/alerts lists it.
type uiAlert struct {
	ID         string            `json:"id"`
	State      string            `json:"state"`
	Labels     map[string]string `json:"labels"`
	Ack        *json.RawMessage  `json:"ack"`
	SilencedBy []string          `json:"silencedBy"`
}

// alerts lists the active alerts.
func (u *uiServer) alerts(t *testing.T) []uiAlert {
	t.Helper()
	code, body, _ := u.get(t, uiReadToken, "/api/v1/alerting/alerts")
	var r struct {
		Data []uiAlert `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &r); code != http.StatusOK || err != nil {
		t.Fatalf("/api/v1/alerting/alerts: %d %v %s", code, err, body)
	}
	return r.Data
}

// alertOf returns the alert of host.
func (u *uiServer) alertOf(t *testing.T, host string) uiAlert {
	t.Helper()
	for _, a := range u.alerts(t) {
		if a.Labels["host"] == host {
			return a
		}
	}
	t.Fatalf("no alert of host %q", host)
	return uiAlert{}
}

var (
	lploadOnce sync.Once
	lploadPath string
	lploadErr  error
)

// telegrafData returns line protocol (ns timestamps) of hosts Telegraf
// hosts over the hours before now, with the host label Telegraf writes
// (host=host_N), and what made it: ../shared/bench's lpload -workload
// telegraf when ../shared/bench exists, else a few lines of the same
// measurements written here.
func telegrafData(t *testing.T, hosts int, hours float64) ([]byte, string) {
	t.Helper()
	const interval = 10 * time.Second
	start := time.Now().Add(-time.Duration(hours * float64(time.Hour))).Truncate(interval).UTC()
	bench := filepath.Join("..", "shared", "bench")
	if _, err := os.Stat(filepath.Join(bench, "main.go")); err != nil {
		return ownTelegrafData(hosts, start, interval), "a built-in generator (../shared/bench is absent)"
	}
	lploadOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outpost-e2e-lpload")
		if err != nil {
			lploadErr = err
			return
		}
		lploadPath = filepath.Join(dir, "lpload")
		cmd := exec.Command("go", "build", "-o", lploadPath, ".")
		cmd.Dir = bench
		if out, err := cmd.CombinedOutput(); err != nil {
			lploadErr = fmt.Errorf("build lpload: %v\n%s", err, out)
		}
	})
	if lploadErr != nil {
		t.Fatal(lploadErr)
	}
	args := []string{"gen", "-workload", "telegraf", "-hosts", fmt.Sprint(hosts), "-hours", fmt.Sprint(hours),
		"-interval", interval.String(), "-start", start.Format(time.RFC3339)}
	var stderr bytes.Buffer
	cmd := exec.Command(lploadPath, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lpload %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	// lpload tags hosts as TSBS does (hostname=); Telegraf writes host=,
	// which the host pages read.
	out = bytes.ReplaceAll(out, []byte(",hostname="), []byte(",host="))
	return out, "lpload " + strings.Join(args, " ") + " (hostname= written as host=)"
}

// ownTelegrafData writes (ns timestamps) cpu, mem, disk, net and system lines as Telegraf
// names them for host_0 … host_{hosts-1}, every interval from start to now.
func ownTelegrafData(hosts int, start time.Time, interval time.Duration) []byte {
	var b bytes.Buffer
	for ts, i := start, 0; ts.Before(time.Now()); ts, i = ts.Add(interval), i+1 {
		ns := ts.UnixNano()
		for h := range hosts {
			x := float64(i)/30 + float64(h)
			fmt.Fprintf(&b, "cpu,host=host_%d,cpu=cpu-total usage_user=%g,usage_system=%g,usage_idle=%g %d\n", h, 20+10*math.Sin(x), 5+math.Cos(x), 75-10*math.Sin(x), ns)
			fmt.Fprintf(&b, "mem,host=host_%d total=17179869184i,available=%di,used_percent=%g %d\n", h, 8<<30+int64(1<<28*math.Sin(x)), 50+3*math.Sin(x), ns)
			fmt.Fprintf(&b, "disk,host=host_%d,path=/,device=sda1,fstype=ext4 total=107374182400i,used_percent=%g %d\n", h, 40+float64(i)/1000, ns)
			fmt.Fprintf(&b, "net,host=host_%d,interface=eth0 bytes_recv=%di,bytes_sent=%di %d\n", h, int64(i)*50000, int64(i)*20000, ns)
			fmt.Fprintf(&b, "system,host=host_%d load1=%g,n_cpus=2i %d\n", h, 1+math.Sin(x)/2, ns)
		}
	}
	return b.Bytes()
}
