package ui

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newTestServer returns a server on 127.0.0.1:0 with one route per role
// (each answering 200 "ok") and one per flavour under /flavour/.
func newTestServer(t *testing.T, auth AuthConfig) *Server {
	t.Helper()
	cfg := DefaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	return newTestServerConfig(t, cfg, auth)
}

func newTestServerConfig(t *testing.T, cfg ServerConfig, auth AuthConfig) *Server {
	t.Helper()
	s, err := NewServer(cfg, auth, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	s.Mount("GET /ping", RolePublic, refuseJSON, ok)
	s.Mount("GET /read", RoleRead, refuseJSON, ok)
	s.Mount("POST /write", RoleWrite, refuseJSON, ok)
	s.Mount("POST /admin", RoleAdmin, RefuseText, ok)
	s.Mount("GET /refuse/text", RoleRead, RefuseText, ok)
	s.Mount("GET /refuse/json", RoleRead, refuseJSON, ok)
	return s
}

// refuseJSON stands for an API package's Refuser: it writes what it was
// given, so that tests see what the server passed.
func refuseJSON(w http.ResponseWriter, r *http.Request, status int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"status\":%d,\"reason\":%q}\n", status, reason)
}

// startTestServer runs s until the test ends and returns its base URL. The
// cleanup checks that Run returned nil.
func startTestServer(t *testing.T, s *Server) string {
	t.Helper()
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
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
	return "http://" + s.Addr().String()
}

func TestServer_Mount_Refusers(t *testing.T) {
	s := newTestServer(t, AuthConfig{Tokens: []Token{{"tok-write", RoleWrite}}})
	base := startTestServer(t, s)
	f := func(path, tok string, wantStatus int, wantType, wantBody, wantAuthn string) {
		t.Helper()
		r, _ := http.NewRequestWithContext(t.Context(), "GET", base+path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus || string(b) != wantBody ||
			resp.Header.Get("Content-Type") != wantType || resp.Header.Get("WWW-Authenticate") != wantAuthn {
			t.Fatalf("GET %s: %d %q %q %q\nwant %d %q %q %q", path,
				resp.StatusCode, resp.Header.Get("Content-Type"), b, resp.Header.Get("WWW-Authenticate"),
				wantStatus, wantType, wantBody, wantAuthn)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s: refusal without nosniff", path)
		}
	}
	const js, txt = "application/json", "text/plain; charset=utf-8"
	const basic, bearer = `Basic realm="outpost", charset="UTF-8"`, `Bearer realm="outpost"`
	f("/refuse/json", "", 401, js, `{"status":401,"reason":"a token is required"}`+"\n", bearer)
	f("/refuse/json", "nope", 401, js, `{"status":401,"reason":"unknown token"}`+"\n", bearer)
	f("/refuse/text", "", 401, txt, "authorization failed: a token is required\n", basic)
	const forbidden = "a write token may not use a route that needs the read role"
	f("/refuse/json", "tok-write", 403, js, `{"status":403,"reason":"`+forbidden+`"}`+"\n", "")
	f("/refuse/text", "tok-write", 403, txt, "forbidden: "+forbidden+"\n", "")
}

func TestServerConfig_Validate(t *testing.T) {
	f := func(mod func(*ServerConfig), want string) {
		t.Helper()
		c := DefaultServerConfig()
		mod(&c)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Fatalf("Validate = %q, want %q", got, want)
		}
	}
	f(func(*ServerConfig) {}, "")
	f(func(c *ServerConfig) { c.Addr = "127.0.0.1:0" }, "")
	f(func(c *ServerConfig) { c.Addr = "[::1]:8086" }, "")
	f(func(c *ServerConfig) { c.Addr = "8086" }, `http.addr: "8086" is not host:port`)
	f(func(c *ServerConfig) { c.Addr = ":http" }, `http.addr: ":http" has no port number from 0 to 65535`)
	f(func(c *ServerConfig) { c.Addr = ":70000" }, `http.addr: ":70000" has no port number from 0 to 65535`)
	f(func(c *ServerConfig) { c.MaxBodyBytes = 0 }, "http.max_body_bytes: 0 is below 1")
	f(func(c *ServerConfig) { c.TLSCert = "c.pem" }, "http.tls_key: required when http.tls_cert is set")
	f(func(c *ServerConfig) { c.TLSKey = "k.pem" }, "http.tls_cert: required when http.tls_key is set")
	f(func(c *ServerConfig) { c.WriteTimeout = 0 }, "http.write_timeout: 0s is not positive")
	f(func(c *ServerConfig) { c.ShutdownTimeout = -time.Second }, "http.shutdown_timeout: -1s is not positive")
}

func TestServer_Run_ShutdownWaitsForInFlight(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	s, err := NewServer(cfg, AuthConfig{}, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s.Mount("POST /write", RoleWrite, refuseJSON, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		if r.Context().Err() != nil {
			http.Error(w, "cancelled", 500)
			return
		}
		w.WriteHeader(204)
	}))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	respc := make(chan int, 1)
	go func() {
		resp, err := http.Post("http://"+s.Addr().String()+"/write", "text/plain", strings.NewReader("m v=1"))
		if err != nil {
			respc <- -1
			return
		}
		resp.Body.Close()
		respc <- resp.StatusCode
	}()
	<-started
	cancel()
	if code := <-respc; code != 204 {
		t.Fatalf("in-flight write: status %d, want 204", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.Dial("tcp", s.Addr().String()); err == nil {
		t.Fatalf("still accepting connections after Run returned")
	}
}

func TestServer_Run_ShutdownTimeoutCutsOff(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 100 * time.Millisecond
	s, err := NewServer(cfg, AuthConfig{}, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s.Mount("GET /stuck", RoleRead, RefuseText, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // only the end of the grace period ends it
	}))
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	go func() {
		if resp, err := http.Get("http://" + s.Addr().String() + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if d := time.Since(t0); d < 100*time.Millisecond {
			t.Fatalf("Run returned after %v, before the shutdown timeout", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return 5s after cancel with a 100ms shutdown timeout")
	}
}

func TestServer_Listen_PortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := DefaultServerConfig()
	cfg.Addr = ln.Addr().String()
	s, err := NewServer(cfg, AuthConfig{}, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Listen()
	if err == nil || !strings.Contains(err.Error(), `listen on http.addr "`+cfg.Addr+`"`) {
		t.Fatalf("Listen = %v, want an address-in-use error naming http.addr", err)
	}
	if err := s.Run(t.Context()); err == nil {
		t.Fatal("Run on a port in use returned nil")
	}
}

func TestServer_Run_Twice(t *testing.T) {
	s := newTestServer(t, AuthConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("first Run with a cancelled context = %v, want nil", err)
	}
	if err := s.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("second Run = %v, want an error", err)
	}
}

func TestServer_Mount_BodyLimit(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.MaxBodyBytes = 10
	s, err := NewServer(cfg, AuthConfig{}, ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Mount("POST /write", RoleWrite, refuseJSON, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		w.WriteHeader(204)
	}))
	base := startTestServer(t, s)
	for body, want := range map[string]int{"0123456789": 204, "0123456789A": 413} {
		resp, err := http.Post(base+"/write", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("body of %d bytes: status %d, want %d", len(body), resp.StatusCode, want)
		}
	}
}

// TestServer_Run_Nosniff checks that every answer carries
// X-Content-Type-Options: nosniff: a handler's, each flavour's auth
// refusals, and the mux's own 404 and 405.
func TestServer_Run_Nosniff(t *testing.T) {
	s := newTestServer(t, AuthConfig{Tokens: []Token{{"tok-read", RoleRead}}})
	base := startTestServer(t, s)
	f := func(method, path, tok string, want int) {
		t.Helper()
		r, _ := http.NewRequestWithContext(t.Context(), method, base+path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: %d, X-Content-Type-Options %q; want %d and nosniff", method, path,
				resp.StatusCode, resp.Header.Get("X-Content-Type-Options"), want)
		}
	}
	f("GET", "/ping", "", 200)
	f("HEAD", "/ping", "", 200)
	f("GET", "/read", "tok-read", 200)
	for _, p := range []string{"/read", "/refuse/text", "/refuse/json"} {
		f("GET", p, "", 401)
	}
	f("POST", "/write", "tok-read", 403)
	f("POST", "/admin", "tok-read", 403)
	f("GET", "/nowhere", "", 404)
	f("GET", "/admin", "", 405)
	f("DELETE", "/write", "", 405)
}

// TestServer_Guard_CrossOrigin checks that a page of another site cannot
// make a browser change anything, even from loopback with no tokens, while
// reads and clients that are not browsers pass.
func TestServer_Guard_CrossOrigin(t *testing.T) {
	s := newTestServer(t, AuthConfig{})
	f := func(method, path string, hdr map[string]string, want int) {
		t.Helper()
		r := httptest.NewRequest(method, "http://127.0.0.1:8086"+path, nil)
		r.RemoteAddr = "127.0.0.1:40000"
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("%s %s %v: status %d, want %d (%s)", method, path, hdr, w.Code, want, w.Body)
		}
	}
	cross := map[string]string{"Sec-Fetch-Site": "cross-site"}
	f("POST", "/admin", nil, 200)
	f("POST", "/admin", cross, 403)
	f("POST", "/admin", map[string]string{"Origin": "http://evil.example"}, 403)
	f("POST", "/admin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200)
	f("POST", "/admin", map[string]string{"Origin": "http://127.0.0.1:8086"}, 200)
	f("POST", "/write", cross, 403)
	f("GET", "/read", cross, 200)
	f("GET", "/ping", cross, 200)
}

func TestServer_Mount_Panics(t *testing.T) {
	s := newTestServer(t, AuthConfig{})
	f := func(name string, mount func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: Mount did not panic", name)
			}
		}()
		mount()
	}
	h := http.NotFoundHandler()
	f("unknown role", func() { s.Mount("GET /x", "root", RefuseText, h) })
	f("no refuser", func() { s.Mount("GET /y", RoleRead, nil, h) })
	f("conflict", func() { s.Mount("GET /read", RoleRead, RefuseText, h) })
}

func TestServer_Routes(t *testing.T) {
	s := newTestServer(t, AuthConfig{})
	rs := s.Routes()
	if len(rs) != 6 || rs[0] != (Route{"GET /ping", RolePublic}) || rs[3] != (Route{"POST /admin", RoleAdmin}) {
		t.Fatalf("Routes = %v", rs)
	}
}

func TestServer_Run_TLS(t *testing.T) {
	dir := t.TempDir()
	certPEM := writeSelfSigned(t, dir)
	cfg := DefaultServerConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	s := newTestServerConfig(t, cfg, AuthConfig{})
	base := startTestServer(t, s)

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(strings.Replace(base, "http://", "https://", 1) + "/read")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" || resp.TLS == nil {
		t.Fatalf("GET /read over TLS: %d %q tls=%v", resp.StatusCode, b, resp.TLS != nil)
	}
	// Plain HTTP to a TLS port is refused.
	if resp, err := http.Get(base + "/read"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP answered 200 on the TLS port")
		}
	}
}

func TestNewServer_BadTLSFiles(t *testing.T) {
	cfg := DefaultServerConfig()
	cfg.TLSCert, cfg.TLSKey = filepath.Join(t.TempDir(), "nope.pem"), filepath.Join(t.TempDir(), "nope.key")
	_, err := NewServer(cfg, AuthConfig{}, ServerOptions{})
	if err == nil || !strings.Contains(err.Error(), "load http.tls_cert") {
		t.Fatalf("NewServer = %v, want a load error", err)
	}
}

// writeSelfSigned writes cert.pem and key.pem for 127.0.0.1 into dir and
// returns the certificate's PEM.
func writeSelfSigned(t *testing.T, dir string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "outpost test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certPEM
}
