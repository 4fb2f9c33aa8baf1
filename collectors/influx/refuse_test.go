package influx

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestRefuse_Shapes(t *testing.T) {
	h := New(nil, Options{Version: "test"})
	for _, tc := range []struct {
		name   string
		refuse func(http.ResponseWriter, *http.Request, int, string)
		status int
		want   string
	}{
		{"v1 401", h.RefuseV1, 401, `{"error":"authorization failed"}` + "\n"},
		{"v1 403", h.RefuseV1, 403, `{"error":"forbidden: no"}` + "\n"},
		{"v2 401", h.RefuseV2, 401, `{"code":"unauthorized","message":"unauthorized access"}` + "\n"},
		{"v2 403", h.RefuseV2, 403, `{"code":"forbidden","message":"forbidden: no"}` + "\n"},
	} {
		rec := httptest.NewRecorder()
		tc.refuse(rec, httptest.NewRequest("POST", "/write", nil), tc.status, "no")
		if rec.Code != tc.status || rec.Body.String() != tc.want || rec.Header().Get("X-Influxdb-Version") != InfluxDBVersion ||
			rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %q %v, want %d %q with X-Influxdb-Version", tc.name, rec.Code, rec.Body, rec.Header(), tc.status, tc.want)
		}
	}
}
