package graphite

import (
	"net"
	"strings"
	"testing"
	"time"
)

// closedByPeer reports whether the listener has closed c: a read returns an
// error (EOF or reset) within 5 s rather than timing out.
func closedByPeer(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// stillOpen reports whether the listener keeps c open for another 200 ms.
func stillOpen(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestListener_Run_EvictsLongestIdle(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.MaxConnections = 3
	cfg.MinRate = 10 // a byte makes up for 100 ms
	l, stats, _ := start(t, cfg, rec, func(l *Listener) { l.evictMinIdle = 50 * time.Millisecond })

	silent := dial(t, l)
	waitFor(t, "the first connection", func() bool { return l.active.Load() == 1 })
	time.Sleep(200 * time.Millisecond)
	trickler, sender := dial(t, l), dial(t, l)
	waitFor(t, "three connections", func() bool { return l.active.Load() == 3 })
	time.Sleep(300 * time.Millisecond)
	// 31 bytes make up for 3.1 s: the sender is not idle at all; the
	// trickler's byte makes up for 100 ms of its 300: 200 ms behind; the
	// silent connection is 500 ms behind.
	send(t, sender, "real.sender 1 1700000000\n")
	send(t, trickler, "t")
	waitFor(t, "the sender's line", func() bool { return rec.count() == 1 })

	first := dial(t, l) // evicts the silent connection
	if !closedByPeer(silent) {
		t.Fatalf("the longest-idle connection was not evicted")
	}
	waitFor(t, "one eviction", func() bool { return rejected(stats, "connections", "evicted") == 1 })
	second := dial(t, l) // evicts the trickler
	if !closedByPeer(trickler) {
		t.Fatalf("the trickling connection was not evicted")
	}
	waitFor(t, "two evictions", func() bool { return rejected(stats, "connections", "evicted") == 2 })
	if !stillOpen(sender) {
		t.Fatalf("the real sender was evicted")
	}
	send(t, sender, "real.sender 2 1700000001\n")
	send(t, first, "new.first 3 1700000000\n")
	send(t, second, "new.second 4 1700000000\n")
	waitFor(t, "every line", func() bool { return rec.count() == 4 })
	if n := l.active.Load(); n != 3 {
		t.Fatalf("%d connections open, want the cap of 3", n)
	}
	if got := rejected(stats, "connections", "too_many_connections"); got != 0 {
		t.Fatalf("%d connections refused, want none", got)
	}
}

func TestListener_Run_TooSlow(t *testing.T) {
	cfg := testConfig()
	cfg.MinRate = 20
	cfg.MinRateWindow = time.Second
	t.Run("a trickle in the middle of a line is closed", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		l, stats, _ := start(t, cfg, rec)
		c := dial(t, l)
		send(t, c, "whole 1 1700000000\n")
		began := time.Now()
		for i := 0; i < 30 && !closed(t, c); i++ { // 5 B/s, at most 6 s
			c.Write([]byte("x"))
			time.Sleep(200 * time.Millisecond)
		}
		if d := time.Since(began); d < time.Second || d > 4*time.Second {
			t.Fatalf("closed after %v, want 1 to 2 windows", d)
		}
		waitFor(t, "counts", func() bool {
			return rejected(stats, "connections", "too_slow") == 1 && rejected(stats, "lines", "truncated") == 1
		})
		if got := rec.points(); len(got) != 1 {
			t.Fatalf("got %v, want the whole line", got)
		}
	})
	t.Run("a long line at the minimum rate and silence between lines are not", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		l, stats, _ := start(t, cfg, rec)
		c := dial(t, l)
		// 100 bytes in 10-byte parts every 250 ms: 40 B/s over 2.5 s.
		line := "long." + strings.Repeat("a", 80) + " 1 1700000000\n"
		for i := 0; i < len(line); i += 10 {
			send(t, c, line[i:min(i+10, len(line))])
			time.Sleep(250 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // silent, between whole lines
		send(t, c, "after.silence 2 1700000000\n")
		waitFor(t, "both lines", func() bool { return rec.count() == 2 })
		if n := rejected(stats, "connections", "too_slow"); n != 0 {
			t.Fatalf("closed as too slow")
		}
	})
	t.Run("min_rate 0 turns the check off", func(t *testing.T) {
		t.Parallel()
		rec := &recorder{}
		off := cfg
		off.MinRate = 0
		l, stats, _ := start(t, off, rec)
		c := dial(t, l)
		send(t, c, "part")
		time.Sleep(1500 * time.Millisecond)
		send(t, c, "ial 1 1700000000\n")
		waitFor(t, "the line", func() bool { return rec.count() == 1 })
		if n := rejected(stats, "connections", "too_slow"); n != 0 {
			t.Fatalf("closed as too slow")
		}
	})
}

// closed reports, without waiting, whether the listener has closed c.
func closed(t *testing.T, c net.Conn) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return err != nil && !(ok && ne.Timeout())
}

func TestListener_Run_PerSourceCap(t *testing.T) {
	rec := &recorder{}
	cfg := testConfig()
	cfg.MaxConnectionsPerSource = 2
	l, stats, _ := start(t, cfg, rec)
	a, b, over := dial(t, l), dial(t, l), dial(t, l)
	if !closedByPeer(over) {
		t.Fatalf("a third connection from 127.0.0.1 was served")
	}
	if got := rejected(stats, "connections", "too_many_from_source"); got != 1 {
		t.Fatalf("too_many_from_source = %d, want 1", got)
	}
	// Another loopback address is another source.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	other, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	defer other.Close()
	send(t, a, "a 1 1700000000\n")
	send(t, b, "b 1 1700000000\n")
	send(t, other, "other 1 1700000000\n")
	waitFor(t, "three lines", func() bool { return rec.count() == 3 })
	a.Close()
	waitFor(t, "a slot of 127.0.0.1 to free", func() bool { return l.active.Load() == 2 })
	again := dial(t, l)
	send(t, again, "again 1 1700000000\n")
	waitFor(t, "a line from the freed slot", func() bool { return rec.count() == 4 })
}
