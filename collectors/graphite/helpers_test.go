package graphite

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// recorder is the one fake of these tests: it stands for collectors.Writer
// (the store is not part of this package) and records what it is given.
type recorder struct {
	mu    sync.Mutex
	pts   []tsdb.Point
	calls int
	fail  func(call int, pts []tsdb.Point) error // optional: the error of a call
}

var _ collectors.Writer = (*recorder)(nil)

// Write records a deep copy of pts, as the Writer contract forbids keeping them.
func (r *recorder) Write(ctx context.Context, pts []tsdb.Point) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(r.calls, pts); err != nil {
			return err
		}
	}
	for _, p := range pts {
		r.pts = append(r.pts, tsdb.Point{Labels: p.Labels.Copy(), T: p.T, V: p.V})
	}
	return nil
}

// points returns a copy of what was recorded.
func (r *recorder) points() []tsdb.Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pts)
}

// count returns how many points were recorded.
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pts)
}

// byName returns the recorded points whose metric name is name.
func (r *recorder) byName(name string) []tsdb.Point {
	var out []tsdb.Point
	for _, p := range r.points() {
		if p.Labels.Get(tsdb.MetricName) == name {
			out = append(out, p)
		}
	}
	return out
}

// testConfig returns the defaults on a loopback port chosen by the kernel,
// with a short batch timeout so that tests see their points quickly.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.BatchTimeout = 20 * time.Millisecond
	return cfg
}

// fixedNow is the clock of the tests: 2023-11-14T22:13:20Z.
func fixedNow() time.Time { return time.UnixMilli(1_700_000_000_000) }

// start runs a listener until the test ends and checks that Run returns nil.
// Each tweak may change the listener's test knobs before Run.
func start(t *testing.T, cfg Config, w collectors.Writer, tweaks ...func(*Listener)) (*Listener, *collectors.Stats, func()) {
	t.Helper()
	stats := collectors.NewStats("graphite")
	l, err := New(cfg, w, Options{Stats: stats, Now: fixedNow})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, tw := range tweaks {
		tw(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Errorf("Run did not return 10s after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return l, stats, stop
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rejected returns one rejection count of stats.
func rejected(s *collectors.Stats, what, reason string) uint64 {
	for _, r := range s.Rejections() {
		if r.What == what && r.Reason == reason {
			return r.N
		}
	}
	return 0
}

// dial opens a TCP connection to l.
func dial(t *testing.T, l *Listener) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// send writes s on c and fails the test on error.
func send(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// conformance returns the path of a file under ../shared/conformance/ingest,
// skipping the test when the shared folder is absent.
func conformance(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "conformance", "ingest", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("conformance data absent: %v", err)
	}
	return p
}

// lbl builds sorted labels with the metric name first in the arguments.
func lbl(name string, nv ...string) tsdb.Labels {
	return tsdb.FromStrings(append([]string{tsdb.MetricName, name}, nv...)...)
}
