package influx

import "net/http"

// RefuseV1 answers a request to an InfluxDB 1.x route (/write, /query,
// /ping) that authentication turned away, as InfluxDB 1.x does: 401
// {"error":"authorization failed"}, 403 {"error":"forbidden: REASON"},
// with the headers every answer of this package carries. It fits
// ui.Refuser.
func (h *Handler) RefuseV1(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.setHeaders(w)
	msg := "forbidden: " + reason
	if status == http.StatusUnauthorized {
		msg = "authorization failed" // InfluxDB 1.x's own words
	}
	h.fail(w, apiV1, status, msg)
}

// RefuseV2 answers a refused request to an InfluxDB 2.x route
// (/api/v2/write, /health) as InfluxDB 2.x does: 401
// {"code":"unauthorized","message":"unauthorized access"}, 403
// {"code":"forbidden","message":"forbidden: REASON"}. It fits ui.Refuser.
func (h *Handler) RefuseV2(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.setHeaders(w)
	if status == http.StatusUnauthorized {
		writeJSON(w, status, v2Error{Code: "unauthorized", Message: "unauthorized access"})
		return
	}
	writeJSON(w, status, v2Error{Code: "forbidden", Message: "forbidden: " + reason})
}
