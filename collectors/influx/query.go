package influx

import (
	"net/http"
	"slices"
	"strings"
	"sync"
)

// maxDatabases bounds the names SHOW DATABASES remembers.
const maxDatabases = 10_000

// maxQueryBytes bounds a /query form body.
const maxQueryBytes = 1 << 20

// msgNoInfluxQL answers every statement other than the few Telegraf sends.
const msgNoInfluxQL = "outpost does not run InfluxQL queries: query with MetricsQL (PromQL) " +
	"through the Prometheus API at /api/v1/query and /api/v1/query_range"

// databases is the set of database names seen: db (v1) and bucket (v2)
// parameters of writes that stored something, and CREATE DATABASE names.
type databases struct {
	mu  sync.RWMutex
	set map[string]struct{} // guarded by mu; at most maxDatabases names
}

// add remembers name unless the set is full.
func (d *databases) add(name string) {
	d.mu.RLock()
	_, ok := d.set[name]
	d.mu.RUnlock()
	if ok {
		return
	}
	d.mu.Lock()
	if len(d.set) < maxDatabases {
		d.set[name] = struct{}{}
	}
	d.mu.Unlock()
}

// list returns the names, sorted.
func (d *databases) list() []string {
	d.mu.RLock()
	out := make([]string, 0, len(d.set))
	for n := range d.set {
		out = append(out, n)
	}
	d.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Ping serves GET and HEAD /ping: 204 with the version headers, as InfluxDB
// 1.x does. With verbose=true it answers 200 {"version":"1.8.10"}, as 1.8
// does.
func (h *Handler) Ping(w http.ResponseWriter, r *http.Request) {
	h.setHeaders(w)
	if v := r.URL.Query().Get("verbose"); v == "true" || v == "1" {
		writeJSON(w, http.StatusOK, map[string]string{"version": InfluxDBVersion})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
}

// health is InfluxDB 2.x's /health body.
type health struct {
	Name    string   `json:"name"`
	Message string   `json:"message"`
	Status  string   `json:"status"`
	Checks  []string `json:"checks"`
	Version string   `json:"version"`
}

// Health serves GET /health in InfluxDB 2.x's JSON shape: 200 "pass"
// (its message followed by Options.Warnings), or, when Options.Health
// reports an error, 503 "fail" with the error as the message.
func (h *Handler) Health(w http.ResponseWriter, r *http.Request) {
	h.setHeaders(w)
	if h.opts.Health != nil {
		if err := h.opts.Health(); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, health{Name: "outpost", Message: err.Error(),
				Status: "fail", Checks: []string{}, Version: h.opts.Version})
			return
		}
	}
	msg := "ready for queries and writes"
	if h.opts.Warnings != nil {
		if ws := h.opts.Warnings(); len(ws) > 0 {
			msg += "; " + strings.Join(ws, "; ")
		}
	}
	writeJSON(w, http.StatusOK, health{Name: "outpost", Message: msg, Status: "pass", Checks: []string{}, Version: h.opts.Version})
}

// queryResponse is InfluxDB 1.x's /query body.
type queryResponse struct {
	Results []queryResult `json:"results"`
}

type queryResult struct {
	StatementID int          `json:"statement_id"`
	Series      []showSeries `json:"series,omitempty"`
	Err         string       `json:"error,omitempty"`
}

type showSeries struct {
	Name    string     `json:"name"`
	Columns []string   `json:"columns"`
	Values  [][]string `json:"values,omitempty"`
}

// Query serves GET and POST /query with parameter q (URL or form body):
// CREATE DATABASE (remembered for SHOW DATABASES) and CREATE RETENTION
// POLICY (accepted, no effect), both in a POST only, and SHOW DATABASES. Any other statement gets an
// error result pointing to the Prometheus API; as InfluxDB, the statements
// after a failed one are not executed, and the status stays 200 because the
// error is in the result, not in the request.
func (h *Handler) Query(w http.ResponseWriter, r *http.Request) {
	h.setHeaders(w)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		h.fail(w, apiV1, http.StatusMethodNotAllowed, "method not allowed: use GET or POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxQueryBytes)
	if err := r.ParseForm(); err != nil {
		h.fail(w, apiV1, http.StatusBadRequest, "parse query form: "+err.Error())
		return
	}
	q := r.Form.Get("q")
	if strings.TrimSpace(q) == "" {
		h.fail(w, apiV1, http.StatusBadRequest, `missing required parameter "q"`)
		return
	}
	resp := queryResponse{Results: []queryResult{}}
	failed := false
	for _, stmt := range splitStatements(q) {
		res := queryResult{StatementID: len(resp.Results)}
		if failed {
			res.Err = "not executed"
		} else {
			h.execute(stmt, r.Method == http.MethodPost, &res)
			failed = res.Err != ""
		}
		resp.Results = append(resp.Results, res)
	}
	writeJSON(w, http.StatusOK, resp)
}

// execute runs one statement into res. Statements that change state
// (CREATE) run only in a POST: a GET needs only the read role, and a web
// page can make a browser send one.
func (h *Handler) execute(stmt []token, post bool, res *queryResult) {
	kw := func(i int, word string) bool {
		return i < len(stmt) && !stmt[i].quoted && strings.EqualFold(stmt[i].text, word)
	}
	switch {
	case kw(0, "CREATE") && !post:
		res.Err = "CREATE changes state: send it with POST"
	case kw(0, "CREATE") && kw(1, "DATABASE"):
		if len(stmt) < 3 || stmt[2].text == "" {
			res.Err = "error parsing query: found EOF, expected identifier at line 1"
			return
		}
		h.dbs.add(stmt[2].text)
	case kw(0, "CREATE") && kw(1, "RETENTION") && kw(2, "POLICY"):
	case kw(0, "SHOW") && kw(1, "DATABASES") && len(stmt) == 2:
		s := showSeries{Name: "databases", Columns: []string{"name"}}
		for _, n := range h.dbs.list() {
			s.Values = append(s.Values, []string{n})
		}
		res.Series = []showSeries{s}
	default:
		res.Err = msgNoInfluxQL
	}
}
