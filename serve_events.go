package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"outpost/collectors"
	evingest "outpost/collectors/events"
	"outpost/collectors/syslog"
	"outpost/query"
	evstore "outpost/tsdb/events"
	"outpost/ui"
)

// eventParts is the event pipeline of issue 12: the store
// (<storage.path>/events), its ingest handler, its syslog listener and
// its search API.
type eventParts struct {
	store  *evstore.Store
	in     *evingest.Handler
	syslog *syslog.Listener // bound on events.syslog_addr; binds nothing when it is ""
}

// openEvents opens the event store and builds its handlers; nil (and no
// error) when events.enabled is false. Close it before the metrics store.
func openEvents(cfg config, log *slog.Logger) (*eventParts, error) {
	if !cfg.Events.Enabled {
		if cfg.Events.SyslogAddr != "" {
			log.Warn("events.syslog_addr is set but events.enabled is false: no syslog listener", "component", "syslog")
		}
		return nil, nil
	}
	st, err := evstore.Open(filepath.Join(cfg.Storage.Path, "events"), evstore.Options{
		IndexFields: cfg.Events.IndexFields, Retention: cfg.Storage.Retention, MaxFuture: cfg.Storage.MaxFuture, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	in := evingest.New(st, cfg.Events, evingest.Options{Stats: collectors.NewStats("events"), Logger: log})
	sl, err := syslog.New(syslog.Config{Addr: cfg.Events.SyslogAddr, MaxLineBytes: cfg.Events.SyslogMaxLineBytes,
		MaxConnections: cfg.Events.SyslogMaxConnections}, st, syslog.Options{Logger: log})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("start syslog listener: %w", err)
	}
	return &eventParts{store: st, in: in, syslog: sl}, nil
}

// mount adds the event routes; a nil pipeline (events.enabled: false)
// mounts answers that say so.
func (e *eventParts) mount(srv *ui.Server, log *slog.Logger) {
	if e == nil {
		mountEventsOff(srv)
		return
	}
	mountEventRoutes(srv, e.in, query.NewEventsAPI(e.store, query.EventsAPIOptions{Logger: log.With("component", "query")}))
}

// stats returns the ingest counters, for /metrics and the pages.
func (e *eventParts) stats() []*collectors.Stats {
	if e == nil {
		return nil
	}
	return []*collectors.Stats{e.in.Stats(), e.syslog.Stats()}
}

// run runs the store's retention (whole expired days deleted) until ctx
// ends; nothing for a nil pipeline.
func (e *eventParts) run(ctx context.Context) error {
	if e == nil {
		return nil
	}
	return e.store.Run(ctx)
}

// runSyslog serves events.syslog_addr until ctx ends, then appends what
// it has queued; it just waits when the listener or the pipeline is off.
func (e *eventParts) runSyslog(ctx context.Context) error {
	if e == nil {
		<-ctx.Done()
		return nil
	}
	return e.syslog.Run(ctx)
}

// logSyslog logs the syslog listener's line when it is bound.
func (e *eventParts) logSyslog(log *slog.Logger) {
	if e == nil || e.syslog.Addr() == nil {
		return
	}
	log.Info("syslog server listening", "component", "syslog", "addr", e.syslog.Addr().String(), "network", "tcp+udp",
		"udp_addr", e.syslog.UDPAddr().String())
}

// copyTo writes a consistent copy of every event day file into dir, for
// snapshots; nothing for a nil pipeline.
func (e *eventParts) copyTo(dir string) error {
	if e == nil {
		return nil
	}
	if err := e.store.CopyTo(dir); err != nil {
		return fmt.Errorf("copy events: %w", err)
	}
	return nil
}

// close closes the store, and the syslog sockets if Run never did.
func (e *eventParts) close() error {
	if e == nil {
		return nil
	}
	e.syslog.Close()
	if err := e.store.Close(); err != nil {
		return fmt.Errorf("close event store: %w", err)
	}
	return nil
}
