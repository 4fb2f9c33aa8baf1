package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"outpost/collectors"
	evingest "outpost/collectors/events"
	"outpost/query"
	evstore "outpost/tsdb/events"
	"outpost/ui"
)

// eventParts is the event pipeline of issue 12: the store
// (<storage.path>/events), its ingest handler and its search API.
type eventParts struct {
	store *evstore.Store
	in    *evingest.Handler
}

// openEvents opens the event store and builds its handlers; nil (and no
// error) when events.enabled is false. Close it before the metrics store.
func openEvents(cfg config, log *slog.Logger) (*eventParts, error) {
	if !cfg.Events.Enabled {
		return nil, nil
	}
	st, err := evstore.Open(filepath.Join(cfg.Storage.Path, "events"), evstore.Options{
		IndexFields: cfg.Events.IndexFields, Retention: cfg.Storage.Retention, MaxFuture: cfg.Storage.MaxFuture, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	in := evingest.New(st, cfg.Events, evingest.Options{Stats: collectors.NewStats("events"), Logger: log})
	return &eventParts{store: st, in: in}, nil
}

// mount adds the event routes; a nil pipeline mounts nothing.
func (e *eventParts) mount(srv *ui.Server, log *slog.Logger) {
	if e == nil {
		return
	}
	mountEventRoutes(srv, e.in, query.NewEventsAPI(e.store, query.EventsAPIOptions{Logger: log.With("component", "query")}))
}

// stats returns the ingest counters, for /metrics and the pages.
func (e *eventParts) stats() []*collectors.Stats {
	if e == nil {
		return nil
	}
	return []*collectors.Stats{e.in.Stats()}
}

// run runs the store's retention (whole expired days deleted) until ctx
// ends; nothing for a nil pipeline.
func (e *eventParts) run(ctx context.Context) error {
	if e == nil {
		return nil
	}
	return e.store.Run(ctx)
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

// close closes the store.
func (e *eventParts) close() error {
	if e == nil {
		return nil
	}
	if err := e.store.Close(); err != nil {
		return fmt.Errorf("close event store: %w", err)
	}
	return nil
}
