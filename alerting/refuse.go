package alerting

import (
	"errors"
	"net/http"

	"outpost/query"
)

// Refuse answers a refused request to outpost's own alerting API
// (/api/v1/alerting/..., shaped as Prometheus' API): the Prometheus error
// envelope. It fits ui.Refuser.
func Refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	query.Refuse(w, r, status, reason)
}

// RefuseAM answers a refused request to the Alertmanager v2 API as
// Alertmanager answers errors: a JSON string. It fits ui.Refuser.
func RefuseAM(w http.ResponseWriter, r *http.Request, status int, reason string) {
	msg := "authorization failed: " + reason
	if status == http.StatusForbidden {
		msg = "forbidden: " + reason
	}
	writeAMError(w, status, errors.New(msg))
}
