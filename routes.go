package main

import (
	"io"
	"net/http"
	"strings"

	"outpost/alerting"
	"outpost/collectors"
	"outpost/collectors/collectd"
	evingest "outpost/collectors/events"
	"outpost/collectors/graphite"
	"outpost/collectors/influx"
	"outpost/collectors/promrw"
	"outpost/query"
	"outpost/tsdb"
	"outpost/ui"
	"outpost/ui/pages"
)

// mountRoutes is outpost's route table: every HTTP route, the role a request
// needs (see ui's package comment) and who answers its refusals (the
// package that owns the route, in its API's shape).
func mountRoutes(srv *ui.Server, db *tsdb.DB, inf *influx.Handler, gl *graphite.Listener, rw *promrw.Handler, api *query.API,
	al *alerting.API, fwd *promrw.Forwarder, ev *eventParts, stats []*collectors.Stats) {
	type h = http.HandlerFunc
	// Probes: open even when tokens are configured.
	srv.Mount("GET /ping", ui.RolePublic, inf.RefuseV1, h(inf.Ping)) // GET covers HEAD
	srv.Mount("GET /health", ui.RolePublic, inf.RefuseV2, h(inf.Health))

	// Ingest: InfluxDB 1.x and 2.x. Telegraf sends CREATE DATABASE as a POST
	// with its write token; SHOW DATABASES is a read.
	srv.Mount("POST /write", ui.RoleWrite, inf.RefuseV1, h(inf.Write))
	srv.Mount("POST /api/v2/write", ui.RoleWrite, inf.RefuseV2, h(inf.WriteV2))
	srv.Mount("POST /query", ui.RoleWrite, inf.RefuseV1, h(inf.Query))
	srv.Mount("GET /query", ui.RoleRead, inf.RefuseV1, h(inf.Query))
	// Prometheus remote write 1.0 and VictoriaMetrics' JSON-lines import.
	srv.Mount("POST /api/v1/write", ui.RoleWrite, rw.Refuse, h(rw.Write))
	srv.Mount("POST /api/v1/import", ui.RoleWrite, rw.Refuse, h(rw.Import))
	srv.Mount("POST /api/v1/graphite/explain", ui.RoleRead, gl.RefuseExplain, h(gl.Explain))

	// Prometheus HTTP API (query package), as Grafana and promtool call it.
	prom := func(pattern string, h http.HandlerFunc) {
		srv.Mount(pattern, ui.RoleRead, query.Refuse, api.Timed(pattern[strings.IndexByte(pattern, ' ')+1:], h))
	}
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
	srv.Mount("POST /api/v1/admin/tsdb/delete_series", ui.RoleAdmin, query.Refuse, h(api.DeleteSeries))
	srv.Mount("GET /api/v1/export", ui.RoleRead, query.Refuse, query.NewExporter(db))
	srv.Mount("POST /api/v1/export", ui.RoleRead, query.Refuse, query.NewExporter(db))

	// Alerting (alerting package): outpost's own API for alerts, acks,
	// notes, history and retirement, the rule reload, and the parts of
	// Alertmanager's v2 API that amtool and Grafana use.
	ap := func(pattern string, role ui.Role, h http.HandlerFunc) {
		srv.Mount(pattern, role, alerting.Refuse, h)
	}
	ap("GET /api/v1/alerting/alerts", ui.RoleRead, al.Alerts)
	ap("POST /api/v1/alerting/alerts/{id}/ack", ui.RoleAdmin, al.Ack)
	ap("DELETE /api/v1/alerting/alerts/{id}/ack", ui.RoleAdmin, al.Unack)
	ap("POST /api/v1/alerting/alerts/{id}/notes", ui.RoleAdmin, al.Note)
	ap("GET /api/v1/alerting/history", ui.RoleRead, al.History)
	ap("POST /api/v1/alerting/retire", ui.RoleAdmin, al.Retire)
	ap("GET /api/v1/alerting/outbox", ui.RoleRead, al.Outbox)
	ap("GET /api/v1/alerting/status", ui.RoleRead, al.Status)
	// Rule groups over the API (alerting/api_rules.go) and the backtest.
	ap("GET /api/v1/alerting/rules", ui.RoleRead, al.RuleGroupsList)
	ap("GET /api/v1/alerting/rules/{group}", ui.RoleRead, al.RuleGroupGet)
	ap("PUT /api/v1/alerting/rules/{group}", ui.RoleAdmin, al.RuleGroupPut)
	ap("DELETE /api/v1/alerting/rules/{group}", ui.RoleAdmin, al.RuleGroupDelete)
	ap("GET /api/v1/alerting/rules/{group}/export", ui.RoleRead, al.RuleGroupExport)
	ap("POST /api/v1/alerting/test", ui.RoleRead, al.Test)
	srv.Mount("POST /-/reload", ui.RoleAdmin, ui.RefuseText, h(al.Reload))
	am := func(pattern string, role ui.Role, h http.HandlerFunc) { srv.Mount(pattern, role, alerting.RefuseAM, h) }
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
	srv.Mount("GET /metrics", ui.RoleRead, ui.RefuseText, metricsHandler(metricsSources(srv, db, api, al, fwd, stats))) // metrics.go
	// Snapshots (api_snapshot.go): Prometheus' POST, and outpost's GET (a
	// tar of the snapshot, what `outpost backup` reads) and DELETE.
	snap := newSnapshotAPI(db, al, ev)
	srv.Mount("POST /api/v1/admin/tsdb/snapshot", ui.RoleAdmin, query.Refuse, h(snap.create))
	srv.Mount("GET /api/v1/admin/tsdb/snapshot/{name}", ui.RoleAdmin, query.Refuse, h(snap.stream))
	srv.Mount("DELETE /api/v1/admin/tsdb/snapshot/{name}", ui.RoleAdmin, query.Refuse, h(snap.remove))
	// POST only, as every route that changes state: a GET could be sent by
	// any web page open in a browser on the bastion (an <img> tag is enough).
	srv.Mount("POST /internal/force_flush", ui.RoleAdmin, ui.RefuseText, h(func(w http.ResponseWriter, r *http.Request) {
		if err := db.Flush(r.Context()); err != nil {
			http.Error(w, "flush: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))

}

// mountPages mounts the web pages (ui/pages): read role, admin for the
// forms that change state; refusals in plain text, and a 401 asks the
// browser for credentials (HTTP Basic, the token as password).
func mountPages(srv *ui.Server, pg *pages.Pages) {
	for _, r := range pg.Routes() {
		role := ui.RoleRead
		switch {
		case r.Admin:
			role = ui.RoleAdmin
		case r.Public:
			role = ui.RolePublic
		}
		srv.Mount(r.Pattern, role, ui.RefuseText, r.Handler)
	}
}

// ingestFigures adapts the collectors' counters for the pages (ui never
// imports collectors).
func ingestFigures(stats []*collectors.Stats) func() []pages.Ingest {
	return func() []pages.Ingest {
		out := make([]pages.Ingest, 0, len(stats))
		for _, s := range stats {
			in := pages.Ingest{Protocol: s.Protocol, Samples: s.Samples.Load(), Bytes: s.Bytes.Load(), Connections: s.Connections.Load()}
			for _, r := range s.Rejections() {
				in.Rejections = append(in.Rejections, pages.Rejection{What: r.What, Reason: r.Reason, N: r.N})
			}
			out = append(out, in)
		}
		return out
	}
}

// listeners lists the ingest addresses actually bound, for the pages'
// "next step" box.
func listeners(srv *ui.Server, gl *graphite.Listener, cl *collectd.Listener) []pages.Listener {
	out := []pages.Listener{{Protocol: "http", Network: "tcp", Addr: srv.Addr().String()}}
	if a := gl.Addr(); a != nil {
		out = append(out, pages.Listener{Protocol: "graphite", Network: "tcp+udp", Addr: a.String()})
	}
	if a := cl.Addr(); a != nil {
		out = append(out, pages.Listener{Protocol: "collectd", Network: "udp", Addr: a.String()})
	}
	return out
}

// mountEventRoutes mounts the event API (issue 12): ingest (collectors/
// events, write role) and search (query's EventsAPI, read role), both in
// the Prometheus API's envelope. Not mounted when events.enabled is false.
func mountEventRoutes(srv *ui.Server, in *evingest.Handler, api *query.EventsAPI) {
	srv.Mount("POST /api/v1/events", ui.RoleWrite, evingest.Refuse, http.HandlerFunc(in.Write))
	srv.Mount("GET /api/v1/events", ui.RoleRead, query.Refuse, http.HandlerFunc(api.Search))
}

// mountEventsOff answers the event routes when events.enabled is false:
// 404 in the Prometheus API's envelope, naming the key, rather than the
// mux's bare "404 page not found".
func mountEventsOff(srv *ui.Server) {
	off := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"not_found","error":"events are turned off: events.enabled is false"}`+"\n")
	})
	srv.Mount("POST /api/v1/events", ui.RoleWrite, evingest.Refuse, off)
	srv.Mount("GET /api/v1/events", ui.RoleRead, query.Refuse, off)
}
