package ui

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawGet sends one keep-alive GET on c and reads the answer's status line.
func rawGet(t *testing.T, c net.Conn, path string) string {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Status
}

func dial(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitOpen waits (bounded) until the server counts n open connections.
func waitOpen(t *testing.T, s *Server, n int) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if open, _ := s.Connections(); open == n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	open, _ := s.Connections()
	t.Fatalf("open connections = %d, want %d", open, n)
}

func TestServer_MaxConnections_IdleMakesRoom(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.Addr, cfg.MaxConnections = "127.0.0.1:0", 3
	s := newTestServerConfig(t, cfg, AuthConfig{})
	base := startTestServer(t, s)
	for i := 0; i < 3; i++ { // three idle keep-alive connections fill the cap
		if st := rawGet(t, dial(t, base), "/ping"); !strings.HasPrefix(st, "200") {
			t.Fatalf("GET /ping = %s", st)
		}
	}
	waitOpen(t, s, 3)
	// A fourth client is served: the longest-idle connection makes room.
	for i := 0; i < 5; i++ {
		if st := rawGet(t, dial(t, base), "/ping"); !strings.HasPrefix(st, "200") {
			t.Fatalf("GET /ping past the cap with idle connections = %s, want 200", st)
		}
	}
	if _, refused := s.Connections(); refused != 0 {
		t.Errorf("refused = %d, want 0", refused)
	}
}

func TestServer_MaxConnections_BusyRefused503(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.Addr, cfg.MaxConnections = "127.0.0.1:0", 2
	s := newTestServerConfig(t, cfg, AuthConfig{})
	base := startTestServer(t, s)
	// Two clients that send half a request hold their slots (busy, not idle).
	for i := 0; i < 2; i++ {
		if _, err := io.WriteString(dial(t, base), "GET /ping HTTP/1.1\r\nHo"); err != nil {
			t.Fatal(err)
		}
	}
	waitOpen(t, s, 2)
	c := dial(t, base)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the refusal: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(b), "http.max_connections") {
		t.Errorf("past the cap: %d Retry-After=%q %q, want 503 with Retry-After naming the key",
			resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if _, refused := s.Connections(); refused != 1 {
		t.Errorf("refused = %d, want 1", refused)
	}
}

func TestServerConfig_Validate_MaxConnections(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.MaxConnections = 0
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "http.max_connections") {
		t.Errorf("Validate = %v, want an error naming http.max_connections", err)
	}
}
