package pages

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"outpost/alerting"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
)

// testSite is a real store, engine and alert manager behind a real ui
// server with every page mounted, on httptest's loopback listener.
type testSite struct {
	t     testing.TB
	db    *tsdb.DB
	eng   *query.Engine
	am    *alerting.Manager
	pages *Pages
	srv   *httptest.Server
	now   time.Time
}

// siteOptions changes what newTestSite builds.
type siteOptions struct {
	cfg      Config
	alerting *alerting.Config // nil: the defaults (built-in rules)
	tokens   []ui.Token
	deps     func(*Deps) // last changes to the pages' dependencies
}

// newTestSite opens everything in t.TempDir(), with the clock fixed at now.
func newTestSite(t testing.TB, now time.Time, o siteOptions) *testSite {
	t.Helper()
	dir := t.TempDir()
	cfg := tsdb.DefaultConfig()
	cfg.Path = dir
	cfg.Retention = 3650 * 24 * time.Hour
	cfg.MaxFuture = 3650 * 24 * time.Hour
	clock := func() time.Time { return now }
	db, err := tsdb.Open(cfg, tsdb.Options{Now: clock})
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s := &testSite{t: t, db: db, now: now}
	s.eng = query.NewEngine(db, query.Options{Now: clock})
	acfg := alerting.DefaultConfig()
	if o.alerting != nil {
		acfg = *o.alerting
	}
	s.am, err = alerting.Open(acfg, alerting.Options{Dir: dir, Query: s.eng.InstantVector, Writer: db, Now: clock})
	if err != nil {
		t.Fatalf("open alerting: %v", err)
	}
	t.Cleanup(func() { _ = s.am.Close() })
	d := Deps{
		Engine: s.eng, Storage: db, Alerts: s.am, Series: db.NumSeries, DataDir: dir, Now: clock,
		Ingest:     func() []Ingest { return []Ingest{{Protocol: "influx"}, {Protocol: "graphite"}} },
		Listeners:  []Listener{{Protocol: "http", Network: "tcp", Addr: "127.0.0.1:8086"}},
		ConfigYAML: func() string { return "storage:\n  path: " + dir + "\n" },
	}
	if o.deps != nil {
		o.deps(&d)
	}
	s.pages, err = New(o.cfg, d)
	if err != nil {
		t.Fatalf("pages.New: %v", err)
	}
	srv, err := ui.NewServer(ui.DefaultServerConfig(), ui.AuthConfig{Tokens: o.tokens}, ui.ServerOptions{})
	if err != nil {
		t.Fatalf("ui.NewServer: %v", err)
	}
	for _, r := range s.pages.Routes() {
		role := ui.RoleRead
		switch {
		case r.Admin:
			role = ui.RoleAdmin
		case r.Public:
			role = ui.RolePublic
		}
		srv.Mount(r.Pattern, role, ui.RefuseText, r.Handler)
	}
	s.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(s.srv.Close)
	return s
}

// write stores points, failing the test on error.
func (s *testSite) write(pts ...tsdb.Point) {
	s.t.Helper()
	if err := s.db.Write(context.Background(), pts); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// series returns n points of one series ending at s.now, every step.
func (s *testSite) series(ls tsdb.Labels, n int, step time.Duration, v func(i int) float64) []tsdb.Point {
	pts := make([]tsdb.Point, n)
	start := s.now.Add(-time.Duration(n-1) * step)
	for i := range pts {
		pts[i] = tsdb.Point{Labels: ls, T: start.Add(time.Duration(i) * step).UnixMilli(), V: v(i)}
	}
	return pts
}

// get fetches path and returns the status and body.
func (s *testSite) get(path string, header ...string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustContain fails the test unless body holds every want.
func mustContain(t testing.TB, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
}

// labels builds tsdb.Labels from name, value pairs.
func labels(kv ...string) tsdb.Labels { return tsdb.FromStrings(kv...) }
