package query

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"outpost/tsdb"
)

// APIOptions configures the Prometheus HTTP API.
type APIOptions struct {
	// Version is what /api/v1/status/buildinfo reports; Grafana reads it
	// to pick Prometheus features. Empty means "2.24.0".
	Version, Revision, Branch, BuildUser, BuildDate string
	// Rules lists rule groups for /api/v1/rules; nil answers no groups.
	Rules func(ctx context.Context) ([]RuleGroup, error)
	// Alerts lists active alerts for /api/v1/alerts; nil answers none.
	Alerts func(ctx context.Context) ([]Alert, error)
	// Logger receives internal errors (once each); nil discards them.
	Logger *slog.Logger
}

// API serves the Prometheus HTTP API over an Engine and its Storage. Its
// handler methods are mounted by main's route table:
//
//	GET|POST /api/v1/query                 Query
//	GET|POST /api/v1/query_range           QueryRange
//	GET|POST /api/v1/series                Series
//	GET|POST /api/v1/labels                Labels
//	GET      /api/v1/label/{name}/values   LabelValues
//	GET      /api/v1/metadata              Metadata
//	GET|POST /api/v1/query_exemplars       QueryExemplars
//	GET      /api/v1/status/buildinfo      BuildInfo
//	GET      /api/v1/status/tsdb           TSDBStatus
//	GET      /api/v1/rules                 Rules
//	GET      /api/v1/alerts                Alerts
//
// Register mounts them all on a ServeMux with those patterns. Every
// handler is safe for concurrent use.
type API struct {
	e    *Engine
	st   Storage
	opts APIOptions
	log  *slog.Logger
	m    *apiMetrics // latency by endpoint (metrics.go)
}

// NewAPI returns the API over e and st.
func NewAPI(e *Engine, st Storage, opts APIOptions) *API {
	if opts.Version == "" {
		opts.Version = "2.24.0"
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &API{e: e, st: st, opts: opts, log: log.With("component", "api"),
		m: &apiMetrics{endpoints: map[string]*latency{}}}
}

// Register mounts every handler of the API on mux (see API for the list).
func (a *API) Register(mux *http.ServeMux) {
	for _, m := range []string{"GET", "POST"} {
		mux.HandleFunc(m+" /api/v1/query", a.Query)
		mux.HandleFunc(m+" /api/v1/query_range", a.QueryRange)
		mux.HandleFunc(m+" /api/v1/series", a.Series)
		mux.HandleFunc(m+" /api/v1/labels", a.Labels)
		mux.HandleFunc(m+" /api/v1/query_exemplars", a.QueryExemplars)
	}
	mux.HandleFunc("GET /api/v1/label/{name}/values", a.LabelValues)
	mux.HandleFunc("GET /api/v1/metadata", a.Metadata)
	mux.HandleFunc("GET /api/v1/status/buildinfo", a.BuildInfo)
	mux.HandleFunc("GET /api/v1/status/tsdb", a.TSDBStatus)
	mux.HandleFunc("GET /api/v1/rules", a.Rules)
	mux.HandleFunc("GET /api/v1/alerts", a.Alerts)
}

// The Prometheus API's error types.
const (
	errorBadData     = "bad_data"
	errorExecution   = "execution"
	errorCanceled    = "canceled"
	errorTimeout     = "timeout"
	errorInternal    = "internal"
	errorUnavailable = "unavailable"
	errorNotFound    = "not_found"
)

// statusClientClosed is the status Prometheus answers a canceled query
// with (nginx's "client closed request").
const statusClientClosed = 499

// classify maps an error to the Prometheus error type and HTTP status.
// This is the one place that mapping lives.
func classify(err error) (string, int) {
	switch {
	case errors.Is(err, ErrSyntax), errors.Is(err, ErrUnknownFunction), errors.Is(err, ErrArgCount),
		errors.Is(err, ErrBadArgument), errors.Is(err, ErrBadParam), errors.Is(err, ErrTooManyPoints):
		return errorBadData, http.StatusBadRequest
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return errorTimeout, http.StatusServiceUnavailable
	case errors.Is(err, ErrCanceled), errors.Is(err, context.Canceled):
		return errorCanceled, statusClientClosed
	case errors.Is(err, ErrTooManySamples), errors.Is(err, ErrMemoryLimit), errors.Is(err, ErrDuplicateSeries):
		return errorExecution, http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnavailable), errors.Is(err, tsdb.ErrClosed):
		return errorUnavailable, http.StatusServiceUnavailable
	case errors.Is(err, errNotFound):
		return errorNotFound, http.StatusNotFound
	}
	return errorInternal, http.StatusInternalServerError
}

// errNotFound marks an unknown API path or object.
var errNotFound = errors.New("not found")

// writeError answers with the Prometheus error envelope. Internal errors
// are logged here, once, and shown as "internal error".
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	typ, code := classify(err)
	msg := err.Error()
	if typ == errorInternal {
		a.log.Error("api request failed", "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"status":"error","errorType":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	b = append(b, '}')
	writeJSON(w, code, b)
}

// writeSuccess answers with data (already JSON) in the success envelope.
func writeSuccess(w http.ResponseWriter, data []byte, warnings []string) {
	b := make([]byte, 0, len(data)+64)
	b = append(b, `{"status":"success","data":`...)
	b = append(b, data...)
	if len(warnings) > 0 {
		b = append(b, `,"warnings":[`...)
		for i, s := range warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	writeJSON(w, http.StatusOK, b)
}

func writeJSON(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// requestContext bounds the request by the optional timeout parameter.
func requestContext(r *http.Request) (context.Context, context.CancelFunc, error) {
	if s := r.FormValue("timeout"); s != "" {
		d, err := parseDurationParam(s)
		if err != nil {
			return nil, nil, paramError("timeout", err)
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		return ctx, cancel, nil
	}
	ctx, cancel := context.WithCancel(r.Context())
	return ctx, cancel, nil
}

// nowOr returns the engine clock when the parameter is empty.
func (a *API) timeParam(r *http.Request, name string, def time.Time) (time.Time, error) {
	s := r.FormValue(name)
	if s == "" {
		return def, nil
	}
	t, err := parseTimeParam(s)
	if err != nil {
		return time.Time{}, paramError(name, err)
	}
	return t, nil
}
