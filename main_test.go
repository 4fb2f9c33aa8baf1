package main

// End-to-end tests of the real binary: built once, started on loopback
// ports with its data in a temp dir, fed over HTTP, killed with SIGKILL.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// outpostBinary builds the binary once per test run.
func outpostBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "outpost-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "outpost")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// soak skips a long or load-sensitive end-to-end test (it measures RSS,
// latency or minutes of traffic) unless SOAK is set: make soak
// runs them without the race detector, which would distort the figures,
// and CI runs make soak after make test.
func soak(t *testing.T) {
	t.Helper()
	if os.Getenv("SOAK") == "" {
		t.Skip("a soak test: run it with make soak (SOAK=1)")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is one running outpost process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  *logBuffer
	done chan error
}

// logBuffer collects a process's output; tests read it while the process
// still writes.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serverConfig is what a test changes in outpost's YAML config; the rest is
// fixed: loopback HTTP on a free port, data in the given dir, epochs
// flushed as soon as they are idle, the host collector off.
type serverConfig struct {
	Storage  string // extra lines under storage:, indented two spaces
	HTTP     string // extra lines under http:, indented two spaces
	Graphite string // graphite.addr ("" = off)
	Collectd string // lines under collectd:, default addr: ""
	Extra    string // further top-level sections
}

// startServer starts outpost with the default test config and waits for /ping.
func startServer(t *testing.T, dataDir string) *server {
	t.Helper()
	return startServerWith(t, dataDir, serverConfig{})
}

// startServerWith starts outpost with c and waits for /ping.
func startServerWith(t *testing.T, dataDir string, c serverConfig) *server {
	t.Helper()
	port := freePort(t)
	if c.Collectd == "" {
		c.Collectd = "  addr: \"\""
	}
	cfg := filepath.Join(t.TempDir(), "outpost.yml")
	yml := fmt.Sprintf("storage:\n  path: %s\n  epoch_grace: 0s\n%s\nhttp:\n  addr: 127.0.0.1:%d\n%s\ngraphite:\n  addr: %q\ncollectd:\n%s\nhost:\n  enabled: false\n%s\n",
		dataDir, c.Storage, port, c.HTTP, c.Graphite, c.Collectd, c.Extra)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: new(logBuffer), done: make(chan error, 1)}
	s.cmd = exec.Command(outpostBinary(t), "-config", cfg)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.base + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("outpost exited during start: %v\n%s", err, s.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.kill()
	t.Fatalf("outpost did not answer /ping within 20 s\n%s", s.log)
	return nil
}

func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("outpost exit after SIGTERM: %v\n%s", err, s.log)
		}
	case <-time.After(30 * time.Second):
		s.kill()
		s.t.Fatalf("outpost did not stop within 30 s of SIGTERM\n%s", s.log)
	}
}

// export reads every series matching match back through /api/v1/export,
// as series string -> timestamp -> value.
func (s *server) export(match string) map[string]map[int64]float64 {
	s.t.Helper()
	resp, err := http.PostForm(s.base+"/api/v1/export", url.Values{"match[]": {match}})
	if err != nil {
		s.t.Fatalf("export: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("export: HTTP %d: %s", resp.StatusCode, b)
	}
	out := make(map[string]map[int64]float64)
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Metric     map[string]string `json:"metric"`
			Values     []float64         `json:"values"`
			Timestamps []int64           `json:"timestamps"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			s.t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		key := seriesKey(line.Metric)
		m := out[key]
		if m == nil {
			m = make(map[int64]float64)
			out[key] = m
		}
		for i, ts := range line.Timestamps {
			m[ts] = line.Values[i]
		}
	}
	if err := sc.Err(); err != nil {
		s.t.Fatalf("export: %v", err)
	}
	return out
}

func seriesKey(m map[string]string) string {
	var b strings.Builder
	b.WriteString(m["__name__"])
	for _, k := range []string{"db", "host", "writer"} {
		if v, ok := m[k]; ok {
			fmt.Fprintf(&b, ",%s=%s", k, v)
		}
	}
	return b.String()
}

// post writes line protocol and returns the status code.
func post(ctx context.Context, client *http.Client, base, query, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/write?"+query, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// ackedSample is one sample a 204 acknowledged.
type ackedSample struct {
	series string
	t      int64
	v      float64
}

// TestDurability_Kill9 writes from several clients, kills outpost with
// SIGKILL at random moments (some during a flush of old epochs, some just
// after start while retention deletes an expired day file), restarts it,
// and checks that every acknowledged sample reads back.
func TestDurability_Kill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test is long")
	}
	kills := 20
	dataDir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var acked []ackedSample
	var mu sync.Mutex
	nowMs := time.Now().UnixMilli()
	// Timestamps start 3 h back so that epochs fill, go idle and flush while
	// the writers move forward through time.
	base := nowMs - 3*3600_000
	var seq int64
	for round := range kills {
		if round%5 == 4 {
			plantExpiredDayFile(t, dataDir)
		}
		srv := startServer(t, dataDir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				client := &http.Client{Timeout: 10 * time.Second}
				for ctx.Err() == nil {
					mu.Lock()
					seq++
					my := seq
					mu.Unlock()
					var body strings.Builder
					var batch []ackedSample
					for i := range 200 {
						ts := base + my*1000 + int64(i)
						v := float64(my*1000 + int64(i))
						fmt.Fprintf(&body, "kill9,host=h%d,writer=w%d value=%v %d\n", i%10, w, v, ts*1_000_000)
						batch = append(batch, ackedSample{fmt.Sprintf("kill9_value,db=e2e,host=h%d,writer=w%d", i%10, w), ts, v})
					}
					code, _, err := post(ctx, client, srv.base, "db=e2e", body.String())
					if err == nil && code == http.StatusNoContent {
						mu.Lock()
						acked = append(acked, batch...)
						mu.Unlock()
					}
				}
			})
		}
		// Some rounds ask for a flush of every epoch and are killed while it runs.
		delay := time.Duration(100+rng.IntN(1200)) * time.Millisecond
		if round%3 == 1 {
			time.Sleep(delay)
			go http.Post(srv.base+"/internal/force_flush", "", nil)
			time.Sleep(time.Duration(rng.IntN(60)) * time.Millisecond)
		} else {
			time.Sleep(delay)
		}
		srv.kill()
		cancel()
		wg.Wait()
	}
	srv := startServer(t, dataDir)
	defer srv.stop()
	got := srv.export(`{__name__="kill9_value"}`)
	missing := 0
	for _, a := range acked {
		v, ok := got[a.series][a.t]
		if !ok || v != a.v {
			if missing < 5 {
				t.Errorf("acknowledged sample lost: %s @%d = %v (got %v, present %v)", a.series, a.t, a.v, v, ok)
			}
			missing++
		}
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	t.Logf("%d kills, %d acknowledged samples, %d missing", kills, len(acked), missing)
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged samples lost", missing, len(acked))
	}
	for _, f := range mustGlob(t, filepath.Join(dataDir, "parts", "2001*.db")) {
		t.Errorf("expired day file %s survived", f)
	}
}

// plantExpiredDayFile copies a real day file under a date far past
// retention, so the next start deletes it.
func plantExpiredDayFile(t *testing.T, dataDir string) {
	t.Helper()
	files := mustGlob(t, filepath.Join(dataDir, "parts", "2*.db"))
	if len(files) == 0 {
		return
	}
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "parts", "20010101.db"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
