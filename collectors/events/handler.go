package events

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"outpost/collectors"
	store "outpost/tsdb/events"
)

// Options configures a Handler.
type Options struct {
	// Stats counts requests' bytes, stored events (as Samples) and
	// rejections; nil keeps no count.
	Stats *collectors.Stats
	// Now is the arrival clock; nil means time.Now.
	Now func() time.Time
	// Logger receives internal errors (once each); nil discards them.
	Logger *slog.Logger
}

// Handler serves POST /api/v1/events.
type Handler struct {
	st    *store.Store
	dec   Decoder
	max   int64
	stats *collectors.Stats
	now   func() time.Time
	log   *slog.Logger
}

// New returns the handler storing into st.
func New(st *store.Store, cfg Config, opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stats == nil {
		opts.Stats = collectors.NewStats("events")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Handler{st: st, dec: Decoder{Config: cfg, Check: st.CheckTime}, max: cfg.MaxBodyBytes,
		stats: opts.Stats, now: opts.Now, log: log.With("component", "events")}
}

// Stats returns the handler's counters.
func (h *Handler) Stats() *collectors.Stats { return h.stats }

// Write stores the events of the body; 200 with what was received,
// stored and found duplicate, or an error naming what is wrong.
func (h *Handler) Write(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	body, err := h.readBody(r)
	if err != nil {
		h.refuse(w, err)
		return
	}
	h.stats.Bytes.Add(uint64(len(body)))
	evs, err := h.dec.Decode(body, now)
	if err != nil {
		h.refuse(w, err)
		return
	}
	res, err := h.st.Append(r.Context(), evs)
	switch {
	case err == nil:
	case errors.Is(err, store.ErrOutOfBounds): // the day expired under the request
		h.refuse(w, &InputError{Index: -1, Status: http.StatusBadRequest, Msg: err.Error()})
		return
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		h.stats.Reject("events", "unavailable", uint64(len(evs)))
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the event store is shutting down; retry")
		return
	default:
		h.stats.Reject("events", "store_error", uint64(len(evs)))
		h.log.Error("store events failed", "events", len(evs), "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
		return
	}
	h.stats.Samples.Add(uint64(res.Stored))
	b := []byte(`{"status":"success","data":{"received":`)
	b = strconv.AppendInt(b, int64(len(evs)), 10)
	b = append(b, `,"stored":`...)
	b = strconv.AppendInt(b, int64(res.Stored), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	b = append(b, "}}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// readBody reads the (possibly gzipped) body up to events.max_body_bytes.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, &InputError{Index: -1, Status: http.StatusBadRequest, Msg: "read gzip body: " + err.Error()}
		}
		defer zr.Close()
		rd = zr
	}
	b, err := io.ReadAll(io.LimitReader(rd, h.max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &InputError{Index: -1, Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("request body over http.max_body_bytes (%d)", mbe.Limit)}
	case err != nil:
		return nil, &InputError{Index: -1, Status: http.StatusBadRequest, Msg: "read body: " + err.Error()}
	case int64(len(b)) > h.max:
		return nil, &InputError{Index: -1, Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("request body over events.max_body_bytes (%d)", h.max)}
	}
	return b, nil
}

func (h *Handler) refuse(w http.ResponseWriter, err error) {
	var ie *InputError
	if !errors.As(err, &ie) {
		ie = &InputError{Index: -1, Status: http.StatusBadRequest, Msg: err.Error()}
	}
	reason := "invalid"
	if ie.Status == http.StatusRequestEntityTooLarge {
		reason = "too_large"
	}
	h.stats.Reject("requests", reason, 1)
	writeError(w, ie.Status, "bad_data", ie.Error())
}

// Refuse answers a request that authentication turned away, in the same
// envelope (it fits ui.Refuser: status is 401 or 403).
func Refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	typ, msg := "unauthorized", "authorization failed: "+reason
	if status == http.StatusForbidden {
		typ, msg = "forbidden", "forbidden: "+reason
	}
	writeError(w, status, typ, msg)
}

// writeError answers in the Prometheus API's error envelope.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	b := []byte(`{"status":"error","errorType":`)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := jsonMarshal(s)
	return append(b, q...)
}
