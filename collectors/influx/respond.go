package influx

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// InfluxDBVersion is the X-Influxdb-Version every response carries. Telegraf
// does not read it; client libraries report it from /ping (influxdb-java's
// Pong, influxdb1-client's Ping) and tools that tell InfluxDB 1.x from 2.x
// look at its leading "1.", so it names the last 1.x release whose API we
// follow.
const InfluxDBVersion = "1.8.10"

// setHeaders sets the headers every response carries.
func (h *Handler) setHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("X-Influxdb-Version", InfluxDBVersion)
	hd.Set("X-Influxdb-Build", "OSS")
	if h.opts.Version != "" {
		hd.Set("X-Outpost-Version", h.opts.Version)
	}
}

// v1Error is InfluxDB 1.x's error body.
type v1Error struct {
	Error string `json:"error"`
}

// v2Error is InfluxDB 2.x's error body.
type v2Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// v2Code is InfluxDB 2.x's error code for each status we send.
func v2Code(status int) string {
	switch status {
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusUnprocessableEntity:
		return "unprocessable entity"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusUnsupportedMediaType:
		return "unsupported media type"
	case http.StatusInternalServerError:
		return "internal error"
	case http.StatusNotFound:
		return "not found"
	}
	return "invalid"
}

// fail answers an error in the shape of the API version: v1
// {"error":"..."} with X-Influxdb-Error, v2 {"code":"...","message":"..."}.
func (h *Handler) fail(w http.ResponseWriter, v api, status int, msg string) {
	if v == apiV2 {
		writeJSON(w, status, v2Error{Code: v2Code(status), Message: msg})
		return
	}
	w.Header().Set("X-Influxdb-Error", headerSafe(msg))
	writeJSON(w, status, v1Error{Error: msg})
}

// respondWrite answers a write request from its outcome (the table in
// doc.go).
func (h *Handler) respondWrite(w http.ResponseWriter, v api, o outcome) {
	switch {
	case o.overload || o.canceled:
		// Never 4xx: Telegraf drops a batch on 4xx and retries on 5xx.
		// Batches written before the overload are written again on retry,
		// which stores the same samples again (last write wins).
		w.Header().Set("Retry-After", "1")
		h.fail(w, v, http.StatusServiceUnavailable, "outpost is overloaded, retry later")
	case o.unavail:
		// The store cannot append to its WAL (a full disk, say) and
		// resumes by itself: later, as for overload, but not at once.
		w.Header().Set("Retry-After", "5")
		h.fail(w, v, http.StatusServiceUnavailable, "outpost cannot store writes for now, retry later")
	case o.internal != nil:
		h.logInternal(o.internal)
		h.fail(w, v, http.StatusInternalServerError, "internal error")
	case o.firstErr == nil:
		w.WriteHeader(http.StatusNoContent)
	case o.written == 0 && o.rejected == 0:
		// Nothing was written and every line was bad: InfluxDB answers the
		// parse error itself, without "partial write".
		h.fail(w, v, http.StatusBadRequest, o.firstErr.Error())
	default:
		msg := "partial write: " + o.firstErr.Error() + " dropped=" + strconv.Itoa(o.bad+o.rejected)
		if v == apiV2 {
			h.fail(w, v, http.StatusUnprocessableEntity, msg)
			return
		}
		h.fail(w, v, http.StatusBadRequest, msg)
	}
}

// writeJSON sends v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // only our own plain structs are encoded here
		b = []byte(`{"error":"internal error"}`)
		status = http.StatusInternalServerError
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client may be gone; nothing to do about it
}

// headerSafe makes s fit a header value: control characters become spaces
// and it is cut to 1 KiB.
func headerSafe(s string) string {
	if len(s) > 1024 {
		s = s[:1024]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
