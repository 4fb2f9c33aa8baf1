// Command outpost is a monitoring stack in one binary: an embedded
// time-series store, the ingest endpoints Telegraf, collectd and Graphite
// senders speak, and the HTTP API in front of them. See README.md.
//
// main is wiring only: configuration (config*.go) -> logger -> store ->
// collectors -> HTTP routes (routes.go, the route table) -> run until
// SIGINT/SIGTERM -> shut down, store
// last.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	"outpost/alerting"
	"outpost/collectors"
	"outpost/collectors/collectd"
	"outpost/collectors/graphite"
	"outpost/collectors/host"
	"outpost/collectors/influx"
	"outpost/collectors/promrw"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
	"outpost/ui/pages"
)

// version is set at build time: go build -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr)) }

// run is main with its inputs and outputs as arguments; it returns the exit
// status: 0 after a clean shutdown, 1 when serving failed, 2 for a bad
// command line or configuration (one line on stderr). The other commands
// (cli.go) return theirs.
func run(argv, environ []string, stdout, stderr io.Writer) int {
	cmd, argv := splitCommand(argv) // nil for serve, the default command
	if cmd != nil {
		return cmd(argv, environ, stdout, stderr)
	}
	a, err := parseArgs(argv, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "outpost: %s\n", oneLine(err))
		return 2
	case a.version:
		fmt.Fprintf(stdout, "outpost %s\n", version)
		return 0
	}
	cfg, err := loadConfig(a, environ)
	if err != nil {
		fmt.Fprintf(stderr, "outpost: config: %s\n", oneLine(err))
		return 2
	}
	tuneGC(environ)
	log := newLogger(cfg.Log, stderr)
	slog.SetDefault(log) // for the few libraries that log through slog's default
	tuneMemoryLimit(environ, cgroupMemoryMax, log)
	ctx, stop := notifyContext(log)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("outpost stopped", "err", err)
		return 1
	}
	log.Info("outpost stopped")
	return 0
}

// serve opens the store, builds the collectors and the HTTP server, runs
// them until ctx is cancelled or one fails, and closes the store last.
func serve(ctx context.Context, cfg config, log *slog.Logger) (err error) {
	cfg.Storage.Path = absDataPath(cfg.Storage.Path)
	log.Info("starting outpost", "version", version, "data", cfg.Storage.Path)
	db, err := tsdb.Open(cfg.Storage, tsdb.Options{Logger: log.With("component", "tsdb")})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() { // after every Run below has returned: nothing writes any more
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
		}
	}()

	// Every collector writes through fw's Tap: the store first, then the
	// forward queues (collectors/promrw). Closed after every Run returned.
	fwd, err := promrw.OpenForwarder(cfg.Forward, promrw.ForwardOptions{
		Dir: cfg.Storage.Path, Parse: query.ParseSelectors, Logger: log,
	})
	if err != nil {
		return fmt.Errorf("open forward queues: %w", err)
	}
	defer func() {
		if cerr := fwd.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close forward queues: %w", cerr))
		}
	}()
	w := fwd.Tap(db)

	ev, err := openEvents(cfg, log) // serve_events.go; nil when events.enabled is false
	if err != nil {
		return err
	}
	defer func() { // before the metrics store closes
		if cerr := ev.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	influxStats := collectors.NewStats("influx")
	influxStrings := influx.NewStringPolicy(cfg.Influx)
	inf := influx.New(w, influx.Options{
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes, MaxLineBytes: cfg.Influx.MaxLineBytes, MaxInflightBytes: cfg.Influx.MaxInflightBytes,
		Stats: influxStats, Logger: log, Version: version, Health: db.Health, Warnings: storeWarnings(db),
		Strings: influxStrings, // influx.string_fields, shared with the UDP listener
	})
	// New binds the sockets (or nothing when the address is ""), so a port
	// in use fails here, before anything runs. Close is a no-op after Run.
	gl, err := graphite.New(cfg.Graphite, w, graphite.Options{Logger: log, Window: db.TimeWindow})
	if err != nil {
		return fmt.Errorf("start graphite listener: %w", err)
	}
	defer gl.Close()
	cl, err := collectd.New(cfg.Collectd, w, collectd.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("start collectd listener: %w", err)
	}
	defer cl.Close()
	ul, err := influx.NewUDP(cfg.Influx, w, influx.UDPOptions{Logger: log, Strings: influxStrings}) // influx.udp_addr
	if err != nil {
		return fmt.Errorf("start influx udp listener: %w", err)
	}
	defer ul.Close()

	srv, err := ui.NewServer(cfg.HTTP, cfg.Auth, ui.ServerOptions{Logger: log.With("component", "http")})
	if err != nil {
		return err
	}
	var hc *host.Collector // this machine's metrics, under Telegraf's names
	if cfg.Host.Enabled {
		if hc, err = host.New(cfg.Host, w, host.Options{Logger: log}); err != nil {
			log.Warn("host collector off: this machine's metrics are not recorded", "component", "host", "err", err)
			hc = nil
		}
	}
	rw := promrw.New(w, cfg.Promrw, promrw.Options{MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Logger: log})
	stats := append([]*collectors.Stats{influxStats, gl.Stats(), cl.Stats(), ul.Stats()}, rw.Stats()...)
	stats = append(stats, ev.stats()...)
	if hc != nil {
		stats = append(stats, hc.Stats())
	}
	engine := query.NewEngine(db, cfg.Query.Options(log.With("component", "query"), nil))
	if cfg.Alerting.ExternalURL == "" {
		cfg.Alerting.ExternalURL = externalURL(cfg.HTTP)
	}
	am, err := alerting.Open(cfg.Alerting, alerting.Options{
		Dir: cfg.Storage.Path, Query: engine.InstantVector, Writer: db, Logger: log, Version: version,
	})
	if err != nil {
		return fmt.Errorf("open alerting: %w", err)
	}
	defer func() { // after its Run returned, before the store closes
		if cerr := am.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	api := query.NewAPI(engine, db, query.APIOptions{
		Logger: log.With("component", "query"), Revision: version, Rules: am.RuleGroups, Alerts: am.PromAlerts,
	})
	mountRoutes(srv, db, inf, gl, rw, api, alerting.NewAPI(am), fwd, ev, stats)
	ev.mount(srv, log)
	if err := srv.Listen(); err != nil {
		return err
	}
	pg, err := pages.New(cfg.UI, pages.Deps{
		Engine: engine, Storage: db, Alerts: am, Ingest: ingestFigures(stats), Series: db.NumSeries, Store: db.Stats,
		Listeners: listeners(srv, gl, cl), DataDir: cfg.Storage.Path, ConfigYAML: func() string { return shownConfig(cfg) },
		Logger: log.With("component", "pages"),
	})
	if err != nil {
		return fmt.Errorf("build pages: %w", err)
	}
	mountPages(srv, pg)
	if err := srv.Listen(); err != nil {
		return err
	}
	logRoutes(log, srv, len(cfg.Auth.Tokens))
	logListening(log, cfg, srv, gl, cl, ul, ev) // cmd_serve.go: every socket is bound by now

	g, gctx := errgroup.WithContext(ctx)
	for _, r := range []interface{ Run(context.Context) error }{srv, gl, cl, ul, am, fwd} {
		g.Go(func() error { return r.Run(gctx) })
	}
	g.Go(func() error { return reloadOnHangup(gctx, am, log) })
	g.Go(func() error { return ev.run(gctx) })
	g.Go(func() error { return ev.runSyslog(gctx) }) // events.syslog_addr
	if cfg.Host.Enabled {
		src := metricsSources(srv, db, api, am, fwd, stats) // metrics.go: outpost scrapes its own GET /metrics
		self := collectors.NewSelfMetrics(db, func(w io.Writer) error { return writeMetrics(gctx, w, src) }, collectors.SelfMetricsOptions{
			Logger: log, Interval: cfg.Host.SelfInterval, Labels: tsdb.FromStrings("host", selfHost(cfg.Host.Hostname))})
		g.Go(func() error { return self.Run(gctx) })
		if hc != nil {
			g.Go(func() error { return hc.Run(gctx) })
		}
	}
	// Every Run returns once gctx is cancelled (a signal, or one of them
	// failed) and its goroutines have ended: the HTTP server after in-flight
	// requests finished (http.shutdown_timeout), the listeners after writing
	// their last batches. Only then does the deferred Close run.
	return g.Wait()
}

// storeWarnings lists the store's damaged files for GET /health: the
// store still serves, but an operator must look.
func storeWarnings(db *tsdb.DB) func() []string {
	return func() []string {
		var out []string
		for _, d := range db.Damaged() {
			w := "damaged file " + d.Path + ": " + d.Reason
			if d.MovedTo != "" {
				w += " (set aside as " + d.MovedTo + ")"
			}
			out = append(out, w)
		}
		return out
	}
}

// reloadOnHangup reloads the alerting rules on every SIGHUP until ctx
// ends.
func reloadOnHangup(ctx context.Context, am *alerting.Manager, log *slog.Logger) error {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-hup:
			if err := am.Reload(ctx); err != nil {
				log.Error("SIGHUP: some rule files failed to load; their previous rules keep running", "err", err)
			} else {
				log.Info("SIGHUP: rules reloaded")
			}
		}
	}
}

// externalURL is the address people reach outpost at, for links in
// notifications: this machine's name and the HTTP port.
func externalURL(c ui.ServerConfig) string {
	host, _ := os.Hostname()
	_, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" || port == "0" {
		port = "8086"
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// logRoutes logs where the server listens and, at debug level, the table.
func logRoutes(log *slog.Logger, srv *ui.Server, tokens int) {
	mode := "open (no auth.tokens: read and write for anyone, admin from loopback only)"
	if tokens > 0 {
		mode = fmt.Sprintf("%d tokens", tokens)
	}
	log.Info("http routes mounted", "addr", srv.Addr().String(), "auth", mode)
	for _, r := range srv.Routes() {
		log.Debug("route", "pattern", r.Pattern, "role", string(r.Role))
	}
}

// tuneGC makes the collector run at 50 % heap growth instead of Go's 100 %
// unless GOGC is set: a store holds much live data (the head), and on the
// lpload workload this cuts peak RSS by about 15 % for a few % of ingest.
func tuneGC(environ []string) {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOGC=") {
			return
		}
	}
	debug.SetGCPercent(50)
}

// newLogger builds the one logger every component gets (scoped with
// .With("component", ...)).
func newLogger(c logConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // Validate checked it
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// notifyContext returns a context cancelled by the first SIGINT or SIGTERM;
// a second one exits at once with status 1. stop releases the signals.
func notifyContext(log *slog.Logger) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		select {
		case s := <-sigs:
			log.Info("shutting down; a second signal exits at once", "signal", s.String())
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			log.Error("second signal: exiting without a clean shutdown", "signal", s.String())
			os.Exit(1)
		case <-done:
		}
	})
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		wg.Wait()
		cancel()
	}
}

// oneLine keeps an error message on one line, as the exit message must be.
func oneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
}
