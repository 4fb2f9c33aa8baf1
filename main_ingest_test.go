package main

// End-to-end tests of the ingest listeners through the real binary: the
// real collectd daemon (network and write_graphite), captured traffic of
// real senders (../shared/conformance/ingest), bad input counted on
// /metrics and as outpost_ingest_* series, and the Graphite template
// debugger. Everything is read back through /api/v1/export.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exported is one series of /api/v1/export with all its labels.
type exported struct {
	labels  map[string]string
	samples map[int64]float64
}

// text is the series as a selector, labels sorted: m{a="b",c="d"}.
func (e exported) text() string { return seriesText(e.labels) }

func seriesText(ls map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ls)) {
		if k != "__name__" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, ls[k]))
		}
	}
	return ls["__name__"] + "{" + strings.Join(parts, ",") + "}"
}

// exportAll reads every series matching any of matches, with all labels,
// keyed by seriesText.
func exportAll(t *testing.T, s *server, matches ...string) map[string]exported {
	t.Helper()
	resp, err := http.PostForm(s.base+"/api/v1/export", url.Values{"match[]": matches})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("export %q: HTTP %d: %s", matches, resp.StatusCode, b)
	}
	out := make(map[string]exported)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []any             `json:"values"`
			Timestamps []int64           `json:"timestamps"`
			Error      string            `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line.Error != "" {
			t.Fatalf("export line %q: %v %s", sc.Text(), err, line.Error)
		}
		e := exported{labels: line.Metric, samples: make(map[int64]float64)}
		for i, ts := range line.Timestamps {
			switch v := line.Values[i].(type) {
			case float64:
				e.samples[ts] = v
			case string: // "NaN", "+Inf", "-Inf"
				f, _ := strconv.ParseFloat(v, 64)
				e.samples[ts] = f
			}
		}
		out[e.text()] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("export: %v", err)
	}
	return out
}

// countSamples sums the samples of every series of es.
func countSamples(es map[string]exported) int {
	n := 0
	for _, e := range es {
		n += len(e.samples)
	}
	return n
}

// metrics reads GET /metrics as "name{labels}" -> value.
func metrics(t *testing.T, s *server) map[string]float64 {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: HTTP %d: %s", resp.StatusCode, b)
	}
	out := make(map[string]float64)
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// rejected is the /metrics key of a rejection count.
func rejected(protocol, what, reason string) string {
	return fmt.Sprintf(`outpost_ingest_rejected_total{protocol=%q,what=%q,reason=%q}`, protocol, what, reason)
}

// rejections returns the rejection counts of protocol on /metrics.
func rejections(m map[string]float64, protocol string) map[string]float64 {
	out := make(map[string]float64)
	prefix := fmt.Sprintf(`outpost_ingest_rejected_total{protocol=%q,`, protocol)
	for k, v := range m {
		if strings.HasPrefix(k, prefix) {
			out[strings.TrimPrefix(k, prefix)] = v
		}
	}
	return out
}

// waitFor polls cond every 100 ms until it returns "" (done) or timeout
// passes; then it fails with cond's last answer. It returns the time taken.
func waitFor(t *testing.T, timeout time.Duration, cond func() string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		missing := cond()
		if missing == "" {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("after %v: %s", timeout, missing)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sendTCP writes data to addr over one connection and closes it cleanly.
func sendTCP(t *testing.T, addr string, data []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
}

// sendDatagrams sends each datagram to addr from one UDP socket, pausing
// now and then so that the listener's socket buffer never overflows.
func sendDatagrams(t *testing.T, addr string, datagrams ...[]byte) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			time.Sleep(2 * time.Millisecond)
		}
	}
}

// cutDatagrams cuts line protocol at line ends into datagrams of at most
// max bytes, as Telegraf's UDP output does.
func cutDatagrams(body []byte, max int) [][]byte {
	var out [][]byte
	var cur []byte
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(cur)+len(line) > max && len(cur) > 0 {
			out = append(out, cur)
			cur = nil
		}
		cur = append(cur, line...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// ingestDir returns ../shared/conformance/ingest or skips the test.
func ingestDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "shared", "conformance", "ingest")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("peer test data absent: %v", err)
	}
	return dir
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// postBody POSTs body to base+path and returns the status and the answer.
func postBody(t *testing.T, s *server, path, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(s.base+path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkNear fails unless every sample of es is within a minute of now.
func checkNear(t *testing.T, es map[string]exported) {
	t.Helper()
	now := time.Now().UnixMilli()
	for _, e := range es {
		for ts := range e.samples {
			if d := ts - now; d < -60_000 || d > 60_000 {
				t.Errorf("%s: timestamp %d is %d ms from now", e.text(), ts, d)
			}
		}
	}
}

// find returns the series of es whose labels include every name=value pair
// of want (a value "~re" is a regular expression).
func find(es map[string]exported, want ...string) []exported {
	var out []exported
	for _, k := range slices.Sorted(maps.Keys(es)) {
		e, ok := es[k], true
		for i := 0; i+1 < len(want) && ok; i += 2 {
			v := e.labels[want[i]]
			if re, isRe := strings.CutPrefix(want[i+1], "~"); isRe {
				ok = regexp.MustCompile("^(?:" + re + ")$").MatchString(v)
			} else {
				ok = v == want[i+1]
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// latest returns the value of e's newest sample.
func latest(e exported) float64 {
	ts := slices.Max(slices.Collect(maps.Keys(e.samples)))
	return e.samples[ts]
}

// stopKill stops cmd with SIGTERM, then SIGKILL after 5 s.
func stopKill(cmd *exec.Cmd, done <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// parseFloatOK parses a Graphite value.
func parseFloatOK(s string) (float64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsNaN(f)
}

// e2eCollectdConf is the real daemon's config: cpu, load, memory, interface
// and df every second, sent with the network plugin to outpost's collectd
// port and with write_graphite (its default naming, under the prefix
// "collectd.") to outpost's Graphite port.
const e2eCollectdConf = `Hostname "outpost-e2e"
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
LoadPlugin write_graphite
<Plugin network>
  <Server "127.0.0.1" "{{port}}">
    SecurityLevel {{level}}
{{auth}}  </Server>
</Plugin>
<Plugin write_graphite>
  <Node "outpost">
    Host "127.0.0.1"
    Port "{{gport}}"
    Protocol "tcp"
    Prefix "collectd."
  </Node>
</Plugin>
`

const (
	e2eCollectdUser     = "outpost-e2e"
	e2eCollectdPassword = "e2e-s3cret"
)

// startRealCollectd runs /usr/sbin/collectd in the foreground with its own
// config in a temp dir; the test's cleanup stops it (bounded) and shows its
// log when the test failed.
func startRealCollectd(t *testing.T, port, gport int, level string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	auth := ""
	if level != "None" {
		auth = fmt.Sprintf("    Username %q\n    Password %q\n", e2eCollectdUser, e2eCollectdPassword)
	}
	conf := strings.NewReplacer("{{dir}}", dir, "{{port}}", strconv.Itoa(port), "{{gport}}", strconv.Itoa(gport),
		"{{level}}", level, "{{auth}}", auth).Replace(e2eCollectdConf)
	path := filepath.Join(dir, "collectd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command("/usr/sbin/collectd", "-f", "-C", path)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start collectd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		stopKill(cmd, done)
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "collectd.log"))
			t.Logf("collectd output:\n%s\ncollectd.log:\n%s", out.String(), log)
		}
	})
}

// daemonWant is a series the real daemon must deliver: label pairs for find
// and a plausibility check of the newest value of every matching series (of
// at least one, with some: an empty file system uses 0 bytes).
type daemonWant struct {
	what      string
	match     []string
	plausible func(float64) bool
	some      bool
}

var daemonWants = []daemonWant{
	{`load_shortterm`, []string{"__name__", "load_shortterm", "type", "load"}, func(v float64) bool { return v >= 0 && v < 10000 }, false},
	{`cpu_value{type_instance="idle"}`, []string{"__name__", "cpu_value", "type", "cpu", "type_instance", "idle"},
		func(v float64) bool { return v > 0 }, false}, // jiffies since boot (DERIVE, raw)
	{`interface_rx{type="if_octets"}`, []string{"__name__", "interface_rx", "type", "if_octets", "instance", "~.+"},
		func(v float64) bool { return v >= 0 }, false},
	{`memory_value{type_instance="used"}`, []string{"__name__", "memory_value", "type", "memory", "type_instance", "used"},
		func(v float64) bool { return v > 1<<20 && v < 1<<50 }, false},
	{`df_value{type="df_complex",type_instance="used"}`, []string{"__name__", "df_value", "type", "df_complex", "type_instance", "used"},
		func(v float64) bool { return v > 0 }, true},
	// write_graphite's paths: collectd.<host>.<plugin>[-<instance>].<type>[-<type instance>][.<ds>]
	{`collectd.outpost-e2e.load.load.shortterm`, []string{"__name__", "collectd.outpost-e2e.load.load.shortterm"},
		func(v float64) bool { return v >= 0 && v < 10000 }, false},
	{`collectd.outpost-e2e.memory.memory-used`, []string{"__name__", "collectd.outpost-e2e.memory.memory-used"},
		func(v float64) bool { return v > 1<<20 && v < 1<<50 }, false},
	{`collectd.outpost-e2e.cpu-N.cpu-idle`, []string{"__name__", `~collectd\.outpost-e2e\.cpu-\d+\.cpu-idle`},
		func(v float64) bool { return v >= 0 && v < 1e6 }, false}, // jiffies per second (StoreRates)
	{`collectd.outpost-e2e.interface-*.if_octets.rx`, []string{"__name__", `~collectd\.outpost-e2e\.interface-.+\.if_octets\.rx`},
		func(v float64) bool { return v >= 0 }, false},
	{`collectd.outpost-e2e.df-*.df_complex-used`, []string{"__name__", `~collectd\.outpost-e2e\.df-.+\.df_complex-used`},
		func(v float64) bool { return v > 0 }, true},
}

// TestIngest_RealCollectd runs Debian's collectd against the binary, with
// the network plugin at each security level in turn and write_graphite to
// the Graphite port, and reads the series back through /api/v1/export.
func TestIngest_RealCollectd(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/collectd"); err != nil {
		t.Skipf("the real collectd daemon is not installed (apt-get install collectd-core): %v", err)
	}
	if testing.Short() {
		t.Skip("runs the real collectd daemon for a few seconds per security level")
	}
	for _, level := range []string{"None", "Sign", "Encrypt"} {
		t.Run(level, func(t *testing.T) {
			tmp := t.TempDir()
			authFile := filepath.Join(tmp, "collectd.auth")
			if err := os.WriteFile(authFile, []byte(e2eCollectdUser+": "+e2eCollectdPassword+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cport, gport := freePort(t), freePort(t)
			cc := fmt.Sprintf("  addr: 127.0.0.1:%d\n  security_level: %s", cport, strings.ToLower(level))
			if level != "None" {
				cc += "\n  auth_file: " + authFile
			}
			s := startServerWith(t, filepath.Join(tmp, "data"), serverConfig{
				Graphite: fmt.Sprintf("127.0.0.1:%d", gport), Collectd: cc,
			})
			t.Cleanup(s.stop) // registered first, so it runs after collectd is stopped
			startRealCollectd(t, cport, gport, level)
			var got map[string]exported
			took := waitFor(t, 15*time.Second, func() string {
				got = exportAll(t, s, `{host="outpost-e2e"}`, `{__name__=~"collectd\\..*"}`)
				for _, w := range daemonWants {
					if len(find(got, w.match...)) == 0 {
						return fmt.Sprintf("no %s among %d series", w.what, len(got))
					}
				}
				return ""
			})
			for _, w := range daemonWants {
				var bad []string
				es := find(got, w.match...)
				for _, e := range es {
					if v := latest(e); !w.plausible(v) {
						bad = append(bad, fmt.Sprintf("%s = %v", e.text(), v))
					}
				}
				if len(bad) > 0 && (!w.some || len(bad) == len(es)) {
					t.Errorf("%s: implausible values: %s", w.what, strings.Join(bad, "; "))
				}
			}
			checkNear(t, got)
			m := metrics(t, s)
			for k, v := range rejections(m, "collectd") {
				if strings.HasPrefix(k, `what="packets"`) {
					t.Errorf("collectd packets refused: %s %v", k, v)
				}
			}
			if r := rejections(m, "graphite"); r[`what="lines",reason="parse"}`] > 0 {
				t.Errorf("write_graphite lines did not parse: %v", r)
			}
			network := len(find(got, "host", "outpost-e2e"))
			t.Logf("%s: every series within %v: %d network series, %d write_graphite series, %d samples; "+
				"collectd samples %v datagrams %v; graphite samples %v, nan %v",
				level, took.Round(time.Millisecond), network, len(got)-network, countSamples(got),
				m[`outpost_ingest_samples_total{protocol="collectd"}`], m[`outpost_ingest_connections_total{protocol="collectd"}`],
				m[`outpost_ingest_samples_total{protocol="graphite"}`], m[rejected("graphite", "samples", "nan")])
		})
	}
}

// graphiteExpect reads a captured Graphite stream: every numeric line as
// path -> ms -> value (the last of a repeated path and time wins), and the
// number of "nan" lines.
func graphiteExpect(t *testing.T, stream []byte) (map[string]map[int64]float64, int) {
	t.Helper()
	want := make(map[string]map[int64]float64)
	nans := 0
	for _, line := range strings.Split(strings.TrimSpace(string(stream)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("capture line %q is not path value time", line)
		}
		sec, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			t.Fatalf("capture line %q: %v", line, err)
		}
		v, ok := parseFloatOK(f[1])
		if !ok {
			if !strings.EqualFold(f[1], "nan") {
				t.Fatalf("capture line %q: value neither a number nor nan", line)
			}
			nans++
			continue
		}
		if want[f[0]] == nil {
			want[f[0]] = make(map[int64]float64)
		}
		want[f[0]][sec*1000] = v
	}
	return want, nans
}

// lpSamples returns how many fields line protocol holds and how many
// distinct samples they are: the captures repeat some series at the same
// time (Telegraf reports two tmpfs mounts with equal tags), and the store
// keeps one. A sample is identified by measurement and tags as written,
// field key, timestamp and, for a string field, its value (a new value is
// a new _info series). system's uptime_format is left out: the default
// influx.drop_string_fields drops it (counted as string_field_dropped).
func lpSamples(t *testing.T, body []byte) (fields, distinct int) {
	t.Helper()
	seen := make(map[string]bool)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		sections := splitUnquoted(line, ' ')
		if len(sections) != 3 {
			t.Fatalf("line %q: want measurement,tags fields time", line)
		}
		for _, f := range splitUnquoted(sections[1], ',') {
			kv := splitUnquoted(f, '=')
			if kv[0] == "uptime_format" && strings.HasPrefix(sections[0], "system,") {
				continue
			}
			key := sections[0] + " " + kv[0] + " " + sections[2]
			if v := f[len(kv[0])+1:]; strings.HasPrefix(v, `"`) {
				key += " " + v
			}
			fields++
			seen[key] = true
		}
	}
	return fields, len(seen)
}

// splitUnquoted splits s at sep outside double quotes and backslash escapes.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case sep:
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// TestIngest_CapturedTraffic sends what real senders sent (captured in
// ../shared/conformance/ingest) to the binary and reads it back: the
// Graphite streams of collectd's write_graphite and Telegraf's graphite
// output over TCP, collectd's network packets over UDP, Telegraf's InfluxDB
// v1 and v2 bodies over HTTP, and the v1 body again as line protocol over
// UDP.
func TestIngest_CapturedTraffic(t *testing.T) {
	dir := ingestDir(t)
	gport, cport, uport := freePort(t), freePort(t), freePort(t)
	s := startServerWith(t, t.TempDir(), serverConfig{
		Graphite: fmt.Sprintf("127.0.0.1:%d", gport),
		Collectd: fmt.Sprintf("  addr: 127.0.0.1:%d", cport),
		Extra:    fmt.Sprintf("influx:\n  udp_addr: 127.0.0.1:%d", uport),
	})
	defer s.stop()

	t.Run("graphite_streams", func(t *testing.T) {
		nanTotal, goodTotal := 0, 0
		for _, c := range []struct{ file, prefix string }{
			{"graphite-collectd-write_graphite.txt", "collectd"},
			{"graphite-telegraf-outputs-graphite.txt", "telegraf"},
		} {
			stream := readFile(t, filepath.Join(dir, c.file))
			want, nans := graphiteExpect(t, stream)
			nanTotal += nans
			sendTCP(t, fmt.Sprintf("127.0.0.1:%d", gport), stream)
			good := 0
			for _, m := range want {
				good += len(m)
			}
			goodTotal += good
			var got map[string]exported
			took := waitFor(t, 10*time.Second, func() string {
				got = exportAll(t, s, fmt.Sprintf(`{__name__=~"%s\\..*"}`, c.prefix))
				if n := countSamples(got); n < good {
					return fmt.Sprintf("%s: %d of %d samples read back", c.file, n, good)
				}
				return ""
			})
			for path, samples := range want {
				e, ok := got[path+"{}"]
				if !ok {
					t.Errorf("%s: series %s missing", c.file, path)
					continue
				}
				if !maps.Equal(e.samples, samples) {
					t.Errorf("%s: %s = %v, sent %v", c.file, path, e.samples, samples)
				}
			}
			if n := countSamples(got); n != good {
				t.Errorf("%s: %d samples read back, %d sent", c.file, n, good)
			}
			t.Logf("%s: %d series, %d samples read back within %v; %d nan lines",
				c.file, len(got), good, took.Round(time.Millisecond), nans)
		}
		m := metrics(t, s)
		if got := m[rejected("graphite", "samples", "nan")]; got != float64(nanTotal) || nanTotal != 48 {
			t.Errorf("nan lines counted %v, the captures hold %d (48 expected)", got, nanTotal)
		}
		if r := rejections(m, "graphite"); len(r) != 1 {
			t.Errorf("graphite rejections %v, want only the nan count", r)
		}
		if got := m[`outpost_ingest_samples_total{protocol="graphite"}`]; got != float64(goodTotal) {
			t.Errorf("graphite samples counted %v, want %d", got, goodTotal)
		}
	})

	t.Run("collectd_packets", func(t *testing.T) {
		pkts := mustGlob(t, filepath.Join(dir, "collectd-packets", "none", "pkt-*.bin"))
		if len(pkts) != 10 {
			t.Fatalf("%d captured packets, want 10", len(pkts))
		}
		var datagrams [][]byte
		for _, p := range pkts {
			datagrams = append(datagrams, readFile(t, p))
		}
		values := collectdValues(t, readFile(t, filepath.Join(dir, "collectd-packets", "none", "decoded.txt")))
		sendDatagrams(t, fmt.Sprintf("127.0.0.1:%d", cport), datagrams...)
		var got map[string]exported
		took := waitFor(t, 10*time.Second, func() string {
			got = exportAll(t, s, `{host="peerhost",type=~".+"}`)
			if n := countSamples(got); n < values {
				return fmt.Sprintf("%d of the %d values of the packets read back", n, values)
			}
			return ""
		})
		if n := countSamples(got); n != values {
			t.Errorf("%d samples read back, the packets hold %d values", n, values)
		}
		for _, w := range []struct {
			series string
			t      int64
			v      float64
		}{ // from decoded.txt of pkt-001: times are 2^-30 s, rounded to the nearest ms
			{`memory_value{host="peerhost",type="memory",type_instance="used"}`, 1795434230252, 1.34070272e+08},
			{`load_shortterm{host="peerhost",type="load"}`, 1795434230253, 0.0927734375},
			{`load_midterm{host="peerhost",type="load"}`, 1795434230253, 0.52099609375},
			{`load_longterm{host="peerhost",type="load"}`, 1795434230253, 0.36962890625},
			{`interface_rx{host="peerhost",instance="lo",type="if_octets"}`, 1795434230253, 801477},
			{`interface_tx{host="peerhost",instance="lo",type="if_packets"}`, 1795434230253, 1658},
		} {
			e, ok := got[w.series]
			if !ok {
				t.Errorf("series %s missing", w.series)
				continue
			}
			if v, ok := e.samples[w.t]; !ok || v != w.v {
				t.Errorf("%s @%d = %v (present %v), want %v; has %v", w.series, w.t, v, ok, w.v, e.samples)
			}
		}
		names := map[string]bool{}
		for _, e := range got {
			names[e.labels["__name__"]] = true
		}
		m := metrics(t, s)
		if r := rejections(m, "collectd"); len(r) != 0 {
			t.Errorf("collectd rejections %v, want none", r)
		}
		t.Logf("10 packets: %d series (%d names: %v), %d samples read back within %v",
			len(got), len(names), slices.Sorted(maps.Keys(names)), values, took.Round(time.Millisecond))
	})

	t.Run("telegraf_line_protocol", func(t *testing.T) {
		v1 := readFile(t, filepath.Join(dir, "telegraf-outputs-influxdb-v1.lp"))
		v2 := readFile(t, filepath.Join(dir, "telegraf-outputs-influxdb_v2.lp"))
		// One extra line shows a false boolean: the captures hold only true.
		extra := []byte("e2e_flags,host=peerhost up=true,down=false 1795434175000000000\n")
		if code, body := postBody(t, s, "/write?db=telegraf", "text/plain", append(slices.Clone(v1), extra...)); code != http.StatusNoContent {
			t.Fatalf("POST /write?db=telegraf: %d %s", code, body)
		}
		if code, body := postBody(t, s, "/api/v2/write?bucket=mybucket&org=myorg", "text/plain", v2); code != http.StatusNoContent {
			t.Fatalf("POST /api/v2/write: %d %s", code, body)
		}
		f1, d1 := lpSamples(t, v1)
		f2, d2 := lpSamples(t, v2)
		checkLP(t, s, "telegraf", d1+2, []string{
			`system_n_cpus{db="telegraf",host="peerhost"} 2 1795434175000`,
			`exec_edge_f_bool{db="telegraf",host="peerhost",tag with space="a,b=c"} 1 1795434175000`,
			`exec_edge_f_int{db="telegraf",host="peerhost",tag with space="a,b=c"} -42 1795434175000`,
			`exec_edge_f_str_info{db="telegraf",host="peerhost",tag with space="a,b=c",value="quote \"q\" back\\slash"} 1 1795434175000`,
			`my meas,x_f_uint{db="telegraf",host="peerhost",region="us-west"} 7 1795434175000`,
			`exec_unicode_note_info{db="telegraf",host="peerhost",loc="Zürich",value="snow ❄"} 1 1795434175000`,
			`exec_unicode_temp{db="telegraf",host="peerhost",loc="Zürich"} 21.5 1795434175000`,
			`cpu_usage_idle{cpu="cpu0",db="telegraf",host="peerhost"} 98.98989898988854 1795434176000`,
			`e2e_flags_up{db="telegraf",host="peerhost"} 1 1795434175000`,
			`e2e_flags_down{db="telegraf",host="peerhost"} 0 1795434175000`,
		})
		checkLP(t, s, "mybucket", d2, []string{
			`disk_total{db="mybucket",device="vda",fstype="ext4",host="peerhost",mode="rw",path="/"} 2.70553174016e+11 1795434200000`,
			`system_load1{db="mybucket",host="peerhost"} 0.16 1795434200000`,
			`exec_edge_f_bool{db="mybucket",host="peerhost",tag with space="a,b=c"} 1 1795434200000`,
			`exec_edge_f_float{db="mybucket",host="peerhost",tag with space="a,b=c"} 1.5 1795434200000`,
		})
		m := metrics(t, s)
		if got, want := m[`outpost_ingest_samples_total{protocol="influx"}`], float64(f1+2+f2); got != want {
			t.Errorf("influx samples counted %v, want %v", got, want)
		}
		uptime := bytes.Count(v1, []byte(" uptime_format=")) + bytes.Count(v2, []byte(" uptime_format="))
		if r := rejections(m, "influx"); len(r) != 1 || r[`what="samples",reason="string_field_dropped"}`] != float64(uptime) {
			t.Errorf("influx rejections %v, want only the %d uptime_format dropped", r, uptime)
		}
	})

	t.Run("line_protocol_over_udp", func(t *testing.T) {
		v1 := readFile(t, filepath.Join(dir, "telegraf-outputs-influxdb-v1.lp"))
		datagrams := cutDatagrams(v1, 1400)
		sendDatagrams(t, fmt.Sprintf("127.0.0.1:%d", uport), datagrams...)
		fields, distinct := lpSamples(t, v1)
		checkLP(t, s, "udp", distinct, []string{
			`system_n_cpus{db="udp",host="peerhost"} 2 1795434175000`,
			`exec_edge_f_str_info{db="udp",host="peerhost",tag with space="a,b=c",value="quote \"q\" back\\slash"} 1 1795434175000`,
			`exec_unicode_temp{db="udp",host="peerhost",loc="Zürich"} 21.5 1795434175000`,
		})
		m := metrics(t, s)
		if got := m[`outpost_ingest_connections_total{protocol="influx_udp"}`]; got != float64(len(datagrams)) {
			t.Errorf("datagrams counted %v, sent %d", got, len(datagrams))
		}
		if got := m[`outpost_ingest_samples_total{protocol="influx_udp"}`]; got != float64(fields) {
			t.Errorf("influx_udp samples counted %v, want %d", got, fields)
		}
		t.Logf("line protocol over UDP: %d datagrams, %d samples (%d distinct)", len(datagrams), fields, distinct)
	})
}

// checkLP waits until db's samples are all read back, then checks their
// count and that each of want ("series value ms") is among them.
func checkLP(t *testing.T, s *server, db string, samples int, want []string) {
	t.Helper()
	var got map[string]exported
	took := waitFor(t, 10*time.Second, func() string {
		got = exportAll(t, s, fmt.Sprintf(`{db=%q}`, db))
		if n := countSamples(got); n < samples {
			return fmt.Sprintf("db=%s: %d of %d samples read back", db, n, samples)
		}
		return ""
	})
	if n := countSamples(got); n != samples {
		t.Errorf("db=%s: %d samples read back, the body holds %d distinct ones", db, n, samples)
	}
	infos := 0
	for k := range got {
		if strings.Contains(k, "_info{") {
			infos++
		}
	}
	for _, w := range want {
		i := strings.LastIndexByte(w, ' ')
		j := strings.LastIndexByte(w[:i], ' ')
		series, vs, ts := w[:j], w[j+1:i], w[i+1:]
		v, _ := strconv.ParseFloat(vs, 64)
		ms, _ := strconv.ParseInt(ts, 10, 64)
		e, ok := got[series]
		if !ok {
			t.Errorf("db=%s: series %s missing", db, series)
			continue
		}
		if gv, ok := e.samples[ms]; !ok || gv != v {
			t.Errorf("db=%s: %s @%d = %v (present %v), want %v", db, series, ms, gv, ok, v)
		}
	}
	t.Logf("db=%s: %d series (%d _info), %d samples read back within %v", db, len(got), infos, samples, took.Round(time.Millisecond))
}

// collectdValues counts the values of the value lists in a decoded.txt of
// ../shared/conformance/ingest/collectd-packets: "0x0006 values len=N n=K".
func collectdValues(t *testing.T, decoded []byte) int {
	t.Helper()
	re := regexp.MustCompile(`(?m)^0x0006 values +len=\d+ +n=(\d+) `)
	n := 0
	for _, m := range re.FindAllSubmatch(decoded, -1) {
		k, _ := strconv.Atoi(string(m[1]))
		n += k
	}
	if n == 0 {
		t.Fatal("no values parts in decoded.txt")
	}
	return n
}

// TestIngest_BadInputCounted sends bad input over every protocol and checks
// that each is counted with its reason on /metrics and, through the self
// metrics loop (host.enabled, host.self_interval), as outpost_ingest_*
// series, while the good input around it is kept.
func TestIngest_BadInputCounted(t *testing.T) {
	t.Setenv("OUTPOST_HOST_ENABLED", "true")
	t.Setenv("OUTPOST_HOST_SELF_INTERVAL", "200ms")
	t.Setenv("OUTPOST_HOST_HOSTNAME", "bastion") // label host of the self series
	gport, cport, uport := freePort(t), freePort(t), freePort(t)
	s := startServerWith(t, t.TempDir(), serverConfig{
		Graphite: fmt.Sprintf("127.0.0.1:%d", gport),
		Collectd: fmt.Sprintf("  addr: 127.0.0.1:%d", cport),
		Extra:    fmt.Sprintf("influx:\n  udp_addr: 127.0.0.1:%d", uport),
	})
	defer s.stop()
	now := time.Now().Unix()

	// Graphite over TCP: a malformed line and a 1 MB line between good ones.
	var g bytes.Buffer
	fmt.Fprintf(&g, "e2e.before 1 %d\nthis is not graphite\n", now)
	g.WriteString("e2e." + strings.Repeat("x", 1<<20) + fmt.Sprintf(" 1 %d\n", now))
	fmt.Fprintf(&g, "e2e.after 2 %d\n", now)
	sendTCP(t, fmt.Sprintf("127.0.0.1:%d", gport), g.Bytes())
	// collectd: a host part, then a values part claiming 256 bytes of 4.
	sendDatagrams(t, fmt.Sprintf("127.0.0.1:%d", cport), []byte{0, 0, 0, 8, 'e', '2', 'e', 0, 0, 6, 1, 0})
	// Line protocol over HTTP and over UDP: a good line and a bad one each.
	code, body := postBody(t, s, "/write?db=e2e", "text/plain", []byte("e2e_http,host=a v=1\nbad line\n"))
	if code != http.StatusBadRequest || !strings.Contains(body, "partial write") || !strings.Contains(body, "dropped=1") {
		t.Errorf("POST /write with a bad line: %d %s, want 400 partial write dropped=1", code, body)
	}
	sendDatagrams(t, fmt.Sprintf("127.0.0.1:%d", uport), []byte("e2e_udp,host=a v=1\nbad line"))

	want := map[string]float64{
		rejected("graphite", "lines", "parse"):       1,
		rejected("graphite", "lines", "too_long"):    1,
		rejected("collectd", "packets", "truncated"): 1,
		rejected("influx", "lines", "parse"):         1,
		rejected("influx_udp", "lines", "parse"):     1,
	}
	var m map[string]float64
	took := waitFor(t, 10*time.Second, func() string {
		m = metrics(t, s)
		for k, v := range want {
			if m[k] != v {
				return fmt.Sprintf("/metrics: %s = %v, want %v", k, m[k], v)
			}
		}
		return ""
	})
	t.Logf("/metrics showed every rejection within %v", took.Round(time.Millisecond))
	for _, p := range []string{"graphite", "collectd", "influx", "influx_udp"} {
		t.Logf("%s: rejections %v", p, rejections(m, p))
	}

	// The good input around the bad is kept (UDP's within its batch timeout).
	waitFor(t, 10*time.Second, func() string {
		good := exportAll(t, s, `{__name__=~"e2e.*"}`)
		for _, k := range []string{`e2e.before{}`, `e2e.after{}`, `e2e_http_v{db="e2e",host="a"}`, `e2e_udp_v{db="udp",host="a"}`} {
			if _, ok := good[k]; !ok {
				return fmt.Sprintf("good sample %s next to bad input missing; have %v", k, slices.Sorted(maps.Keys(good)))
			}
		}
		return ""
	})

	// The same counts as series, written by the self-metrics loop.
	selfWant := map[string]float64{
		`outpost_ingest_rejected_total{protocol="graphite",reason="parse",what="lines"}`:       1,
		`outpost_ingest_rejected_total{protocol="graphite",reason="too_long",what="lines"}`:    1,
		`outpost_ingest_rejected_total{protocol="collectd",reason="truncated",what="packets"}`: 1,
		`outpost_ingest_rejected_total{protocol="influx",reason="parse",what="lines"}`:         1,
		`outpost_ingest_rejected_total{protocol="influx_udp",reason="parse",what="lines"}`:     1,
		`outpost_ingest_samples_total{protocol="influx_udp"}`:                                  1,
		`outpost_ingest_samples_total{protocol="influx"}`:                                      1,
		`outpost_ingest_samples_total{protocol="graphite"}`:                                    2,
		`outpost_ingest_connections_total{protocol="collectd"}`:                                1,
	}
	var self map[string]exported
	took = waitFor(t, 10*time.Second, func() string {
		self = exportAll(t, s, `{__name__=~"outpost_ingest_.*"}`)
		for k, v := range selfWant {
			e, ok := self[strings.Replace(k, "{", `{host="bastion",`, 1)]
			if !ok || latest(e) != v {
				return fmt.Sprintf("series %s: present %v, want latest value %v", k, ok, v)
			}
		}
		return ""
	})
	names := map[string]bool{}
	for _, e := range self {
		names[e.labels["__name__"]] = true
	}
	t.Logf("outpost_ingest_* series: %d (%v), every count within %v", len(self), slices.Sorted(maps.Keys(names)), took.Round(time.Millisecond))
}

// explanation is the part of POST /api/v1/graphite/explain's answer the
// test checks.
type explanation struct {
	Summary  string `json:"summary"`
	Why      string `json:"why"`
	Template *struct {
		Index   int    `json:"index"`
		Text    string `json:"text"`
		Default bool   `json:"default"`
	} `json:"template"`
	Series *struct {
		Name   string `json:"name"`
		Labels []struct {
			Name, Value, From string
		} `json:"labels"`
	} `json:"series"`
	Sample *struct {
		Timestamp int64 `json:"timestamp"`
	} `json:"sample"`
}

// TestIngest_GraphiteExplain asks the binary's template debugger which
// template a path takes, then sends the line and reads the series back:
// the explained series is the stored one.
func TestIngest_GraphiteExplain(t *testing.T) {
	t.Setenv("OUTPOST_GRAPHITE_TEMPLATES", "servers.* .host.resource.measurement*,measurement.field")
	t.Setenv("OUTPOST_GRAPHITE_SEPARATOR", "_")
	gport := freePort(t)
	s := startServerWith(t, t.TempDir(), serverConfig{Graphite: fmt.Sprintf("127.0.0.1:%d", gport)})
	defer s.stop()
	ts := time.Now().Unix()
	line := fmt.Sprintf("servers.web1.cpu.load.1m 0.5 %d", ts)

	explain := func(contentType string, body []byte) explanation {
		t.Helper()
		code, answer := postBody(t, s, "/api/v1/graphite/explain", contentType, body)
		if code != http.StatusOK {
			t.Fatalf("explain: %d %s", code, answer)
		}
		var e explanation
		if err := json.Unmarshal([]byte(answer), &e); err != nil {
			t.Fatalf("explain answer %s: %v", answer, err)
		}
		if e.Template == nil || e.Series == nil {
			t.Fatalf("explain answer without template or series: %s", answer)
		}
		return e
	}
	t.Run("filtered_template", func(t *testing.T) {
		req, _ := json.Marshal(map[string]string{"path": line})
		e := explain("application/json", req)
		if e.Template.Index != 0 || e.Template.Text != "servers.* .host.resource.measurement*" || e.Template.Default {
			t.Errorf("template %+v, want graphite.templates[0]", *e.Template)
		}
		labels := map[string]string{"__name__": e.Series.Name}
		for _, l := range e.Series.Labels {
			labels[l.Name] = l.Value
		}
		if got, want := seriesText(labels), `load_1m{host="web1",resource="cpu"}`; got != want {
			t.Errorf("explained series %s, want %s", got, want)
		}
		if e.Sample == nil || e.Sample.Timestamp != ts*1000 {
			t.Errorf("explained sample %+v, want timestamp %d", e.Sample, ts*1000)
		}
		sendTCP(t, fmt.Sprintf("127.0.0.1:%d", gport), []byte(line+"\n"))
		var got map[string]exported
		waitFor(t, 10*time.Second, func() string {
			if got = exportAll(t, s, `{__name__="load_1m"}`); len(got) == 0 {
				return "the line sent is not stored"
			}
			return ""
		})
		stored, ok := got[seriesText(labels)]
		if len(got) != 1 || !ok || stored.samples[ts*1000] != 0.5 {
			t.Errorf("stored %v, explained %s = 0.5 @%d", got, seriesText(labels), ts*1000)
		}
		t.Logf("explain: %s", e.Summary)
	})
	t.Run("default_template", func(t *testing.T) {
		e := explain("application/x-www-form-urlencoded", []byte(url.Values{"path": {"app.requests"}}.Encode()))
		if !e.Template.Default || e.Template.Text != "measurement.field" || e.Series.Name != "app_requests" {
			t.Errorf("template %+v series %q, want the default measurement.field and app_requests", *e.Template, e.Series.Name)
		}
		t.Logf("explain: %s", e.Summary)
	})
}
