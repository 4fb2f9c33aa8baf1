package graphite

import "net/http"

// RefuseExplain answers a refused POST /api/v1/graphite/explain in the
// route's own error shape, {"error":"..."}. It fits ui.Refuser.
func (l *Listener) RefuseExplain(w http.ResponseWriter, r *http.Request, status int, reason string) {
	msg := "authorization failed: " + reason
	if status == http.StatusForbidden {
		msg = "forbidden: " + reason
	}
	writeJSON(w, status, map[string]string{"error": msg})
}
