package graphite

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/tsdb"
)

// openStore opens a real store in a temporary directory, closed when the
// test ends (after the listener, whose cleanup was registered later).
func openStore(t *testing.T) *tsdb.DB {
	t.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	db, err := tsdb.Open(cfg, tsdb.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

// storedSamples reads back from db the samples of every series whose metric
// name matches re.
func storedSamples(t *testing.T, db *tsdb.DB, re string) int {
	t.Helper()
	ss, err := db.Select(t.Context(), tsdb.MinTime, tsdb.MaxTime, tsdb.MustNewMatcher(tsdb.MatchRegexp, tsdb.MetricName, re))
	if err != nil {
		t.Fatalf("select %s: %v", re, err)
	}
	n := 0
	for ss.Next() {
		it := ss.At().Iterator()
		for it.Next() {
			n++
		}
		if err := it.Err(); err != nil {
			t.Fatalf("read %s: %v", ss.At().Labels, err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select %s: %v", re, err)
	}
	return n
}

// budgetConfig is testConfig with the smallest budget lines of the default
// graphite.max_line_bytes allow (1.6 MiB).
func budgetConfig() Config {
	cfg := testConfig()
	cfg.MaxInflightBytes = minInflightBytes(cfg.MaxLineBytes)
	return cfg
}

// checkBudget checks that the budget was never exceeded and, once every
// connection has ended, that everything was given back.
func checkBudget(t *testing.T, l *Listener, ended bool) {
	t.Helper()
	u := l.Inflight()
	if u.Peak > u.Max || u.Used < 0 {
		t.Fatalf("budget %+v: the high-water mark passed the budget", u)
	}
	if ended && u.Used != 0 {
		t.Fatalf("budget %+v: %d bytes still held after every connection ended", u, u.Used)
	}
}

// TestListener_Inflight_ManyConnections has 40 connections push 1,500 lines
// each at once into a budget that holds what about five of them parse:
// connections wait for the budget (back-pressure, not reading their
// sockets), the budget is never exceeded, and every line is stored, as
// read back from the store.
func TestListener_Inflight_ManyConnections(t *testing.T) {
	const conns, lines, series = 40, 1500, 10
	db := openStore(t)
	cfg := budgetConfig()
	cfg.BatchTimeout = time.Minute // batches leave when the budget is contended or the connection ends
	l, stats, stop := start(t, cfg, db)

	base := time.Now().Add(-24 * time.Hour).Unix()
	cs := make([]net.Conn, conns)
	for i := range cs {
		cs[i] = dial(t, l)
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			var b strings.Builder
			for j := range lines {
				fmt.Fprintf(&b, "bp.c%02d.s%d %d %d\n", i, j%series, j, base+int64(j))
			}
			if _, err := c.Write([]byte(b.String())); err != nil {
				t.Errorf("connection %d: write: %v", i, err)
			}
		})
	}
	wg.Wait()
	waitFor(t, "a connection to wait for the budget", func() bool { return l.Inflight().Waits > 0 })
	checkBudget(t, l, false)
	for _, c := range cs {
		c.Close()
	}
	const total = conns * lines
	waitFor(t, "every line written", func() bool { return stats.Samples.Load() == total })
	if got := storedSamples(t, db, `bp\..+`); got != total {
		t.Fatalf("read back %d samples, want %d", got, total)
	}
	if rs := stats.Rejections(); len(rs) != 0 {
		t.Fatalf("rejections: %v", rs)
	}
	stop()
	checkBudget(t, l, true)
	u := l.Inflight()
	t.Logf("budget %d B: high-water mark %d B, %d waits", u.Max, u.Peak, u.Waits)
}

// TestListener_Inflight_UDPFlood fills the budget with TCP connections that
// each hold a big read buffer (a 2 KiB line in the making), then floods
// the UDP socket: every datagram is dropped and counted with reason
// "over_budget". Once the TCP connections end, datagrams are stored again.
func TestListener_Inflight_UDPFlood(t *testing.T) {
	db := openStore(t)
	cfg := budgetConfig()
	cfg.MinRate = 0 // the holders stay in the middle of a line
	l, stats, stop := start(t, cfg, db)

	perHolder := int64(readBufSize + grantBytes) // a big read buffer, and a grant for the batch
	holders := int(cfg.MaxInflightBytes / perHolder)
	if free := cfg.MaxInflightBytes - int64(holders)*perHolder; free >= grantBytes {
		t.Fatalf("%d holders leave %d bytes free, room for a datagram", holders, free)
	}
	cs := make([]net.Conn, holders)
	for i := range cs {
		cs[i] = dial(t, l)
		send(t, cs[i], fmt.Sprintf("hold.c%02d;pad=%s", i, strings.Repeat("x", 2<<10)))
	}
	waitFor(t, "the holders to fill the budget", func() bool { return l.Inflight().Used == int64(holders)*perHolder })

	u, err := net.Dial("udp", l.UDPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	now := time.Now().Unix()
	const flood = 100
	for i := range flood {
		fmt.Fprintf(u, "flood.a %d %d\nflood.b %d %d\n", i, now, i, now)
	}
	waitFor(t, "every datagram counted", func() bool { return rejected(stats, "datagrams", "over_budget") == flood })
	checkBudget(t, l, false)

	for _, c := range cs {
		c.Close() // the line in the making has no value: a parse error each
	}
	waitFor(t, "the holders to give the budget back", func() bool { return l.Inflight().Used == 0 })
	fmt.Fprintf(u, "flood.after 1 %d\n", now)
	waitFor(t, "a datagram stored after the flood", func() bool { return stats.Samples.Load() == 1 })
	if got := storedSamples(t, db, `flood\..+`); got != 1 {
		t.Fatalf("read back %d flood samples, want only flood.after", got)
	}
	if got := rejected(stats, "lines", "parse"); got != uint64(holders) {
		t.Fatalf("lines/parse = %d, want %d (the holders' lines)", got, holders)
	}
	stop()
	checkBudget(t, l, true)
}

// TestListener_Inflight_SilentHoldNothing: connections that sent a burst
// and went silent, still open, give back all they held once their batch
// is written.
func TestListener_Inflight_SilentHoldNothing(t *testing.T) {
	const conns, lines = 20, 100
	rec := &recorder{}
	l, stats, _ := start(t, testConfig(), rec)
	for i := range conns {
		c := dial(t, l)
		var b strings.Builder
		for j := range lines {
			fmt.Fprintf(&b, "silent.c%02d %d 1700000000\n", i, j)
		}
		send(t, c, b.String())
	}
	waitFor(t, "every line written", func() bool { return stats.Samples.Load() == conns*lines })
	waitFor(t, "the open, silent connections to hold nothing", func() bool { return l.Inflight().Used == 0 })
	if u := l.Inflight(); u.Peak == 0 {
		t.Fatalf("budget %+v: nothing was ever charged", u)
	}
}

// TestListener_Inflight_LongLines: a 4 MiB line over graphite.max_line_bytes
// is skipped without the read buffer growing past its first size; under
// a larger max_line_bytes a 600 KiB line grows it, each step charged, and
// is stored.
func TestListener_Inflight_LongLines(t *testing.T) {
	t.Run("over the limit", func(t *testing.T) {
		rec := &recorder{}
		l, stats, stop := start(t, testConfig(), rec)
		c := dial(t, l)
		send(t, c, "long."+strings.Repeat("x", 4<<20)+" 1\nshort.line 2 1700000000\n")
		c.Close()
		waitFor(t, "the short line", func() bool { return rec.count() == 1 })
		if got := rejected(stats, "lines", "too_long"); got != 1 {
			t.Fatalf("lines/too_long = %d, want 1", got)
		}
		stop()
		checkBudget(t, l, true)
		if u := l.Inflight(); u.Peak > readBufSize+2*grantBytes {
			t.Fatalf("budget %+v: a skipped line took more than one read buffer", u)
		}
	})
	t.Run("under the limit", func(t *testing.T) {
		db := openStore(t)
		cfg := testConfig()
		cfg.MaxLineBytes = 1 << 20
		cfg.MaxInflightBytes = minInflightBytes(cfg.MaxLineBytes)
		l, stats, stop := start(t, cfg, db)
		c := dial(t, l)
		ts := time.Now().Unix()
		send(t, c, fmt.Sprintf("long.line;blob=%s 1 %d\n", strings.Repeat("y", 600<<10), ts))
		c.Close()
		waitFor(t, "the long line", func() bool { return stats.Samples.Load() == 1 })
		if got := storedSamples(t, db, `long\.line`); got != 1 {
			t.Fatalf("read back %d samples, want 1", got)
		}
		stop()
		checkBudget(t, l, true)
		if u := l.Inflight(); u.Peak < 1<<20 {
			t.Fatalf("budget %+v: the read buffer's growth to 1 MiB was not charged", u)
		}
	})
}
