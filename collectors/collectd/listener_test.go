package collectd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// testConfig listens on a loopback port of the system's choosing and
// flushes quickly.
func testConfig() Config {
	c := DefaultConfig()
	c.Addr = "127.0.0.1:0"
	c.FlushInterval = 20 * time.Millisecond
	c.ReadBuffer = 1 << 20
	return c
}

// startListener runs a Listener until the test ends; Cleanup waits (at most
// 10 s) for Run to return.
func startListener(t *testing.T, cfg Config, w collectors.Writer, opts Options) (*Listener, context.CancelFunc) {
	t.Helper()
	l, err := New(cfg, w, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return 10 s after cancel")
		}
	})
	return l, cancel
}

// sender sends datagrams to the listener.
func sender(t *testing.T, l *Listener) func(pkts ...[]byte) {
	t.Helper()
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return func(pkts ...[]byte) {
		t.Helper()
		for _, p := range pkts {
			if _, err := c.Write(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListener_Run_WritesPoints(t *testing.T) {
	w := &recordingWriter{}
	st := collectors.NewStats("collectd")
	l, _ := startListener(t, testConfig(), w, Options{Stats: st})
	pkt := cat(hdr, loadParts, strPart(partPlugin, "cpu"), strPart(partPluginInstance, "0"),
		strPart(partType, "cpu"), strPart(partTypeInstance, "idle"), valuesPart(derive(9876)))
	sender(t, l)(pkt)
	waitFor(t, "4 points", func() bool { return len(w.points()) == 4 })
	pts := w.points()
	want := `load_shortterm{host="web1",type="load"} 0.5 @1795434230500 load_midterm{host="web1",type="load"} 0.25 @1795434230500 ` +
		`load_longterm{host="web1",type="load"} 0.125 @1795434230500 ` +
		`cpu_value{host="web1",instance="0",type="cpu",type_instance="idle"} 9876 @1795434230500`
	if got := series(pts); got != want {
		t.Errorf("points\n got %s\nwant %s", got, want)
	}
	waitFor(t, "samples counted", func() bool { return st.Samples.Load() == 4 })
	if st.Connections.Load() != 1 || st.Bytes.Load() != uint64(len(pkt)) || len(st.Rejections()) != 0 {
		t.Errorf("stats: %d datagrams, %d bytes, rejections %v", st.Connections.Load(), st.Bytes.Load(), st.Rejections())
	}
}

func TestListener_Run_BadInputCountedAndServingGoesOn(t *testing.T) {
	dir := t.TempDir()
	authPath := filepath.Join(dir, "auth")
	write(t, authPath, "alice: pw\n")
	plain := cat(hdr, loadParts)
	iv := []byte("0123456789abcdef")
	corruptTail := cat(plain, []byte{0, 2, 0, 40, 'x'}) // the load list, then a part beyond the end
	unknown := cat(hdr, strPart(partPlugin, "app"), strPart(partType, "no_such_type"), valuesPart(gauge(1), gauge(2)))
	cases := []struct {
		level        string
		pkts         [][]byte
		what, reason string
	}{
		{"sign", [][]byte{signPacket("alice", "pw", corruptTail[:len(corruptTail)-2])}, "packets", "truncated"},
		{"sign", [][]byte{signPacket("alice", "pw", cat(plain, []byte{0, 2, 0, 6, 'x', 'y'}))}, "packets", "malformed"},
		{"sign", [][]byte{signPacket("alice", "wrong", plain)}, "packets", "bad_signature"},
		{"sign", [][]byte{flip(signPacket("alice", "pw", plain), 60)}, "packets", "bad_signature"},
		{"sign", [][]byte{signPacket("mallory", "pw", plain)}, "packets", "unknown_user"},
		{"sign", [][]byte{plain}, "packets", "unsigned"},
		{"sign", [][]byte{signPacket("alice", "pw", unknown)}, "samples", "unknown_type"},
		{"sign", [][]byte{signPacket("alice", "pw", cat(hdr, strPart(partMessage, "boom")))}, "notifications", "not_stored"},
		{"encrypt", [][]byte{plain}, "packets", "unencrypted"},
		{"encrypt", [][]byte{signPacket("alice", "pw", plain)}, "packets", "unencrypted"},
		{"encrypt", [][]byte{encryptPacket("alice", "wrong", iv, plain)}, "packets", "decrypt_failed"},
		{"encrypt", [][]byte{encryptPacket("alice", "pw", iv, plain)[:50]}, "packets", "truncated"},
		{"none", [][]byte{{0}}, "packets", "truncated"},
		{"none", [][]byte{encryptPacket("alice", "pw", iv, plain)}, "packets", "decrypt_failed"},
	}
	for i, tc := range cases {
		t.Run(fmt.Sprintf("%s/%d-%s", tc.level, i, tc.reason), func(t *testing.T) {
			cfg := testConfig()
			cfg.SecurityLevel, cfg.AuthFile = tc.level, authPath
			if tc.level == "none" && tc.reason == "decrypt_failed" {
				write(t, filepath.Join(dir, "other"), "alice: other\n")
				cfg.AuthFile = filepath.Join(dir, "other")
			}
			w := &recordingWriter{}
			st := collectors.NewStats("collectd")
			l, _ := startListener(t, cfg, w, Options{Stats: st})
			send := sender(t, l)
			send(tc.pkts...)
			waitFor(t, tc.what+":"+tc.reason, func() bool { return rejected(st, tc.what, tc.reason) > 0 })
			// The listener goes on serving: a good packet of the level arrives.
			good := map[string][]byte{"none": plain, "sign": signPacket("alice", "pw", plain),
				"encrypt": encryptPacket("alice", "pw", iv, plain)}[tc.level]
			if tc.level == "none" && tc.reason == "decrypt_failed" {
				good = encryptPacket("alice", "other", iv, plain)
			}
			time.Sleep(5 * cfg.FlushInterval) // the bad packet's good lists, if any, are written
			before := len(find(w.points(), tsdb.MetricName, "load_longterm"))
			send(good)
			waitFor(t, "the good packet", func() bool { return len(find(w.points(), tsdb.MetricName, "load_longterm")) == before+1 })
			if tc.reason == "truncated" && tc.level == "sign" && before != 1 {
				t.Errorf("the value list before the corruption was not kept (%d)", before)
			}
			wantN := uint64(1)
			if tc.reason == "unknown_type" {
				wantN = 2 // samples: the list had two values
			}
			for _, r := range st.Rejections() {
				if r.What != tc.what || r.Reason != tc.reason || r.N != wantN {
					t.Errorf("unexpected count %+v", r)
				}
			}
		})
	}
}

func TestListener_Run_QueueFullDropsWithoutStalling(t *testing.T) {
	cfg := testConfig()
	cfg.QueueSize, cfg.Workers, cfg.BatchSize = 1, 1, 1
	w := &recordingWriter{block: make(chan struct{})}
	st := collectors.NewStats("collectd")
	l, _ := startListener(t, cfg, w, Options{Stats: st})
	send := sender(t, l)
	pkt := cat(hdr, loadParts)
	for range 50 {
		send(pkt)
	}
	waitFor(t, "50 datagrams read while the store is stuck", func() bool { return st.Connections.Load() == 50 })
	if n := rejected(st, "packets", "queue_full"); n < 40 {
		t.Errorf("queue_full = %d, want most of the 50 (worker holds 1, queue 1)", n)
	}
	close(w.block)
	waitFor(t, "the queued packets written", func() bool { return len(w.points()) >= 3 })
	queued := st.Connections.Load() - rejected(st, "packets", "queue_full")
	waitFor(t, "every accepted packet stored", func() bool { return st.Samples.Load() == 3*queued })
}

func TestListener_Write_StoreErrors(t *testing.T) {
	pkt := cat(hdr, loadParts)
	f := func(name string, errs []error, wantPoints, wantSamples int, what, reason string, n uint64) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Workers = 1
			w := &recordingWriter{errs: errs}
			st := collectors.NewStats("collectd")
			l, _ := startListener(t, cfg, w, Options{Stats: st})
			sender(t, l)(pkt)
			waitFor(t, "the batch handled", func() bool {
				return st.Samples.Load() == uint64(wantSamples) && rejected(st, what, reason) == n
			})
			if got := len(w.points()); got != wantPoints {
				t.Errorf("stored %d points, want %d", got, wantPoints)
			}
		})
	}
	over := tsdb.ErrOverloaded
	f("overloaded twice, then stored", []error{over, over}, 3, 3, "samples", "overloaded", 0)
	f("overloaded throughout: dropped and counted", []error{over, over, over, over, over}, 0, 0, "samples", "overloaded", 3)
	f("partial write: the rest counted by reason",
		[]error{&tsdb.PartialWriteError{Dropped: 2, First: fmt.Errorf("series x: %w", tsdb.ErrTooManySeries)}},
		0, 1, "samples", "too_many_series", 2)
	f("store failure", []error{errors.New("disk on fire")}, 0, 0, "samples", "store_error", 3)
}

func TestListener_Run_ShutdownFlushes(t *testing.T) {
	cfg := testConfig()
	cfg.FlushInterval = time.Hour
	w := &recordingWriter{}
	st := collectors.NewStats("collectd")
	l, err := New(cfg, w, Options{Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	sender(t, l)(cat(hdr, loadParts))
	waitFor(t, "the datagram read", func() bool { return st.Connections.Load() == 1 })
	time.Sleep(50 * time.Millisecond) // let a worker take it from the queue
	if len(w.points()) != 0 {
		t.Fatal("written before the flush interval")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	if len(w.points()) != 3 {
		t.Errorf("%d points after shutdown, want the pending 3", len(w.points()))
	}
	c, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatalf("the socket is still bound after Run: %v", err)
	}
	c.Close()
}

func TestNew_Errors(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	f := func(name string, mod func(*Config), want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			mod(&cfg)
			l, err := New(cfg, &recordingWriter{}, Options{})
			if err == nil {
				l.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
	f("bad level", func(c *Config) { c.SecurityLevel = "foo" }, "collectd.security_level")
	f("missing auth file", func(c *Config) { c.SecurityLevel, c.AuthFile = "sign", filepath.Join(dir, "x") }, "collectd.auth_file")
	f("missing types.db", func(c *Config) { c.TypesDB = []string{filepath.Join(dir, "types.db")} }, "collectd.typesdb")
	f("address in use", func(c *Config) { c.Addr = busy.LocalAddr().String() }, "listen collectd")
}

func TestListener_Run_Disabled(t *testing.T) {
	cfg := testConfig()
	cfg.Addr = ""
	l, err := New(cfg, &recordingWriter{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != nil {
		t.Errorf("Addr = %v, want nil", l.Addr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Run(ctx); err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestListener_Summary_OneLinePerPeriod(t *testing.T) {
	var buf bytes.Buffer
	cfg := testConfig()
	cfg.Addr = ""
	l, err := New(cfg, &recordingWriter{}, Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]uint64{}
	if attrs := l.summary(last); attrs != nil {
		t.Errorf("summary with nothing rejected = %v", attrs)
	}
	l.stats.Reject("packets", "truncated", 3)
	l.stats.Reject("samples", "nan", 2)
	l.stats.Reject("notifications", "not_stored", 1) // not a problem: not logged
	attrs := l.summary(last)
	if got := fmt.Sprint(attrs); got != "[packets_truncated 3 samples_nan 2]" {
		t.Errorf("summary = %s", got)
	}
	if attrs := l.summary(last); attrs != nil {
		t.Errorf("second summary without news = %v", attrs)
	}
	l.stats.Reject("packets", "truncated", 1)
	if got := fmt.Sprint(l.summary(last)); got != "[packets_truncated 1]" {
		t.Errorf("delta summary = %s", got)
	}
}

// gatedStore is a real store whose writes wait for gate to be closed: the
// store stuck, as when its disk stalls.
type gatedStore struct {
	db   *tsdb.DB
	gate chan struct{}
}

func (g *gatedStore) Write(ctx context.Context, pts []tsdb.Point) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.db.Write(ctx, pts)
}

// TestListener_Run_OverBudgetDrops floods the listener while its only
// worker is stuck writing to the store: the queue takes what
// collectd.max_inflight_bytes holds (31 buffers of 2 KiB in 64 KiB, far
// below queue_size), the rest is dropped and counted with reason
// "over_budget", and every packet accepted is stored once the store moves,
// as read back from it.
func TestListener_Run_OverBudgetDrops(t *testing.T) {
	scfg := tsdb.DefaultConfig()
	scfg.Path = t.TempDir()
	db, err := tsdb.Open(scfg, tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	cfg := testConfig()
	cfg.Workers, cfg.BatchSize = 1, 1
	cfg.MaxInflightBytes = maxDatagram
	g := &gatedStore{db: db, gate: make(chan struct{})}
	st := collectors.NewStats("collectd")
	l, _ := startListener(t, cfg, g, Options{Stats: st})
	send := sender(t, l)

	const flood = 100
	base := time.Now().Add(-time.Hour).Unix()
	for i := range flood {
		send(cat(strPart(partHost, "flood"), numPart(partTimeHR, uint64(base+int64(i))<<30), loadParts))
	}
	waitFor(t, "every datagram read", func() bool { return st.Connections.Load() == flood })
	fit := int(cfg.MaxInflightBytes / pooledBufCap)
	dropped := rejected(st, "packets", "over_budget")
	if dropped < flood-uint64(fit)-1 || dropped > flood-uint64(fit) {
		t.Fatalf("over_budget = %d, want %d or %d: the budget holds %d packets and the worker one",
			dropped, flood-fit-1, flood-fit, fit)
	}
	if u := l.Inflight(); u.Peak > u.Max || u.Peak < int64(fit-1)*pooledBufCap {
		t.Fatalf("budget %+v: want a high-water mark near %d, never above the budget", u, fit*pooledBufCap)
	}
	close(g.gate)
	accepted := flood - dropped
	waitFor(t, "every accepted packet stored", func() bool { return st.Samples.Load() == 3*accepted })
	waitFor(t, "the budget given back", func() bool { return l.Inflight().Used == 0 })
	if n := rejected(st, "packets", "queue_full"); n != 0 {
		t.Fatalf("queue_full = %d: the budget, not the queue, should have dropped them", n)
	}
	ss, err := db.Select(t.Context(), tsdb.MinTime, tsdb.MaxTime, tsdb.MustNewMatcher(tsdb.MatchEqual, "host", "flood"))
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for ss.Next() {
		for it := ss.At().Iterator(); it.Next(); {
			stored++
		}
	}
	if err := ss.Err(); err != nil || uint64(stored) != 3*accepted {
		t.Fatalf("read back %d samples (%v), want %d", stored, err, 3*accepted)
	}
}
