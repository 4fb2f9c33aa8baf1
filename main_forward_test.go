package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// vmServer is a real VictoriaMetrics single-node started for a test.
type vmServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  *logBuffer
	done chan error
	base string
}

// startVM starts /usr/bin/victoria-metrics on port with its data in dir
// and waits for /health.
func startVM(t *testing.T, port int, dir string) *vmServer {
	t.Helper()
	vm := &vmServer{t: t, log: new(logBuffer), done: make(chan error, 1), base: fmt.Sprintf("http://127.0.0.1:%d", port)}
	vm.cmd = exec.Command("/usr/bin/victoria-metrics", "-storageDataPath", dir, "-retentionPeriod", "100y",
		"-httpListenAddr", fmt.Sprintf("127.0.0.1:%d", port), "-search.disableCache")
	vm.cmd.Stdout, vm.cmd.Stderr = vm.log, vm.log
	if err := vm.cmd.Start(); err != nil {
		t.Fatalf("start victoria-metrics: %v", err)
	}
	go func() { vm.done <- vm.cmd.Wait() }()
	t.Cleanup(vm.stop)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(vm.base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return vm
			}
		}
	}
	t.Fatalf("victoria-metrics did not answer /health within 20 s\n%s", vm.log)
	return nil
}

// stop stops VictoriaMetrics with SIGTERM (it flushes), once.
func (vm *vmServer) stop() {
	if vm.cmd == nil {
		return
	}
	_ = vm.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-vm.done:
	case <-time.After(20 * time.Second):
		_ = vm.cmd.Process.Kill()
		<-vm.done
	}
	vm.cmd = nil
}

// samples reads every sample of metric fwd_v from VictoriaMetrics' export
// as series -> timestamp -> how many times it is stored.
func (vm *vmServer) samples() (map[string]map[int64]int, error) {
	resp, err := http.PostForm(vm.base+"/api/v1/export", url.Values{"match[]": {`{__name__="fwd_v"}`}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := make(map[string]map[int64]int)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("%s,host=%s,site=%s", line.Metric["__name__"], line.Metric["host"], line.Metric["site"])
		if out[key] == nil {
			out[key] = make(map[int64]int)
		}
		for _, ts := range line.Timestamps {
			out[key][ts]++
		}
	}
	return out, sc.Err()
}

// waitSamples polls VictoriaMetrics until it holds want samples of fwd_v
// (counting duplicates) and returns what it holds then, or at the timeout.
func (vm *vmServer) waitSamples(t *testing.T, want int, timeout time.Duration) map[string]map[int64]int {
	t.Helper()
	var got map[string]map[int64]int
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		var err error
		if got, err = vm.samples(); err != nil {
			continue
		}
		if vmSampleCount(got) >= want {
			break
		}
	}
	return got
}

func vmSampleCount(m map[string]map[int64]int) int {
	n := 0
	for _, ts := range m {
		for _, c := range ts {
			n += c
		}
	}
	return n
}

// ingestFwd writes n samples of fwd_v over 4 hosts, from index from, at
// one per 10 s back from base, and fails on anything but 204.
func ingestFwd(t *testing.T, s *server, base time.Time, from, n int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "fwd,host=h%d v=%d %d\n", i%4, i, base.Add(time.Duration(i)*10*time.Second).UnixMilli())
	}
	code, body, err := post(t.Context(), http.DefaultClient, s.base, "db=t&precision=ms", b.String())
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("write: %d %s %v", code, body, err)
	}
}

// checkExactlyOnce fails unless every one of the n samples is in VM once.
func checkExactlyOnce(t *testing.T, got map[string]map[int64]int, base time.Time, n int) {
	t.Helper()
	for i := range n {
		key := fmt.Sprintf("fwd_v,host=h%d,site=b1", i%4)
		ts := base.Add(time.Duration(i) * 10 * time.Second).UnixMilli()
		if c := got[key][ts]; c != 1 {
			t.Errorf("%s @%d is in VictoriaMetrics %d times, want once", key, ts, c)
		}
	}
	if c := vmSampleCount(got); c != n {
		t.Errorf("VictoriaMetrics holds %d samples of fwd_v, want %d", c, n)
	}
}

// TestForward_VictoriaMetrics forwards what outpost ingests into a real
// VictoriaMetrics; stops VM, ingests more, restarts outpost gracefully
// with a full queue, starts VM again: every sample arrives exactly once.
// SOAK=1 keeps VM down for 60 s (issue 10), the normal run for 3 s.
func TestForward_VictoriaMetrics(t *testing.T) {
	if _, err := os.Stat("/usr/bin/victoria-metrics"); err != nil {
		t.Skipf("victoria-metrics is not installed (apt-get install victoria-metrics): %v", err)
	}
	down := 3 * time.Second
	if os.Getenv("SOAK") != "" {
		down = 60 * time.Second
	}
	vmPort, vmDir, dataDir := freePort(t), t.TempDir(), t.TempDir()
	vm := startVM(t, vmPort, vmDir)
	cfg := serverConfig{Extra: fmt.Sprintf(`forward:
  targets:
    - name: vm
      url: http://127.0.0.1:%d/api/v1/write
      match: ['{__name__=~"fwd_.*"}']
      external_labels: {site: b1}
      flush_interval: 200ms
      max_samples_per_send: 500
      timeout: 5s
`, vmPort)}
	s := startServerWith(t, dataDir, cfg)
	base := time.Now().Add(-24 * time.Hour).Truncate(time.Second)

	ingestFwd(t, s, base, 0, 1000)
	checkExactlyOnce(t, vm.waitSamples(t, 1000, 30*time.Second), base, 1000)

	vm.stop()
	for i := 1000; i < 3000; i += 500 {
		ingestFwd(t, s, base, i, 500)
	}
	time.Sleep(down)
	s.stop()
	segs, _ := filepath.Glob(filepath.Join(dataDir, "forward", "vm", "*.seg"))
	if len(segs) == 0 {
		t.Fatalf("no queue segments in %s after the outage", filepath.Join(dataDir, "forward", "vm"))
	}
	s = startServerWith(t, dataDir, cfg)
	t.Cleanup(s.stop)
	vm = startVM(t, vmPort, vmDir)
	got := vm.waitSamples(t, 3000, 60*time.Second)
	time.Sleep(2 * time.Second) // a late duplicate would show now
	if got2, err := vm.samples(); err == nil {
		got = got2
	}
	checkExactlyOnce(t, got, base, 3000)
	// The queue's figures are on GET /metrics, per target.
	code, metrics := getBody(t, s.base+"/metrics")
	for _, want := range []string{`outpost_forward_samples_sent_total{target="vm"}`, `outpost_forward_pending_samples{target="vm"}`,
		`outpost_forward_queue_bytes{target="vm"}`, `outpost_forward_retries_total{target="vm"}`} {
		if code != http.StatusOK || !strings.Contains(metrics, want) {
			t.Errorf("GET /metrics (%d) has no %s", code, want)
		}
	}
	if t.Failed() {
		t.Logf("outpost log:\n%s", s.log)
	}
}
