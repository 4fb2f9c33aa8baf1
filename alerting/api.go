package alerting

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"outpost/query"
)

// API serves outpost's own alerting API and Alertmanager's v2 API over a
// Manager. main's route table mounts its handler methods:
//
//	GET    /api/v1/alerting/alerts             Alerts: every open alert, with reason, datapoints, ack
//	POST   /api/v1/alerting/alerts/{id}/ack    Ack (admin): by, comment
//	DELETE /api/v1/alerting/alerts/{id}/ack    Unack (admin)
//	POST   /api/v1/alerting/alerts/{id}/notes  Note (admin): by, text
//	GET    /api/v1/alerting/history            History: id, alertname, start, end, limit
//	POST   /api/v1/alerting/retire             Retire (admin): match[], by, comment
//	GET    /api/v1/alerting/outbox             Outbox: notifications waiting for delivery
//	GET    /api/v1/alerting/status             Status: rule files, their errors, delivery figures
//	POST   /-/reload                           Reload (admin)
//
// Answers use the Prometheus API envelope ({"status":"success","data":…}
// or {"status":"error","errorType":…,"error":…}).
type API struct {
	m *Manager
}

// NewAPI returns the API over m.
func NewAPI(m *Manager) *API { return &API{m: m} }

// maxFormBytes bounds the body of the API's POST requests.
const maxFormBytes = 1 << 20

// Alerts serves GET /api/v1/alerting/alerts.
func (a *API) Alerts(w http.ResponseWriter, r *http.Request) {
	views := a.m.Alerts()
	if views == nil {
		views = []AlertView{}
	}
	writeData(w, views)
}

// Ack serves POST /api/v1/alerting/alerts/{id}/ack.
func (a *API) Ack(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	a.result(w, a.m.Ack(r.Context(), r.PathValue("id"), f.by(), f.get("comment")))
}

// Unack serves DELETE /api/v1/alerting/alerts/{id}/ack.
func (a *API) Unack(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	a.result(w, a.m.Unack(r.Context(), r.PathValue("id"), f.by()))
}

// Note serves POST /api/v1/alerting/alerts/{id}/notes.
func (a *API) Note(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	a.result(w, a.m.Note(r.Context(), r.PathValue("id"), f.by(), f.get("text")))
}

func (a *API) result(w http.ResponseWriter, err error) {
	switch {
	case err == nil:
		writeData(w, map[string]string{})
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", err)
	default:
		writeError(w, http.StatusUnprocessableEntity, "bad_data", err)
	}
}

// History serves GET /api/v1/alerting/history.
func (a *API) History(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := a.m.opts.Now()
	from, err := timeParam(q.Get("start"), now.Add(-a.m.cfg.HistoryRetention))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("start: %w", err))
		return
	}
	to, err := timeParam(q.Get("end"), now)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("end: %w", err))
		return
	}
	limit := 1000
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 0 {
			writeError(w, http.StatusBadRequest, "bad_data", fmt.Errorf("limit: %q is not a count", s))
			return
		}
	}
	evs, err := a.m.History(from, to, q.Get("id"), q.Get("alertname"), limit)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	if evs == nil {
		evs = []Event{}
	}
	writeData(w, evs)
}

// Retire serves POST /api/v1/alerting/retire.
func (a *API) Retire(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	if len(f["match[]"]) == 0 {
		writeError(w, http.StatusBadRequest, "bad_data", errors.New("match[]: give at least one series selector, such as {host=\"web3\"}"))
		return
	}
	sel, err := query.ParseSelectors(f["match[]"])
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_data", err)
		return
	}
	res, err := a.m.Retire(r.Context(), sel, f.by(), f.get("comment"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", err)
		return
	}
	writeData(w, res)
}

// Reload serves POST /-/reload: 200 when every rule file loaded, else
// 500 naming the files that failed (their previous rules keep running).
func (a *API) Reload(w http.ResponseWriter, r *http.Request) {
	if err := a.m.Reload(r.Context()); err != nil {
		http.Error(w, "failed to reload rules (the previous version of each failed file keeps running): "+err.Error(),
			http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// form is a request's parameters, from the query string, a form body or
// a JSON object body.
type form map[string][]string

func (f form) get(k string) string {
	if v := f[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// by is who acts: the "by" parameter, else "api".
func (f form) by() string {
	if b := strings.TrimSpace(f.get("by")); b != "" {
		return b
	}
	return "api"
}

// readForm reads r's parameters: a JSON object body (string values or
// lists of strings) or the form and query string.
func readForm(r *http.Request) (form, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" {
		r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("read form: %w", err)
		}
		return form(r.Form), nil
	}
	var raw map[string]any
	if err := json.NewDecoder(io.LimitReader(r.Body, maxFormBytes)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("read JSON body: %w", err)
	}
	f := form(r.URL.Query())
	for k, v := range raw {
		switch v := v.(type) {
		case string:
			f[k] = []string{v}
		case []any:
			for _, s := range v {
				str, ok := s.(string)
				if !ok {
					return nil, fmt.Errorf("read JSON body: %q: items must be strings", k)
				}
				f[k] = append(f[k], str)
			}
		default:
			return nil, fmt.Errorf("read JSON body: %q must be a string or a list of strings", k)
		}
	}
	return f, nil
}

// timeParam parses an RFC 3339 time or Unix seconds; "" gives def.
func timeParam(s string, def time.Time) (time.Time, error) {
	if s == "" {
		return def, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	return t, nil
}

// writeData writes the success envelope around v.
func writeData(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": v})
}

// writeError writes the error envelope.
func writeError(w http.ResponseWriter, code int, typ string, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "error", "errorType": typ, "error": err.Error()})
}

// Outbox serves GET /api/v1/alerting/outbox: the notifications waiting
// for delivery, with their attempts.
func (a *API) Outbox(w http.ResponseWriter, r *http.Request) {
	writeData(w, a.m.notifier.Outbox())
}

// Status serves GET /api/v1/alerting/status: every rule file with the
// error of its last load (its previous version runs), and the delivery
// figures of every integration.
func (a *API) Status(w http.ResponseWriter, r *http.Request) {
	writeData(w, a.m.Status())
}

// WriteMetrics writes the alerting figures for GET /metrics (see
// Manager.WriteMetrics).
func (a *API) WriteMetrics(w io.Writer) error { return a.m.WriteMetrics(w) }
