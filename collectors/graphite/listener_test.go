package graphite

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// sendFile streams a captured file over one TCP connection and closes it.
func sendFile(t *testing.T, l *Listener, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l)
	send(t, c, string(data))
	c.Close()
	return data
}

func TestListener_Run_CapturedCollectd(t *testing.T) {
	path := conformance(t, "graphite-collectd-write_graphite.txt")
	rec := &recorder{}
	l, stats, _ := start(t, testConfig(), rec)
	data := sendFile(t, l, path)
	lines := bytes.Count(data, []byte("\n"))
	nans := bytes.Count(data, []byte(" nan "))
	if lines != 200 || nans != 48 || bytes.Count(data, []byte("\r\n")) != 200 {
		t.Fatalf("capture changed: %d lines, %d nan, want 200 CRLF lines and 48 nan", lines, nans)
	}
	waitFor(t, "every sample", func() bool { return rec.count() == lines-nans && rejected(stats, "samples", "nan") == uint64(nans) })
	if got := rejected(stats, "lines", "parse"); got != 0 {
		t.Fatalf("%d parse errors in collectd's stream", got)
	}
	if got := stats.Samples.Load(); got != uint64(lines-nans) {
		t.Fatalf("Samples = %d, want %d", got, lines-nans)
	}
	if stats.Bytes.Load() != uint64(len(data)) || stats.Connections.Load() != 1 {
		t.Fatalf("Bytes = %d (want %d), Connections = %d", stats.Bytes.Load(), len(data), stats.Connections.Load())
	}
	load := rec.byName("collectd.peerhost.load.load.shortterm")
	if len(load) == 0 || load[0].V != 0.0927734375 || load[0].T != 1795434230000 || len(load[0].Labels) != 1 {
		t.Fatalf("load.shortterm: got %v", load)
	}
	for _, name := range []string{"collectd.peerhost.memory.memory-used", "collectd.peerhost.cpu-0.cpu-idle",
		"collectd.peerhost.df-root.df_complex-free", "collectd.peerhost.interface-lo.if_octets.rx"} {
		if len(rec.byName(name)) == 0 {
			t.Errorf("no sample of %s", name)
		}
	}
}

func TestListener_Run_CapturedTelegraf(t *testing.T) {
	path := conformance(t, "graphite-telegraf-outputs-graphite.txt")
	t.Run("plain", func(t *testing.T) {
		rec := &recorder{}
		l, stats, _ := start(t, testConfig(), rec)
		sendFile(t, l, path)
		waitFor(t, "200 samples", func() bool { return rec.count() == 200 })
		if n := len(stats.Rejections()); n != 0 {
			t.Fatalf("rejections: %v", stats.Rejections())
		}
		f := func(name string, v float64) {
			t.Helper()
			got := rec.byName(name)
			if len(got) == 0 || got[0].V != v || got[0].T != 1795434232000 {
				t.Errorf("%s: got %v, want %v at 1795434232000", name, got, v)
			}
		}
		f("telegraf.peerhost.Zürich.exec_unicode.temp", 21.5)
		f("telegraf.peerhost.a_b=c.exec_edge.f_int", -42)
		f("telegraf.peerhost.us-west.my_meas_x.big", 9007199254740993)
		f("telegraf.peerhost.us-west.my_meas_x.sci", 1e-7)
		f("telegraf.peerhost.mem.used_percent", 1.8368267303492467)
	})
	t.Run("templates", func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig()
		cfg.Templates = []string{
			"telegraf.*.cpu-total.cpu .host.cpu.measurement.field",
			"telegraf.*.mem .host.measurement.field",
			"telegraf.*.system .host.measurement.field",
			".host.measurement*",
		}
		cfg.Tags = []string{"source=telegraf"}
		l, _, _ := start(t, cfg, rec)
		sendFile(t, l, path)
		waitFor(t, "200 samples", func() bool { return rec.count() == 200 })
		f := func(want tsdb.Labels) {
			t.Helper()
			for _, p := range rec.points() {
				if p.Labels.Equal(want) {
					return
				}
			}
			t.Errorf("no series %v", want)
		}
		f(lbl("cpu_usage_idle", "cpu", "cpu-total", "host", "peerhost", "source", "telegraf"))
		f(lbl("mem_total", "host", "peerhost", "source", "telegraf"))
		f(lbl("system_load1", "host", "peerhost", "source", "telegraf"))
		f(lbl("Zürich.exec_unicode.temp", "host", "peerhost", "source", "telegraf"))
	})
}

func TestListener_Run_SplitReads(t *testing.T) {
	rec := &recorder{}
	l, _, _ := start(t, testConfig(), rec)
	c := dial(t, l)
	for _, piece := range []string{"a.b", ".c 1", ".5 17000", "00000\r", "\nx.y 2 1700000001\n", "z 3 170000000", "2\n"} {
		send(t, c, piece)
		time.Sleep(5 * time.Millisecond)
	}
	waitFor(t, "3 samples", func() bool { return rec.count() == 3 })
	want := []tsdb.Point{
		{Labels: lbl("a.b.c"), T: 1700000000000, V: 1.5},
		{Labels: lbl("x.y"), T: 1700000001000, V: 2},
		{Labels: lbl("z"), T: 1700000002000, V: 3},
	}
	if got := rec.points(); !samePoints(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestListener_Run_BadInput(t *testing.T) {
	rec := &recorder{}
	l, stats, _ := start(t, testConfig(), rec)
	c := dial(t, l)
	long := "huge." + strings.Repeat("x", 1<<20) + " 1 1700000000\n"
	send(t, c, "good.1 1 1700000000\n"+long+"good.2 2 1700000000\n")
	send(t, c, "nan.v nan 1700000000\nnan.neg -nan 1700000000\ninf.v inf 1700000000\nneg.inf -Inf 1700000000\n")
	send(t, c, "bad.value abc 1700000000\nbad.time 1 soon\nbad.fields 1 2 3\n;k=v 1\ngood.3 3 1700000000\n")
	c.Close()
	waitFor(t, "5 samples", func() bool { return rec.count() == 5 })
	waitFor(t, "counts", func() bool { return stats.Samples.Load() == 5 })
	for _, n := range []string{"good.1", "good.2", "good.3"} {
		if len(rec.byName(n)) != 1 {
			t.Errorf("%s was not kept", n)
		}
	}
	if p := rec.byName("inf.v"); len(p) != 1 || !math.IsInf(p[0].V, 1) {
		t.Errorf("inf.v: got %v, want +Inf stored as it is", p)
	}
	if p := rec.byName("neg.inf"); len(p) != 1 || !math.IsInf(p[0].V, -1) {
		t.Errorf("neg.inf: got %v", p)
	}
	f := func(what, reason string, want uint64) {
		t.Helper()
		if got := rejected(stats, what, reason); got != want {
			t.Errorf("rejected %s/%s = %d, want %d (all: %v)", what, reason, got, want, stats.Rejections())
		}
	}
	f("lines", "too_long", 1)
	f("samples", "nan", 2)
	f("lines", "parse", 4)
}

func TestListener_Run_TruncatedAtClose(t *testing.T) {
	t.Run("clean close parses the last line", func(t *testing.T) {
		rec := &recorder{}
		l, stats, _ := start(t, testConfig(), rec)
		c := dial(t, l)
		send(t, c, "first 1 1700000000\nlast 2 1700000000")
		c.CloseWrite()
		waitFor(t, "2 samples", func() bool { return rec.count() == 2 })
		if len(rec.byName("last")) != 1 || rejected(stats, "lines", "truncated") != 0 {
			t.Fatalf("got %v, rejections %v", rec.points(), stats.Rejections())
		}
	})
	t.Run("reset drops and counts the partial line", func(t *testing.T) {
		rec := &recorder{}
		l, stats, _ := start(t, testConfig(), rec)
		c := dial(t, l)
		send(t, c, "first 1 1700000000\nlast 2 17000")
		waitFor(t, "the first line", func() bool { return rec.count() == 1 })
		c.SetLinger(0)
		c.Close() // RST
		waitFor(t, "truncated", func() bool { return rejected(stats, "lines", "truncated") == 1 })
		if rec.count() != 1 {
			t.Fatalf("got %v", rec.points())
		}
	})
}

func TestListener_Run_ConnectionFlood(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.MaxConnections = 50
	// No connection here falls an hour behind graphite.min_rate, so none is
	// evicted: the 450 over the cap are refused (slots_test.go evicts).
	l, stats, _ := start(t, cfg, rec, func(l *Listener) { l.evictMinIdle = time.Hour })
	conns := make([]net.Conn, 0, 500)
	for range 500 {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", len(conns), err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	waitFor(t, "450 rejections", func() bool { return rejected(stats, "connections", "too_many_connections") == 450 })
	if n := l.active.Load(); n != 50 {
		t.Fatalf("%d connections served, want the cap of 50", n)
	}
	// the first 50 are served; the others were closed at once
	send(t, conns[0], "served 1 1700000000\n")
	conns[499].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conns[499].Read(make([]byte, 1)); err == nil {
		t.Fatalf("a connection over the cap was not closed")
	}
	waitFor(t, "the served line", func() bool { return rec.count() == 1 })
	for _, c := range conns[:50] {
		c.Close()
	}
	waitFor(t, "connections to end", func() bool { return l.active.Load() == 0 })
	c := dial(t, l)
	send(t, c, "after 1 1700000000\n")
	waitFor(t, "a line after the flood", func() bool { return rec.count() == 2 })
	if got := stats.Connections.Load(); got != 51 {
		t.Fatalf("Connections = %d, want 51", got)
	}
}

func TestListener_Run_IdleTimeout(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.IdleTimeout = time.Second
	l, stats, _ := start(t, cfg, rec)
	c := dial(t, l)
	send(t, c, "kept 1 1700000000\npartial 2")
	began := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read: %v, want the server to close the connection", err)
	}
	if d := time.Since(began); d < 900*time.Millisecond || d > 5*time.Second {
		t.Fatalf("closed after %v, want about 1s", d)
	}
	waitFor(t, "counts", func() bool {
		return rejected(stats, "connections", "idle_timeout") == 1 && rejected(stats, "lines", "truncated") == 1
	})
	if got := rec.points(); len(got) != 1 || got[0].Labels.Get(tsdb.MetricName) != "kept" {
		t.Fatalf("got %v", got)
	}
}

func TestListener_Run_Batching(t *testing.T) {
	t.Run("by size", func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig()
		cfg.BatchSize, cfg.BatchTimeout = 3, time.Minute
		l, _, _ := start(t, cfg, rec)
		c := dial(t, l)
		send(t, c, "a 1 1\na 2 2\na 3 3\na 4 4\n")
		waitFor(t, "a full batch", func() bool { return rec.count() == 3 })
		time.Sleep(50 * time.Millisecond)
		if rec.count() != 3 {
			t.Fatalf("an incomplete batch was written before its time")
		}
		c.Close()
		waitFor(t, "the rest at close", func() bool { return rec.count() == 4 })
	})
	t.Run("by time", func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig()
		cfg.BatchTimeout = 100 * time.Millisecond
		l, _, _ := start(t, cfg, rec)
		c := dial(t, l)
		began := time.Now()
		send(t, c, "a 1 1\n")
		waitFor(t, "the timed batch", func() bool { return rec.count() == 1 })
		if d := time.Since(began); d < 90*time.Millisecond {
			t.Fatalf("written after %v, before the batch timeout", d)
		}
	})
	t.Run("steady trickle", func(t *testing.T) {
		rec := &recorder{}
		cfg := testConfig()
		cfg.BatchTimeout = 50 * time.Millisecond
		l, _, _ := start(t, cfg, rec)
		c := dial(t, l)
		began := time.Now()
		for rec.count() == 0 && time.Since(began) < 5*time.Second {
			send(t, c, "a 1 1\n") // faster than the read deadline can expire
			time.Sleep(time.Millisecond)
		}
		if rec.count() == 0 {
			t.Fatalf("nothing written during 5s of a steady trickle")
		}
	})
}

func TestListener_Run_UDP(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.MaxLineBytes = 256
	l, stats, _ := start(t, cfg, rec)
	c, err := net.Dial("udp", l.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	send(t, c, "u.a 1 1700000000\r\nu.b nan 1700000000\nu.c x\nu.d 4")
	send(t, c, strings.Repeat("y", 300)+" 1\nu.e 5 1700000000\n")
	waitFor(t, "3 samples", func() bool { return rec.count() == 3 })
	waitFor(t, "counts", func() bool { return stats.Connections.Load() == 2 && rejected(stats, "lines", "too_long") == 1 })
	if rejected(stats, "samples", "nan") != 1 || rejected(stats, "lines", "parse") != 1 {
		t.Fatalf("rejections %v", stats.Rejections())
	}
	if p := rec.byName("u.d"); len(p) != 1 || p[0].V != 4 || p[0].T != fixedNow().UnixMilli() {
		t.Fatalf("u.d: got %v, want 4 at the receive time", p)
	}
}

func TestListener_Run_ShutdownFlushes(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.BatchTimeout = time.Minute
	l, _, stop := start(t, cfg, rec)
	c := dial(t, l)
	send(t, c, "pending 1 1700000000\n")
	u, err := net.Dial("udp", l.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	send(t, u, "pending.udp 2 1700000000\n")
	time.Sleep(100 * time.Millisecond)
	if rec.count() != 0 {
		t.Fatalf("written before the batch timeout")
	}
	stop()
	if got := rec.count(); got != 2 {
		t.Fatalf("after Run returned: %d points written, want the 2 pending ones", got)
	}
	if _, err := bufio.NewReader(c).ReadByte(); err == nil {
		t.Fatalf("connection still open after shutdown")
	}
}

func TestNew_Addr(t *testing.T) {
	t.Run("port 0 binds TCP and UDP to one port", func(t *testing.T) {
		l, err := New(testConfig(), &recorder{}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		tp, up := l.Addr().(*net.TCPAddr).Port, l.UDPAddr().(*net.UDPAddr).Port
		if tp == 0 || tp != up {
			t.Fatalf("TCP port %d, UDP port %d", tp, up)
		}
	})
	t.Run("port in use", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		cfg := testConfig()
		cfg.Addr = busy.Addr().String()
		if _, err := New(cfg, &recorder{}, Options{}); err == nil {
			t.Fatalf("New bound a port in use")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		cfg := testConfig()
		cfg.Addr = ""
		l, stats, stop := start(t, cfg, &recorder{})
		if l.Addr() != nil || l.UDPAddr() != nil || stats == nil {
			t.Fatalf("a disabled listener has addresses %v %v", l.Addr(), l.UDPAddr())
		}
		stop()
	})
	t.Run("invalid config", func(t *testing.T) {
		cfg := testConfig()
		cfg.Templates = []string{"host.region.rack"}
		if _, err := New(cfg, &recorder{}, Options{}); err == nil || !strings.Contains(err.Error(), "graphite.templates[0]") {
			t.Fatalf("New = %v", err)
		}
	})
}
