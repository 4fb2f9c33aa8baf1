package main

import (
	"fmt"
	"io"
	"net/http"

	"outpost/alerting"
	"outpost/collectors"
	"outpost/collectors/graphite"
	"outpost/collectors/influx"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
)

// mountRoutes is outpost's route table: every HTTP route, the role a request
// needs (see ui's package comment) and the shape of its refusals.
func mountRoutes(srv *ui.Server, db *tsdb.DB, inf *influx.Handler, gl *graphite.Listener, api *query.API,
	al *alerting.API, stats []*collectors.Stats) {
	type h = http.HandlerFunc
	// Probes: open even when tokens are configured.
	srv.Mount("GET /ping", ui.RolePublic, ui.FlavourInfluxV1, h(inf.Ping)) // GET covers HEAD
	srv.Mount("GET /health", ui.RolePublic, ui.FlavourInfluxV2, h(inf.Health))

	// Ingest: InfluxDB 1.x and 2.x. Telegraf sends CREATE DATABASE as a POST
	// with its write token; SHOW DATABASES is a read.
	srv.Mount("POST /write", ui.RoleWrite, ui.FlavourInfluxV1, h(inf.Write))
	srv.Mount("POST /api/v2/write", ui.RoleWrite, ui.FlavourInfluxV2, h(inf.WriteV2))
	srv.Mount("POST /query", ui.RoleWrite, ui.FlavourInfluxV1, h(inf.Query))
	srv.Mount("GET /query", ui.RoleRead, ui.FlavourInfluxV1, h(inf.Query))
	srv.Mount("POST /api/v1/graphite/explain", ui.RoleRead, ui.FlavourPrometheus, h(gl.Explain))

	// Prometheus HTTP API (query package), as Grafana and promtool call it.
	prom := func(pattern string, h http.HandlerFunc) { srv.Mount(pattern, ui.RoleRead, ui.FlavourPrometheus, h) }
	for _, m := range []string{"GET", "POST"} {
		prom(m+" /api/v1/query", api.Query)
		prom(m+" /api/v1/query_range", api.QueryRange)
		prom(m+" /api/v1/series", api.Series)
		prom(m+" /api/v1/labels", api.Labels)
		prom(m+" /api/v1/query_exemplars", api.QueryExemplars)
	}
	prom("GET /api/v1/label/{name}/values", api.LabelValues)
	prom("GET /api/v1/metadata", api.Metadata)
	prom("GET /api/v1/status/buildinfo", api.BuildInfo)
	prom("GET /api/v1/status/tsdb", api.TSDBStatus)
	prom("GET /api/v1/rules", api.Rules)
	prom("GET /api/v1/alerts", api.Alerts)
	srv.Mount("GET /api/v1/export", ui.RoleRead, ui.FlavourPrometheus, query.NewExporter(db))
	srv.Mount("POST /api/v1/export", ui.RoleRead, ui.FlavourPrometheus, query.NewExporter(db))

	// Alerting (alerting package): outpost's own API for alerts, acks,
	// notes, history and retirement, the rule reload, and the parts of
	// Alertmanager's v2 API that amtool and Grafana use.
	ap := func(pattern string, role ui.Role, h http.HandlerFunc) {
		srv.Mount(pattern, role, ui.FlavourPrometheus, h)
	}
	ap("GET /api/v1/alerting/alerts", ui.RoleRead, al.Alerts)
	ap("POST /api/v1/alerting/alerts/{id}/ack", ui.RoleAdmin, al.Ack)
	ap("DELETE /api/v1/alerting/alerts/{id}/ack", ui.RoleAdmin, al.Unack)
	ap("POST /api/v1/alerting/alerts/{id}/notes", ui.RoleAdmin, al.Note)
	ap("GET /api/v1/alerting/history", ui.RoleRead, al.History)
	ap("POST /api/v1/alerting/retire", ui.RoleAdmin, al.Retire)
	ap("GET /api/v1/alerting/outbox", ui.RoleRead, al.Outbox)
	ap("GET /api/v1/alerting/status", ui.RoleRead, al.Status)
	srv.Mount("POST /-/reload", ui.RoleAdmin, ui.FlavourText, h(al.Reload))
	am := func(pattern string, role ui.Role, h http.HandlerFunc) { srv.Mount(pattern, role, ui.FlavourText, h) }
	am("GET /api/v2/alerts", ui.RoleRead, al.AMAlerts)
	am("POST /api/v2/alerts", ui.RoleWrite, al.AMPostAlerts)
	am("GET /api/v2/alerts/groups", ui.RoleRead, al.AMAlertGroups)
	am("GET /api/v2/silences", ui.RoleRead, al.AMSilences)
	am("POST /api/v2/silences", ui.RoleAdmin, al.AMPostSilence)
	am("GET /api/v2/silence/{id}", ui.RoleRead, al.AMGetSilence)
	am("DELETE /api/v2/silence/{id}", ui.RoleAdmin, al.AMDeleteSilence)
	am("GET /api/v2/status", ui.RoleRead, al.AMStatus)
	am("GET /api/v2/receivers", ui.RoleRead, al.AMReceivers)

	// Operations.
	srv.Mount("GET /metrics", ui.RoleRead, ui.FlavourText, h(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if collectors.WriteMetrics(w, stats...) == nil && al.WriteMetrics(w) == nil { // a failed write means the client left
			writeStoreMetrics(w, db)
		}
	}))
	// POST only, as every route that changes state: a GET could be sent by
	// any web page open in a browser on the bastion (an <img> tag is enough).
	srv.Mount("POST /internal/force_flush", ui.RoleAdmin, ui.FlavourText, h(func(w http.ResponseWriter, r *http.Request) {
		if err := db.Flush(r.Context()); err != nil {
			http.Error(w, "flush: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))

	// Pages (ui): overview, host dashboards, explore, alerts, rules, status.
}

// writeStoreMetrics writes the store's damage figures for GET /metrics.
func writeStoreMetrics(w io.Writer, db *tsdb.DB) {
	fmt.Fprintf(w, "# HELP outpost_tsdb_damaged_files Files of the store found damaged and set aside or rebuilt (see GET /health).\n"+
		"# TYPE outpost_tsdb_damaged_files gauge\noutpost_tsdb_damaged_files %d\n", len(db.Damaged()))
	fmt.Fprintf(w, "# HELP outpost_tsdb_corrupt_chunks_total Day-file chunks whose checksum failed on read (left out of answers).\n"+
		"# TYPE outpost_tsdb_corrupt_chunks_total counter\noutpost_tsdb_corrupt_chunks_total %d\n", db.CorruptChunks())
}
