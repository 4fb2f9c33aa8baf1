package query

import "net/http"

// Refuse answers a request to a Prometheus API route that authentication
// turned away, in the API's error envelope:
// {"status":"error","errorType":"unauthorized"|"forbidden","error":"..."}.
// It fits ui.Refuser (status is 401 or 403; reason never holds a token).
func Refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	typ, msg := "unauthorized", "authorization failed: "+reason
	if status == http.StatusForbidden {
		typ, msg = "forbidden", "forbidden: "+reason
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"status":"error","errorType":`...)
	b = appendJSONString(b, typ)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	b = append(b, "}\n"...)
	writeJSON(w, status, b)
}
