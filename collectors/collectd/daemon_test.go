package collectd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

const collectdBin = "/usr/sbin/collectd"

// collectdConf is a config for the real daemon: cpu, load, memory,
// interface and df every second, sent to one network server.
const collectdConf = `Hostname "outpost-test"
FQDNLookup false
Interval 1
BaseDir "{{dir}}/base"
PIDFile "{{dir}}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "{{dir}}/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin interface
LoadPlugin df
LoadPlugin network
<Plugin network>
  <Server "127.0.0.1" "{{port}}">
    SecurityLevel {{level}}
{{auth}}  </Server>
</Plugin>
`

// startCollectd runs collectd in the foreground with its own config in a
// temporary directory, sending to port; the test's cleanup stops it.
func startCollectd(t *testing.T, port int, level string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	auth := ""
	if level != "None" {
		auth = fmt.Sprintf("    Username %q\n    Password %q\n", captureUser, capturePassword)
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", fmt.Sprint(port), "{{level}}", level,
		"{{auth}}", auth).Replace(collectdConf)
	confPath := filepath.Join(dir, "collectd.conf")
	write(t, confPath, conf)
	var out bytes.Buffer
	cmd := exec.Command(collectdBin, "-f", "-C", confPath)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start collectd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "collectd.log"))
			t.Logf("collectd output:\n%s\ncollectd.log:\n%s", out.String(), log)
		}
	})
	return dir
}

func TestListener_RealCollectd(t *testing.T) {
	if _, err := os.Stat(collectdBin); err != nil {
		t.Skipf("collectd is not installed (apt-get install collectd-core): %v", err)
	}
	if testing.Short() {
		t.Skip("starts the real collectd daemon for a few seconds per level")
	}
	for _, level := range []string{"None", "Sign", "Encrypt"} {
		t.Run(level, func(t *testing.T) {
			authPath := filepath.Join(t.TempDir(), "auth")
			write(t, authPath, captureUser+": "+capturePassword+"\n")
			cfg := testConfig()
			cfg.SecurityLevel = strings.ToLower(level)
			if level != "None" {
				cfg.AuthFile = authPath
			}
			w := &recordingWriter{}
			st := collectors.NewStats("collectd")
			l, _ := startListener(t, cfg, w, Options{Stats: st})
			startCollectd(t, l.Addr().(*net.UDPAddr).Port, level)
			start := time.Now()
			checkDaemonSeries(t, w, start)
			t.Logf("%s: all series within %v; %d datagrams, %d samples, %d series names %v, rejections %v",
				level, time.Since(start).Round(time.Millisecond), st.Connections.Load(), st.Samples.Load(),
				len(metricNames(w.points())), metricNames(w.points()), st.Rejections())
			for _, r := range st.Rejections() {
				if r.What == "packets" {
					t.Errorf("collectd's packets were refused: %+v", r)
				}
			}
		})
	}
}

func metricNames(pts []tsdb.Point) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pts {
		if n := p.Labels.Get(tsdb.MetricName); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

func TestListener_RealCollectd_Refused(t *testing.T) {
	if _, err := os.Stat(collectdBin); err != nil {
		t.Skipf("collectd is not installed (apt-get install collectd-core): %v", err)
	}
	if testing.Short() {
		t.Skip("starts the real collectd daemon")
	}
	for _, tc := range []struct {
		name, listen, send, password, reason string
	}{
		{"unsigned to a sign listener", "sign", "None", capturePassword, "unsigned"},
		{"signed with a wrong password", "sign", "Sign", "not-the-password", "bad_signature"},
		{"signed to an encrypt listener", "encrypt", "Sign", capturePassword, "unencrypted"},
		{"encrypted with a wrong password", "encrypt", "Encrypt", "not-the-password", "decrypt_failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			authPath := filepath.Join(t.TempDir(), "auth")
			write(t, authPath, captureUser+": "+tc.password+"\n")
			cfg := testConfig()
			cfg.SecurityLevel, cfg.AuthFile = tc.listen, authPath
			w := &recordingWriter{}
			st := collectors.NewStats("collectd")
			l, _ := startListener(t, cfg, w, Options{Stats: st})
			startCollectd(t, l.Addr().(*net.UDPAddr).Port, tc.send)
			deadline := time.Now().Add(15 * time.Second)
			for rejected(st, "packets", tc.reason) == 0 {
				if time.Now().After(deadline) {
					t.Fatalf("no packets:%s within 15 s: %v", tc.reason, st.Rejections())
				}
				time.Sleep(100 * time.Millisecond)
			}
			time.Sleep(5 * cfg.FlushInterval)
			if n := len(w.points()); n != 0 {
				t.Errorf("%d points stored from refused packets", n)
			}
		})
	}
}

// daemonSeries are the series the real daemon must deliver, each with a
// plausibility check of its values.
var daemonSeries = []struct {
	what      string
	match     []string
	plausible func(v float64) bool
}{
	{"load_shortterm", []string{tsdb.MetricName, "load_shortterm"}, func(v float64) bool { return v >= 0 && v < 10000 }},
	{`cpu_value{type_instance="idle"}`, []string{tsdb.MetricName, "cpu_value", "type", "cpu", "type_instance", "idle"},
		func(v float64) bool { return v > 0 }}, // jiffies since boot
	{`interface_rx{type="if_octets"}`, []string{tsdb.MetricName, "interface_rx", "type", "if_octets"},
		func(v float64) bool { return v >= 0 }},
	{`memory_value{type_instance="used"}`, []string{tsdb.MetricName, "memory_value", "type", "memory", "type_instance", "used"},
		func(v float64) bool { return v > 1<<20 && v < 1<<50 }},
}

func checkDaemonSeries(t *testing.T, w *recordingWriter, start time.Time) {
	t.Helper()
	deadline := start.Add(15 * time.Second)
	for {
		pts := w.points()
		missing := ""
		for _, s := range daemonSeries {
			if len(find(pts, s.match...)) == 0 {
				missing = s.what
				break
			}
		}
		df := dfPoints(pts)
		if missing == "" && len(df) == 0 {
			missing = "a df series"
		}
		if missing == "" {
			checkPlausible(t, pts, df, start)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 15 s (%d points)", missing, len(pts))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func dfPoints(pts []tsdb.Point) []tsdb.Point {
	var out []tsdb.Point
	for _, p := range pts {
		if strings.HasPrefix(p.Labels.Get(tsdb.MetricName), "df_") {
			out = append(out, p)
		}
	}
	return out
}

func checkPlausible(t *testing.T, pts, df []tsdb.Point, start time.Time) {
	t.Helper()
	for _, s := range daemonSeries {
		for _, p := range find(pts, s.match...) {
			if !s.plausible(p.V) {
				t.Errorf("%s = %v is implausible (%v)", s.what, p.V, p.Labels)
			}
		}
	}
	anyUsed := false
	for _, p := range df {
		anyUsed = anyUsed || p.V > 0
		if p.V < 0 {
			t.Errorf("df %v = %v", p.Labels, p.V)
		}
	}
	if !anyUsed {
		t.Errorf("every df value is 0: %v", df)
	}
	for _, p := range pts {
		if p.Labels.Get("host") != "outpost-test" {
			t.Errorf("host label of %v is not the daemon's Hostname", p.Labels)
		}
		if d := time.UnixMilli(p.T).Sub(start); d < -time.Minute || d > time.Minute {
			t.Errorf("timestamp of %v is %v away from now", p.Labels, d)
		}
	}
}
