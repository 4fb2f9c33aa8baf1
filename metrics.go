package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"outpost/collectors"
	"outpost/collectors/promrw"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
)

// metricsSource is one package's part of GET /metrics: it writes its
// families in the Prometheus text format and returns the first write
// error. Family names must not repeat across sources (TestSelfMetrics_
// checks the whole text).
type metricsSource struct {
	name  string // for the error of a failed source
	write func(ctx context.Context, w io.Writer) error
}

// metricsSources lists every source of GET /metrics, in the order they
// are written. The same text is what outpost records about itself every
// host.self_interval (collectors.SelfMetrics parses it), so a figure added
// here is both exposed and stored.
func metricsSources(srv *ui.Server, db *tsdb.DB, api *query.API, al interface{ WriteMetrics(io.Writer) error },
	fwd *promrw.Forwarder, stats []*collectors.Stats) []metricsSource {
	plain := func(f func(io.Writer) error) func(context.Context, io.Writer) error {
		return func(_ context.Context, w io.Writer) error { return f(w) }
	}
	return []metricsSource{
		{"go runtime", plain(writeGoMetrics)},                                                      // go_* (metrics_runtime.go)
		{"process", plain(writeProcessMetrics)},                                                    // process_* from /proc/self
		{"http", plain(func(w io.Writer) error { return writeHTTPMetrics(w, srv) })},               // outpost_http_*
		{"ingest", plain(func(w io.Writer) error { return collectors.WriteMetrics(w, stats...) })}, // outpost_ingest_*, per protocol/listener
		{"store", db.WriteMetrics},                                                                 // outpost_wal_*, outpost_tsdb_*
		{"query", plain(api.WriteMetrics)},                                                         // outpost_query_*
		{"alerting", plain(al.WriteMetrics)},                                                       // outpost_alerting_*, outpost_notifications_*
		{"forward", plain(fwd.WriteMetrics)},                                                       // outpost_forward_*, per remote-write target
	}
}

// writeMetrics writes every source to w. A source that fails is skipped
// after what it wrote; the error names it, and the others are written.
func writeMetrics(ctx context.Context, w io.Writer, sources []metricsSource) error {
	var first error
	for _, s := range sources {
		if err := s.write(ctx, w); err != nil && first == nil {
			first = fmt.Errorf("write %s metrics: %w", s.name, err)
		}
	}
	return first
}

// metricsHandler serves GET /metrics from sources.
func metricsHandler(sources []metricsSource) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = writeMetrics(r.Context(), w, sources) // a failed write means the client left; a store error leaves a figure out
	}
}

// writeHTTPMetrics writes the HTTP server's connection figures.
func writeHTTPMetrics(w io.Writer, srv *ui.Server) error {
	open, refused := srv.Connections()
	tw := tsdb.NewTextWriter(w)
	tw.One("outpost_http_open_connections", "gauge", "Open HTTP connections (at most http.max_connections).", float64(open))
	tw.One("outpost_http_refused_connections_total", "counter",
		"Connections answered 503 at http.max_connections with none idle.", float64(refused))
	return tw.Flush()
}

// selfHost is the value of label host on outpost's own series: the host
// collector's (host.hostname, else this machine's name).
func selfHost(configured string) string {
	if configured != "" {
		return configured
	}
	h, _ := os.Hostname()
	return h
}
