package query

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"outpost/tsdb/events"
)

// The search of stored events lives here rather than in collectors/events
// (which receives them): it is a read API like the rest of this package,
// answered in the same envelope, with the same time parameters
// (parseTimeParam) and the same error mapping (classify), and the pages
// and annotations that will show events read through it. collectors/events
// owns the write side only.

// maxEventsLimit caps the limit parameter of GET /api/v1/events.
const maxEventsLimit = 10_000

// EventsAPIOptions configures an EventsAPI.
type EventsAPIOptions struct {
	// Logger receives internal errors (once each); nil discards them.
	Logger *slog.Logger
}

// EventsAPI serves GET /api/v1/events over an event store:
//
//	query   the search (tsdb/events.Query's language); empty: every event
//	start   oldest time (Unix seconds or RFC 3339); default: the oldest kept
//	end     newest time; default: the newest
//	limit   events per page, 1 to 10000; default 100
//	cursor  the "next" of the page before, to continue
//
// It answers {"status":"success","data":{"events":[{"id","time","event"}],
// "next":cursor|null}}, newest first. It is safe for concurrent use.
type EventsAPI struct {
	st  *events.Store
	log *slog.Logger
}

// NewEventsAPI returns the search API over st.
func NewEventsAPI(st *events.Store, opts EventsAPIOptions) *EventsAPI {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &EventsAPI{st: st, log: log.With("component", "api")}
}

// Search answers GET /api/v1/events.
func (a *EventsAPI) Search(w http.ResponseWriter, r *http.Request) {
	req, err := eventsRequest(r)
	if err == nil {
		var page events.Page
		if page, err = a.st.Search(r.Context(), req); err == nil {
			writeSuccess(w, appendEventsPage(make([]byte, 0, 1024), page), nil)
			return
		}
		switch {
		case errors.Is(err, events.ErrBadCursor):
			err = paramError("cursor", err)
		case errors.Is(err, events.ErrClosed):
			err = errorf(ErrUnavailable, "%v", err)
		}
	}
	typ, code := classify(err)
	msg := err.Error()
	if typ == errorInternal {
		a.log.Error("api request failed", "path", r.URL.Path, "err", err)
		msg = "internal error"
	}
	b := append([]byte(`{"status":"error","errorType":`), appendJSONString(nil, typ)...)
	b = append(append(b, `,"error":`...), appendJSONString(nil, msg)...)
	writeJSON(w, code, append(b, '}'))
}

// eventsRequest reads the parameters of a search.
func eventsRequest(r *http.Request) (events.SearchRequest, error) {
	var req events.SearchRequest
	q, err := events.ParseQuery(r.FormValue("query"))
	if err != nil {
		return req, paramError("query", err)
	}
	req.Query = q
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"start", &req.Start}, {"end", &req.End}} {
		if s := r.FormValue(p.name); s != "" {
			if *p.t, err = parseTimeParam(s); err != nil {
				return req, paramError(p.name, err)
			}
		}
	}
	if !req.Start.IsZero() && !req.End.IsZero() && req.End.Before(req.Start) {
		return req, paramError("end", errors.New("end timestamp must not be before start time"))
	}
	req.Limit = 100
	if s := r.FormValue("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxEventsLimit {
			return req, paramError("limit", errors.New("must be a whole number from 1 to 10000"))
		}
		req.Limit = n
	}
	req.Cursor = r.FormValue("cursor")
	return req, nil
}

// appendEventsPage appends the data object of a search answer.
func appendEventsPage(b []byte, p events.Page) []byte {
	b = append(b, `{"events":[`...)
	for i, e := range p.Events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendJSONString(b, e.ID)
		b = append(b, `,"time":"`...)
		b = e.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","event":`...)
		b = append(b, e.Body...)
		b = append(b, '}')
	}
	b = append(b, `],"next":`...)
	if p.Next == "" {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, p.Next)
	}
	return append(b, '}')
}
