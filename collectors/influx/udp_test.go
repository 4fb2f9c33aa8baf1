package influx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// udpTestConfig listens on a free loopback port with the defaults.
func udpTestConfig() Config {
	c := DefaultConfig()
	c.UDPAddr = "127.0.0.1:0"
	return c
}

// startUDP binds and runs a UDPListener over a recWriter with the test
// clock; the cleanup stops it. stop stops it at once and waits for Run.
func startUDP(t *testing.T, cfg Config, opts UDPOptions) (l *UDPListener, w *recWriter, stop func()) {
	t.Helper()
	w = &recWriter{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	l, err := NewUDP(cfg, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Run did not return within 15 s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return l, w, stop
}

// sendUDP sends each datagram to addr from one socket.
func sendUDP(t *testing.T, addr net.Addr, datagrams ...string) {
	t.Helper()
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitPoints waits until w holds n points (or 5 s pass) and returns them,
// sorted.
func waitPoints(t *testing.T, w *recWriter, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := w.points()
		if len(got) >= n || time.Now().After(deadline) {
			slices.Sort(got)
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestUDPListener_Run_Datagrams(t *testing.T) {
	f := func(name string, cfg Config, datagrams []string, want []string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			l, w, _ := startUDP(t, cfg, UDPOptions{BatchTimeout: 20 * time.Millisecond})
			sendUDP(t, l.Addr(), datagrams...)
			got := waitPoints(t, w, len(want))
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("points\n got %q\nwant %q", got, want)
			}
			if n := l.Stats().Connections.Load(); n != uint64(len(datagrams)) {
				t.Errorf("datagrams counted %d, want %d", n, len(datagrams))
			}
			if n := l.Stats().Samples.Load(); n != uint64(len(want)) {
				t.Errorf("samples counted %d, want %d", n, len(want))
			}
		})
	}
	now := testNow.UnixMilli()
	f("lines_with_and_without_newline", udpTestConfig(),
		[]string{"cpu,host=a usage=1.5 1700000000000000000\nmem,host=a used=7i,free=3u 1700000000001000000", "disk ok=true\n"},
		[]string{
			`cpu_usage{db="udp",host="a"} 1.5 1700000000000`,
			`mem_used{db="udp",host="a"} 7 1700000000001`,
			`mem_free{db="udp",host="a"} 3 1700000000001`,
			fmt.Sprintf(`disk_ok{db="udp"} 1 %d`, now),
		})
	custom := udpTestConfig()
	custom.UDPDB, custom.UDPPrecision = "metrics", "s"
	f("db_and_precision_keys", custom,
		[]string{"m,host=h v=2 1700000000\nm,db=own,host=h v=3 1700000001\nexec state=\"degraded\" 1700000002"},
		[]string{
			`m_v{db="metrics",host="h"} 2 1700000000000`,
			`m_v{db="own",host="h"} 3 1700000001000`,
			`exec_state_info{db="metrics",value="degraded"} 1 1700000002000`,
		})
	nodb := udpTestConfig()
	nodb.UDPDB = ""
	f("no_db_label", nodb, []string{"m v=1 1700000000000000000"}, []string{`m_v{} 1 1700000000000`})
}

func TestUDPListener_Run_BadLines(t *testing.T) {
	cfg := udpTestConfig()
	cfg.MaxLineBytes = 1024
	var logs bytes.Buffer
	var logMu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	l, w, stop := startUDP(t, cfg, UDPOptions{Logger: log, BatchTimeout: 20 * time.Millisecond})
	long := "m,tag=" + strings.Repeat("x", 2000) + " v=1 1700000000000000000"
	var datagrams []string
	for i := range 50 {
		datagrams = append(datagrams, fmt.Sprintf("good v=%d 1700000000%03d000000\nbad line\n%s\nm v=oops", i, i, long))
	}
	sendUDP(t, l.Addr(), datagrams...)
	got := waitPoints(t, w, 50)
	stop()
	if len(got) != 50 || got[0] != `good_v{db="udp"} 0 1700000000000` {
		t.Fatalf("%d good points kept, first %q", len(got), got[0])
	}
	want := []collectors.Rejection{{What: "lines", Reason: "parse", N: 100}, {What: "lines", Reason: "too_long", N: 50}}
	if r := l.Stats().Rejections(); !slices.Equal(r, want) {
		t.Errorf("rejections %v, want %v", r, want)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), "\n"); n != 1 || !strings.Contains(logs.String(), "unable to parse") {
		t.Errorf("want one rate-limited log line for 150 bad lines, got %d:\n%s", n, logs.String())
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (lw *lockedWriter) Write(b []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(b)
}

func TestUDPListener_Run_Batching(t *testing.T) {
	t.Run("by_size", func(t *testing.T) {
		l, w, _ := startUDP(t, udpTestConfig(), UDPOptions{BatchPoints: 10, BatchTimeout: time.Minute})
		var d []string
		for i := range 6 { // 6 datagrams of 4 points: written after 12 and 24 points
			d = append(d, fmt.Sprintf("m,i=%d a=1,b=2 1700000000000000000\nn,i=%d c=3,d=4 1700000000000000000", i, i))
		}
		sendUDP(t, l.Addr(), d...)
		waitPoints(t, w, 24)
		w.mu.Lock()
		defer w.mu.Unlock()
		var sizes []int
		for _, c := range w.calls {
			sizes = append(sizes, len(c))
			checkPoints(t, c)
		}
		if !slices.Equal(sizes, []int{12, 12}) {
			t.Fatalf("write sizes %v, want [12 12]", sizes)
		}
	})
	t.Run("by_time", func(t *testing.T) {
		l, w, _ := startUDP(t, udpTestConfig(), UDPOptions{BatchTimeout: 300 * time.Millisecond})
		start := time.Now()
		sendUDP(t, l.Addr(), "a v=1 1700000000000000000", "b v=1 1700000000000000000", "c v=1 1700000000000000000")
		got := waitPoints(t, w, 3)
		took := time.Since(start)
		w.mu.Lock()
		calls := len(w.calls)
		w.mu.Unlock()
		if len(got) != 3 || calls != 1 {
			t.Fatalf("%d points in %d writes, want 3 in 1", len(got), calls)
		}
		if took < 250*time.Millisecond || took > 3*time.Second {
			t.Errorf("partial batch written after %v, want about 300ms", took)
		}
	})
}

func TestUDPListener_Run_ShutdownFlushes(t *testing.T) {
	l, w, stop := startUDP(t, udpTestConfig(), UDPOptions{BatchTimeout: time.Minute})
	var d []string
	for i := range 20 {
		d = append(d, fmt.Sprintf("m v=%d %d", i, 1700000000000000000+int64(i)*1e6))
	}
	sendUDP(t, l.Addr(), d...)
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Connections.Load() < 20 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(w.points()); n != 0 {
		t.Fatalf("%d points written before the batch was full or due", n)
	}
	stop()
	if n := len(w.points()); n != 20 {
		t.Fatalf("%d points written at shutdown, want 20", n)
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
}

func TestUDPListener_Write_StoreErrors(t *testing.T) {
	f := func(name string, fail func(call int, pts []tsdb.Point) error, samples uint64, want []collectors.Rejection) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			cfg := udpTestConfig()
			w := &recWriter{}
			var mu sync.Mutex
			calls := 0
			w.fail = func(pts []tsdb.Point) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				return fail(calls, pts)
			}
			l, err := NewUDP(cfg, w, UDPOptions{BatchTimeout: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- l.Run(ctx) }()
			sendUDP(t, l.Addr(), "a v=1 1700000000000000000\nb v=2 1700000000000000000\nc v=3 1700000000000000000")
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) && l.Stats().Samples.Load()+rejectedSamples(l.Stats()) < 3 {
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			if got := l.Stats().Samples.Load(); got != samples {
				t.Errorf("samples %d, want %d", got, samples)
			}
			if got := l.Stats().Rejections(); !slices.Equal(got, want) {
				t.Errorf("rejections %v, want %v", got, want)
			}
		})
	}
	f("partial", func(int, []tsdb.Point) error {
		return &tsdb.PartialWriteError{Dropped: 2, First: fmt.Errorf("series x: %w", tsdb.ErrTooManySeries)}
	}, 1, []collectors.Rejection{{What: "samples", Reason: "too_many_series", N: 2}})
	f("overloaded_then_written", func(call int, _ []tsdb.Point) error {
		if call <= 2 {
			return tsdb.ErrOverloaded
		}
		return nil
	}, 3, []collectors.Rejection{})
	f("overloaded_for_good", func(int, []tsdb.Point) error { return tsdb.ErrOverloaded },
		0, []collectors.Rejection{{What: "samples", Reason: "overloaded", N: 3}})
	f("store_error", func(int, []tsdb.Point) error { return errors.New("disk on fire") },
		0, []collectors.Rejection{{What: "samples", Reason: "store_error", N: 3}})
}

// rejectedSamples sums the samples rejections of s.
func rejectedSamples(s *collectors.Stats) uint64 {
	var n uint64
	for _, r := range s.Rejections() {
		if r.What == "samples" {
			n += r.N
		}
	}
	return n
}

func TestUDPListener_Run_ConcurrentSenders(t *testing.T) {
	l, w, stop := startUDP(t, udpTestConfig(), UDPOptions{BatchPoints: 500})
	const senders, perSender, lines = 4, 100, 10
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			c, err := net.Dial("udp", l.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			for d := range perSender {
				var b strings.Builder
				for i := range lines {
					fmt.Fprintf(&b, "m,sender=%d v=%d %d\n", s, d*lines+i, 1700000000000000000+int64(d*lines+i)*1e6)
				}
				if _, err := c.Write([]byte(b.String())); err != nil {
					t.Error(err)
					return
				}
				if d%20 == 19 {
					time.Sleep(time.Millisecond) // stay within the socket buffer
				}
			}
		})
	}
	wg.Wait()
	got := waitPoints(t, w, senders*perSender*lines)
	stop()
	if len(got) != senders*perSender*lines {
		t.Fatalf("%d points, want %d (datagrams read %d)", len(got), senders*perSender*lines, l.Stats().Connections.Load())
	}
	if got := slices.Compact(got); len(got) != senders*perSender*lines {
		t.Fatalf("%d distinct points, want %d", len(got), senders*perSender*lines)
	}
}

func TestUDPListener_Run_Disabled(t *testing.T) {
	l, err := NewUDP(DefaultConfig(), &recWriter{}, UDPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != nil {
		t.Fatalf("disabled listener bound %v", l.Addr())
	}
	if l.Stats().Protocol != UDPProtocol {
		t.Errorf("protocol %q", l.Stats().Protocol)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run of a disabled listener did not return after cancel")
	}
	if err := l.Run(context.Background()); err == nil {
		t.Error("second Run returned nil")
	}
	if err := l.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestNewUDP_Errors(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	f := func(name string, mod func(*Config), want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			cfg := DefaultConfig()
			mod(&cfg)
			_, err := NewUDP(cfg, &recWriter{}, UDPOptions{})
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err %v, want one containing %q", err, want)
			}
		})
	}
	f("port_in_use", func(c *Config) { c.UDPAddr = taken.LocalAddr().String() }, "listen influx udp")
	f("bad_addr", func(c *Config) { c.UDPAddr = "8089" }, `influx.udp_addr: "8089" is not host:port`)
	f("bad_precision", func(c *Config) { c.UDPPrecision = "d" }, `influx.udp_precision: "d"`)
	f("bad_read_buffer", func(c *Config) { c.UDPReadBuffer = -1 }, "influx.udp_read_buffer: -1")
}

func TestConfig_Validate_UDPDefaults(t *testing.T) {
	c := DefaultConfig()
	if c.UDPAddr != "" || c.UDPDB != "udp" || c.UDPPrecision != "ns" || c.UDPReadBuffer != 8<<20 {
		t.Fatalf("UDP defaults %+v: want off, db udp (InfluxDB 1.x), ns, 8 MiB", c)
	}
	for _, p := range []string{"", "n", "ns", "u", "us", "µs", "ms", "s", "m", "h"} {
		c.UDPPrecision = p
		if err := c.Validate(); err != nil {
			t.Errorf("precision %q: %v", p, err)
		}
	}
}
