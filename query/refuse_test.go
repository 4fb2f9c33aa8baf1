package query

import (
	"net/http/httptest"
	"testing"
)

func TestRefuse_PrometheusEnvelope(t *testing.T) {
	for status, want := range map[int]string{
		401: `{"status":"error","errorType":"unauthorized","error":"authorization failed: unknown token"}` + "\n",
		403: `{"status":"error","errorType":"forbidden","error":"forbidden: unknown token"}` + "\n",
	} {
		rec := httptest.NewRecorder()
		Refuse(rec, httptest.NewRequest("GET", "/api/v1/query", nil), status, "unknown token")
		if rec.Code != status || rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("Refuse(%d) = %d %q, want %q", status, rec.Code, rec.Body, want)
		}
	}
}
