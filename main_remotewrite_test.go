package main

// End-to-end tests of remote write into outpost (issue 10, point 5): the
// real Prometheus (Debian's prometheus, 2.42) and the real vmagent
// (Debian's victoria-metrics, 1.79) scrape targets and remote-write to
// the binary; outpost's /api/v1/export piped into another outpost's
// /api/v1/import. They skip while routes.go does not mount the endpoints.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// needRoute skips the test while path is not mounted: a POST with an empty
// body is answered 404 or 405 by the mux, and 4xx/2xx by the endpoint.
func needRoute(t *testing.T, s *server, path string) {
	t.Helper()
	resp, err := http.Post(s.base+path, "application/octet-stream", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		t.Skipf("POST %s is not mounted in routes.go yet (HTTP %d)", path, resp.StatusCode)
	}
}

// process is a sender started for a test, killed when it ends.
type process struct {
	cmd  *exec.Cmd
	log  *logBuffer
	done chan error
}

// startProcess starts bin with args, its output kept for the failure log.
func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: new(logBuffer), done: make(chan error, 1)}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, p.log)
		}
	})
	return p
}

// senderMetrics reads a Prometheus text exposition and sums the samples of
// each metric name over its series.
func senderMetrics(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(line, '{'); i >= 0 && i < len(name) {
			name = line[:i]
			rest = line[strings.LastIndexByte(line, '}')+2:]
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[name] += v
	}
	return out, sc.Err()
}

// senderScrapes is the scrape configuration both senders use, every
// second: outpost's own /metrics (job outpost), the sender's (job sender)
// and a target of the test's (job flaky).
func senderScrapes(outpost, sender, flaky string) string {
	var b strings.Builder
	b.WriteString("scrape_configs:\n")
	for _, job := range [][2]string{{"outpost", outpost}, {"sender", sender}, {"flaky", flaky}} {
		fmt.Fprintf(&b, "  - job_name: %s\n    scrape_interval: 1s\n    static_configs: [{targets: [%q]}]\n", job[0], job[1])
	}
	return b.String()
}

// flakyTarget serves two series until fail is set, then answers 500: the
// sender then writes staleness markers for them.
type flakyTarget struct {
	srv  *httptest.Server
	fail atomic.Bool
}

func newFlakyTarget(t *testing.T) *flakyTarget {
	ft := new(flakyTarget)
	ft.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ft.fail.Load() {
			http.Error(w, "gone", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "# TYPE e2e_flap gauge\ne2e_flap{kind=\"a\"} 1\ne2e_flap{kind=\"b\"} 2.5\n")
	}))
	t.Cleanup(ft.srv.Close)
	return ft
}

// addr is the target's host:port.
func (ft *flakyTarget) addr() string { return strings.TrimPrefix(ft.srv.URL, "http://") }

// storedCount counts the samples outpost holds of the senders' jobs.
func storedCount(t *testing.T, s *server) int {
	return countSamples(exportAll(t, s, `{job=~"outpost|sender|flaky"}`))
}

// remoteWriteRun drives a sender that scrapes outpost, itself and a flaky
// target and remote-writes to outpost: once it has sent 300 samples, the
// flaky target fails, and once outpost holds the staleness markers the
// sender wrote for its two series, stop ends every scrape; then outpost
// must hold exactly what the sender says it sent. sent returns the
// sender's count and whether it is quiet (nothing pending, failed or
// retried). Each wait is bounded.
func remoteWriteRun(t *testing.T, s *server, ft *flakyTarget, sent func() (float64, bool, error), stop func()) {
	t.Helper()
	waitFor(t, 60*time.Second, func() string {
		n, _, err := sent()
		if err != nil || n < 300 {
			return fmt.Sprintf("the sender sent %v samples (%v), want 300", n, err)
		}
		// outpost's own /metrics alone is over 300 samples a scrape: wait
		// for the flaky target's series too before it fails.
		if flap := exportAll(t, s, `e2e_flap`); len(flap) < 2 {
			return fmt.Sprintf("the sender sent %v samples, but outpost holds %d e2e_flap series, want 2", n, len(flap))
		}
		return ""
	})
	ft.fail.Store(true)
	waitFor(t, 60*time.Second, func() string {
		flap := exportAll(t, s, `e2e_flap`)
		for _, kind := range []string{"a", "b"} {
			e, ok := flap[fmt.Sprintf(`e2e_flap{instance=%q,job="flaky",kind=%q}`, ft.addr(), kind)]
			if !ok {
				return fmt.Sprintf("no e2e_flap series of kind %s: %v", kind, slices.Sorted(maps.Keys(flap)))
			}
			lastT := slices.Max(slices.Collect(maps.Keys(e.samples)))
			if v := e.samples[lastT]; !math.IsNaN(v) || len(e.samples) < 2 {
				return fmt.Sprintf("e2e_flap of kind %s ends with %v after %d samples, not with the staleness marker", kind, v, len(e.samples))
			}
		}
		return ""
	})
	stop()
	// The sender's counters may lag what it sent by a moment (vmagent's
	// did, once): agreement must hold at two polls in a row.
	var last string
	agreed := 0
	took := waitFor(t, 60*time.Second, func() string {
		before, quiet, err := sent()
		if err != nil || !quiet {
			agreed = 0
			return fmt.Sprintf("sender: %v sent, quiet %v, %v", before, quiet, err)
		}
		stored := storedCount(t, s)
		after, quiet, err := sent()
		last = fmt.Sprintf("sender sent %v samples, outpost stored %d", after, stored)
		if err != nil || !quiet || after != before || float64(stored) != after {
			agreed = 0
			return last
		}
		if agreed++; agreed < 2 {
			return last + " (once)"
		}
		return ""
	})
	m := metrics(t, s)
	t.Logf("%s (agreed %v after the scrapes stopped); outpost counted %v promrw samples in %v bytes", last, took.Round(time.Millisecond),
		m[`outpost_ingest_samples_total{protocol="promrw"}`], m[`outpost_ingest_bytes_total{protocol="promrw"}`])
	if r := rejections(m, "promrw"); len(r) != 0 {
		t.Errorf("promrw rejections: %v", r)
	}
}

// writeSenderConfig writes a sender's configuration file.
func writeSenderConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRemoteWrite_Prometheus(t *testing.T) {
	const bin = "/usr/bin/prometheus"
	if _, err := os.Stat(bin); err != nil {
		missingDep(t, "Prometheus is not installed (apt-get install prometheus): %v", err)
	}
	s := startServer(t, t.TempDir())
	t.Cleanup(s.stop)
	needRoute(t, s, "/api/v1/write")
	ft := newFlakyTarget(t)
	self := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	path := filepath.Join(t.TempDir(), "prometheus.yml")
	config := func(scrapes string) string {
		return "global: {scrape_interval: 1s, evaluation_interval: 1s}\n" + scrapes + fmt.Sprintf(`remote_write:
  - url: %s/api/v1/write
    queue_config: {batch_send_deadline: 1s, max_samples_per_send: 500, min_backoff: 100ms, max_backoff: 1s}
    metadata_config: {send: true, send_interval: 1s}
`, s.base)
	}
	writeSenderConfig(t, path, config(senderScrapes(strings.TrimPrefix(s.base, "http://"), self, ft.addr())))
	p := startProcess(t, bin, "--config.file="+path, "--storage.tsdb.path="+filepath.Join(filepath.Dir(path), "data"),
		"--web.listen-address="+self, "--log.level=warn")
	remoteWriteRun(t, s, ft, func() (float64, bool, error) {
		m, err := senderMetrics("http://" + self)
		if err != nil {
			return 0, false, err
		}
		quiet := m["prometheus_remote_storage_samples_pending"] == 0 && m["prometheus_remote_storage_samples_failed_total"] == 0 &&
			m["prometheus_remote_storage_samples_retried_total"] == 0 && m["prometheus_remote_storage_samples_dropped_total"] == 0
		return m["prometheus_remote_storage_samples_total"], quiet, nil
	}, func() {
		writeSenderConfig(t, path, config("scrape_configs: []\n"))
		_ = p.cmd.Process.Signal(syscall.SIGHUP) // reload: nothing more is scraped
	})
}

func TestRemoteWrite_VMAgent(t *testing.T) {
	const bin = "/usr/bin/vmagent"
	if _, err := os.Stat(bin); err != nil {
		missingDep(t, "vmagent is not installed (apt-get install victoria-metrics): %v", err)
	}
	s := startServer(t, t.TempDir())
	t.Cleanup(s.stop)
	needRoute(t, s, "/api/v1/write")
	ft := newFlakyTarget(t)
	self := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "scrape.yml")
	writeSenderConfig(t, path, senderScrapes(strings.TrimPrefix(s.base, "http://"), self, ft.addr()))
	p := startProcess(t, bin, "-promscrape.config="+path, "-remoteWrite.url="+s.base+"/api/v1/write",
		"-remoteWrite.tmpDataPath="+filepath.Join(dir, "queue"), "-httpListenAddr="+self,
		"-remoteWrite.flushInterval=1s", "-loggerLevel=WARN")
	remoteWriteRun(t, s, ft, func() (float64, bool, error) {
		m, err := senderMetrics("http://" + self)
		if err != nil {
			return 0, false, err
		}
		quiet := m["vmagent_remotewrite_pending_data_bytes"] == 0 && m["vmagent_remotewrite_pending_inmemory_blocks"] == 0 &&
			m["vmagent_remotewrite_retries_count_total"] == 0 && m["vmagent_remotewrite_packets_dropped_total"] == 0
		return m["vmagent_remotewrite_block_size_rows_sum"], quiet, nil
	}, func() {
		writeSenderConfig(t, path, "scrape_configs: []\n")
		_ = p.cmd.Process.Signal(syscall.SIGHUP)
	})
}

// TestImport_ExportRoundTrip exports what one outpost holds and imports
// it into another, plain and gzipped: the second exports the same lines.
func TestImport_ExportRoundTrip(t *testing.T) {
	a := startServer(t, t.TempDir())
	t.Cleanup(a.stop)
	needRoute(t, a, "/api/v1/import")
	now := time.Now().Add(-time.Hour).Unix()
	var lp strings.Builder
	for i := range 600 {
		ts := (now + int64(i)) * 1e9
		fmt.Fprintf(&lp, "cpu,host=web%d,cpu=cpu-total usage_idle=%d.5,usage_user=%d %d\n", i%3, i, i%7, ts)
		fmt.Fprintf(&lp, "disk,host=web%d,path=/var\\ log used_percent=%g %d\n", i%3, float64(i)/7, ts)
	}
	lp.WriteString(`special,host=x nan="NaN",pinf="+Inf",ninf="-Inf",text="quoted \"value\" é" ` + fmt.Sprint(now*1e9) + "\n")
	if code, body, err := post(t.Context(), http.DefaultClient, a.base, "db=telegraf", lp.String()); err != nil || code != http.StatusNoContent {
		t.Fatalf("write: %d %s %v", code, body, err)
	}
	exported := rawExport(t, a)
	if n := strings.Count(string(exported), "\n"); n != 13 {
		t.Fatalf("export holds %d lines, want 13:\n%s", n, exported)
	}
	samples := countSamples(exportAll(t, a, `{db="telegraf"}`))
	for _, gz := range []bool{false, true} {
		b := startServer(t, t.TempDir())
		body, header := exported, ""
		if gz {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(exported)
			zw.Close()
			body, header = buf.Bytes(), "gzip"
		}
		req, _ := http.NewRequest("POST", b.base+"/api/v1/import", bytes.NewReader(body))
		req.Header.Set("Content-Encoding", header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("import (gzip %v): HTTP %d: %s", gz, resp.StatusCode, msg)
		}
		if again := rawExport(t, b); !bytes.Equal(sortedLines(again), sortedLines(exported)) {
			t.Fatalf("gzip %v: the import exports\n%s\nwant\n%s", gz, again, exported)
		}
		m := metrics(t, b)
		if got := m[`outpost_ingest_samples_total{protocol="vmimport"}`]; got != float64(samples) {
			t.Errorf("gzip %v: vmimport samples %v, want %d", gz, got, samples)
		}
		b.stop()
	}
}

// rawExport returns every series' export lines.
func rawExport(t *testing.T, s *server) []byte {
	t.Helper()
	resp, err := http.PostForm(s.base+"/api/v1/export", url.Values{"match[]": {`{__name__=~".+",db="telegraf"}`}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: HTTP %d: %s", resp.StatusCode, b)
	}
	return b
}

// sortedLines sorts the lines of b, as two stores may create series in
// another order.
func sortedLines(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(b), []byte{'\n'})
	slices.SortFunc(lines, bytes.Compare)
	return bytes.Join(lines, []byte{'\n'})
}
