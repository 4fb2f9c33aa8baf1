package syslog

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	store "outpost/tsdb/events"
)

// startListener runs a listener on 127.0.0.1:0 over a real event store
// in a temporary directory; the cleanup stops it and checks Run's answer.
func startListener(t *testing.T, cfg Config) (*Listener, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	l, err := New(cfg, st, Options{BatchDelay: 20 * time.Millisecond, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
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
			t.Error("Run did not return 10 s after its context ended")
		}
		st.Close()
	})
	return l, st
}

// waitEvents searches st for q until it finds want events or 10 s pass.
func waitEvents(t *testing.T, st *store.Store, q string, want int) []map[string]any {
	t.Helper()
	pq, err := store.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		page, err := st.Search(t.Context(), store.SearchRequest{Query: pq, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, e := range page.Events {
			var m map[string]any
			if err := json.Unmarshal(e.Body, &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		if len(got) >= want {
			break
		}
	}
	if len(got) != want {
		t.Fatalf("search %q: %d events, want %d: %v", q, len(got), want, got)
	}
	return got
}

func dial(t *testing.T, network string, a net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, a.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestListener_Run_TCPAndUDP(t *testing.T) {
	l, st := startListener(t, DefaultConfig())
	ts := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond).Format(time.RFC3339Nano)
	u := dial(t, "udp", l.UDPAddr())
	fmt.Fprintf(u, "<38>1 %s bastion sshd 1234 - [origin ip=\"192.0.2.7\"] Accepted publickey for ops\n", ts)
	c := dial(t, "tcp", l.Addr())
	m1 := fmt.Sprintf("<86>1 %s bastion sudo - - - ops : TTY=pts/0 ; COMMAND=/bin/ls", ts)
	fmt.Fprintf(c, "%d %s", len(m1), m1)
	fmt.Fprintf(c, "<11>Dec  4 08:00:00 bastion cron[7]: newline framed\n")

	got := waitEvents(t, st, "host:bastion", 3)
	byProg := map[string]map[string]any{}
	for _, m := range got {
		byProg[m["program"].(string)] = m
	}
	f := func(prog, field string, want any) {
		t.Helper()
		if g := byProg[prog][field]; fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("%s: %s = %v, want %v", prog, field, g, want)
		}
	}
	f("sshd", "severity", "info")
	f("sshd", "facility", "auth")
	f("sshd", "pid", "1234")
	f("sshd", "sd", map[string]any{"origin": map[string]any{"ip": "192.0.2.7"}})
	f("sshd", "message", "Accepted publickey for ops")
	f("sshd", "time", ts)
	f("sshd", "peer", "127.0.0.1")
	f("sudo", "facility", "authpriv")
	f("sudo", "message", "ops : TTY=pts/0 ; COMMAND=/bin/ls")
	f("cron", "severity", "err")
	f("cron", "severity_code", 3)
	f("cron", "facility_code", 1)
	f("cron", "message", "newline framed")
	waitEvents(t, st, "severity:err AND facility:user", 1)
	if n := l.Stats().Samples.Load(); n != 3 {
		t.Errorf("Samples = %d, want 3", n)
	}
}

func TestListener_Run_GarbageFlood(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLineBytes = 1024
	cfg.MaxConnections = 4
	l, st := startListener(t, cfg)
	u := dial(t, "udp", l.UDPAddr())
	c := dial(t, "tcp", l.Addr())
	junk := []string{"no pri at all", "<999>x", "<13>1 2003-10-11 bad time", "<13>1 - h a p m [x", strings.Repeat("z", 2000), "\x00\xff\xfe<", "77777"}
	for i := 0; i < 2000; i++ {
		s := junk[i%len(junk)]
		u.Write([]byte(s))
		fmt.Fprintf(c, "%s\n", s)
	}
	// More connections than the cap: the extra ones are closed.
	for range 8 {
		dial(t, "tcp", l.Addr())
	}
	// The listener still serves, on both sockets. The kernel may drop a
	// datagram while the socket's buffer still holds the flood, so the
	// UDP line is sent again until one arrives (bounded).
	fmt.Fprintf(c, "<14>Dec  4 08:00:00 after tcp-flood: still here\n")
	waitEvents(t, st, "program:tcp-flood", 1)
	udpSent := 0
	for ; udpSent < 50 && countEvents(t, st, "program:udp-flood") == 0; udpSent++ {
		u.Write([]byte("<14>Dec  4 08:00:00 after udp-flood: still here"))
		time.Sleep(100 * time.Millisecond)
	}
	if countEvents(t, st, "program:udp-flood") == 0 {
		t.Fatalf("no UDP line arrived after the flood (%d sent)", udpSent)
	}
	rej := map[string]uint64{}
	for _, r := range l.Stats().Rejections() {
		rej[r.What+":"+r.Reason] = r.N
	}
	for _, k := range []string{"lines:no_pri", "lines:bad_pri", "lines:bad_timestamp", "lines:bad_structured_data", "lines:too_long", "connections:too_many_connections"} {
		if rej[k] == 0 {
			t.Errorf("no %s rejection counted: %v", k, rej)
		}
	}
	// Nothing of the garbage stored: every event is one of the lines above.
	if all, after := countEvents(t, st, "*"), countEvents(t, st, "host:after"); all != after {
		t.Errorf("%d events stored, %d of them the lines sent after the flood: garbage was stored", all, after)
	}
}

// countEvents returns how many stored events match q (at most 1000).
func countEvents(t *testing.T, st *store.Store, q string) int {
	t.Helper()
	pq, err := store.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	page, err := st.Search(t.Context(), store.SearchRequest{Query: pq, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Events)
}

func TestListener_Run_ShutdownFlushes(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := New(Config{Addr: "127.0.0.1:0", MaxLineBytes: 1024, MaxConnections: 2}, st, Options{BatchDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	c := dial(t, "tcp", l.Addr())
	for i := range 10 {
		fmt.Fprintf(c, "<13>Dec  4 08:00:00 h p: line %d\n", i)
	}
	c.Close()
	for deadline := time.Now().Add(5 * time.Second); l.seq.Load() < 10 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	page, err := st.Search(t.Context(), store.SearchRequest{Limit: 100})
	if err != nil || len(page.Events) != 10 {
		t.Fatalf("after shutdown: %d events, %v; want the 10 batched", len(page.Events), err)
	}
}

func TestConfig_Validate(t *testing.T) {
	f := func(c Config, want string) {
		t.Helper()
		if err := c.Validate(); fmt.Sprint(err) != want {
			t.Errorf("Validate(%+v) = %v, want %s", c, err, want)
		}
	}
	f(DefaultConfig(), "<nil>")
	f(Config{MaxLineBytes: 100, MaxConnections: 1}, "events.syslog_max_line_bytes: 100 is outside 480 to 16777216")
	f(Config{MaxLineBytes: 480, MaxConnections: 0}, "events.syslog_max_connections: 0 is below 1")
}
