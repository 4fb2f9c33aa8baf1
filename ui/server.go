package ui

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServerConfig is the HTTP server's part of outpost's configuration (key
// "http").
type ServerConfig struct {
	// Addr is the TCP address to listen on, e.g. ":8086" or "127.0.0.1:0".
	Addr string `koanf:"addr"`
	// MaxBodyBytes caps a request body as received (before gunzip); reading
	// past it fails with *http.MaxBytesError, which handlers answer with 413.
	MaxBodyBytes int64 `koanf:"max_body_bytes"`
	// TLSCert and TLSKey are PEM files; set both to serve HTTPS.
	TLSCert string `koanf:"tls_cert"`
	TLSKey  string `koanf:"tls_key"`
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout time.Duration `koanf:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// WriteTimeout bounds a request from the end of its headers to the end of
	// the response; it must outlast the slowest query.
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// IdleTimeout is how long a keep-alive connection may wait for its next
	// request.
	IdleTimeout time.Duration `koanf:"idle_timeout"`
	// ShutdownTimeout is how long in-flight requests may run on after
	// shutdown begins before their connections are closed.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
	// MaxConnections caps the open connections. At the cap a new one takes
	// the place of the longest-idle keep-alive connection, or is answered
	// 503 with Retry-After when all are busy. Each costs about 20 KiB.
	MaxConnections int `koanf:"max_connections"`
}

// DefaultServerConfig returns the embedded defaults.
func DefaultServerConfig() ServerConfig {
	return ServerConfig{
		Addr:              ":8086",
		MaxBodyBytes:      64 << 20,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ShutdownTimeout:   15 * time.Second,
		MaxConnections:    1024,
	}
}

// Validate names the first key with a bad value.
func (c ServerConfig) Validate() error {
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("http.addr: %q is not host:port", c.Addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("http.addr: %q has no port number from 0 to 65535", c.Addr)
	}
	switch {
	case c.MaxBodyBytes < 1:
		return fmt.Errorf("http.max_body_bytes: %d is below 1", c.MaxBodyBytes)
	case c.MaxConnections < 1:
		return fmt.Errorf("http.max_connections: %d is below 1", c.MaxConnections)
	case c.TLSCert != "" && c.TLSKey == "":
		return fmt.Errorf("http.tls_key: required when http.tls_cert is set")
	case c.TLSKey != "" && c.TLSCert == "":
		return fmt.Errorf("http.tls_cert: required when http.tls_key is set")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"http.read_header_timeout", c.ReadHeaderTimeout},
		{"http.read_timeout", c.ReadTimeout},
		{"http.write_timeout", c.WriteTimeout},
		{"http.idle_timeout", c.IdleTimeout},
		{"http.shutdown_timeout", c.ShutdownTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s: %s is not positive", d.key, d.v)
		}
	}
	return nil
}

// ServerOptions carries what the server needs besides its configuration.
type ServerOptions struct {
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// Route is one mounted route, as Routes lists them.
type Route struct {
	Pattern string // an http.ServeMux pattern, e.g. "POST /write"
	Role    Role   // what a request needs
}

// Server is outpost's HTTP server: one mux, the authentication in front of
// each route, and the listener's lifecycle.
type Server struct {
	cfg  ServerConfig
	log  *slog.Logger
	opts ServerOptions
	auth *authenticator
	csrf *http.CrossOriginProtection // refuses state changes sent by pages of other sites
	mux  *http.ServeMux
	h    http.Handler // mux behind the headers every response carries
	srv  *http.Server
	wg   sync.WaitGroup // the serving goroutine started by Run

	mu     sync.Mutex // guards routes, ln and ran
	routes []Route
	ln     *connLimiter
	ran    bool
}

// NewServer returns a server with no routes. With TLS configured it loads
// the certificate and key now, so a bad file fails at startup.
func NewServer(cfg ServerConfig, auth AuthConfig, opts ServerOptions) (*Server, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:  cfg,
		log:  log,
		opts: opts,
		auth: newAuthenticator(auth),
		csrf: http.NewCrossOriginProtection(),
		mux:  http.NewServeMux(),
	}
	s.h = withCommonHeaders(s.mux)
	s.srv = &http.Server{
		Handler:           s.h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          stdlog.New(serverErrorLog{log}, "", 0),
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load http.tls_cert %q and http.tls_key %q: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return s, nil
}

// Mount routes pattern (an http.ServeMux pattern such as "POST /write") to
// h, for requests that pass authentication for role; refuse answers the
// others (see Refuser). Mount every route before Run; a bad or conflicting
// pattern is a programming error and panics, as http.ServeMux.Handle does.
func (s *Server) Mount(pattern string, role Role, refuse Refuser, h http.Handler) {
	if role != RolePublic && !role.tokenRole() {
		panic(fmt.Sprintf("ui: mount %q: unknown role %q", pattern, role))
	}
	if refuse == nil {
		panic(fmt.Sprintf("ui: mount %q: no Refuser", pattern))
	}
	s.mux.Handle(pattern, s.guard(role, refuse, h))
	s.mu.Lock()
	s.routes = append(s.routes, Route{Pattern: pattern, Role: role})
	s.mu.Unlock()
}

// guard wraps h with the cross-origin check, the authentication check and
// the body size cap.
//
// The cross-origin check refuses (403) a POST, PUT or DELETE that a browser
// sends from a page of another site, as its Sec-Fetch-Site or Origin header
// tells (http.CrossOriginProtection). Without it, any page open in a
// browser on the bastion could post a form to 127.0.0.1, which needs no
// token for admin routes when none are configured. Clients that are not
// browsers (Telegraf, curl, amtool, Grafana's server) send neither header
// and pass. GET and HEAD pass too, which is why every route that changes
// state is mounted for POST or DELETE only.
func (s *Server) guard(role Role, refuse Refuser, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d denial
		if err := s.csrf.Check(r); err != nil {
			d = denial{http.StatusForbidden, "a cross-origin request from a browser may not change anything"}
		} else {
			d = s.auth.check(r, role)
		}
		if d.status != 0 {
			// Never the token: only what was refused, to whom, and why.
			s.log.Debug("request refused", "remote", r.RemoteAddr, "method", r.Method,
				"path", r.URL.Path, "status", d.status, "reason", d.reason)
			if d.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="outpost"`)
			}
			refuse(w, r, d.status, d.reason)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), grantKey{}, grant{s.auth, r})))
	})
}

// Routes returns the mounted routes in the order they were mounted.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes)
}

// Handler returns what the server serves (the mux with every mounted route,
// behind the common headers), for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.h }

// withCommonHeaders sets the headers every response carries, before h runs,
// so that answers h never writes itself (the mux's 404 and 405, auth
// refusals) carry them too. X-Content-Type-Options: nosniff stops a browser
// from reading a response as another type than it says: a text/plain error
// echoing a request value is never run as HTML or script.
func withCommonHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// Listen binds ServerConfig.Addr, so that a port in use fails before
// anything else starts and Addr knows the port ":0" picked. Run calls it
// when it has not been called; calling it twice is a no-op.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on http.addr %q: %w", s.cfg.Addr, err)
	}
	s.ln = newConnLimiter(ln, s.cfg.MaxConnections, s.log)
	s.srv.ConnState = s.ln.connState
	return nil
}

// Addr returns the address the server listens on, or nil before Listen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Connections returns the open connections and how many were refused at
// http.max_connections since the start (zeros before Listen).
func (s *Server) Connections() (open int, refused uint64) {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return 0, 0
	}
	return ln.open(), ln.refused.Load()
}

// Run serves until ctx is cancelled, then shuts down: it stops accepting,
// waits up to ShutdownTimeout for in-flight requests, closes the connections
// still open after that, and returns once the serving goroutine has ended.
// It returns nil after a shutdown and the error when serving fails.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return errors.New("ui: Server.Run called twice")
	}
	s.ran = true
	ln := s.ln
	s.mu.Unlock()

	// Requests outlive ctx's cancellation, so that in-flight writes finish
	// during shutdown; base is cancelled when the grace period is over.
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	s.srv.BaseContext = func(net.Listener) context.Context { return base }

	useTLS := s.srv.TLSConfig != nil // read before ServeTLS, which changes it
	errc := make(chan error, 1)
	s.wg.Go(func() {
		var err error
		if useTLS {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(ln)
		}
		errc <- err
	})
	s.log.Debug("http server serving", "addr", ln.Addr().String(), "tls", useTLS) // main logs "listening" once every listener is bound

	var err error
	select {
	case err = <-errc:
		s.wg.Wait()
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		s.log.Warn("http requests still running at the end of the shutdown timeout were cut off",
			"timeout", s.cfg.ShutdownTimeout.String())
		cancelBase()
		_ = s.srv.Close() // its error is the listener's, already closed by Shutdown
	}
	s.wg.Wait()
	if err = <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
	return nil
}

// serverErrorLog carries http.Server's own messages into the logger: a
// handler's panic at error level, the per-connection noise (TLS handshakes
// from scanners, clients going away) at debug level.
type serverErrorLog struct{ log *slog.Logger }

func (l serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "panic") {
		l.log.Error("http handler panicked", "err", msg)
	} else {
		l.log.Debug("http server", "err", msg)
	}
	return len(p), nil
}
