package alerting

import (
	"net/http/httptest"
	"testing"
)

func TestRefuseAM_JSONString(t *testing.T) {
	rec := httptest.NewRecorder()
	RefuseAM(rec, httptest.NewRequest("POST", "/api/v2/silences", nil), 403, "admin actions are accepted only from loopback clients")
	if want := `"forbidden: admin actions are accepted only from loopback clients"` + "\n"; rec.Code != 403 || rec.Body.String() != want {
		t.Errorf("RefuseAM = %d %q, want 403 %q", rec.Code, rec.Body, want)
	}
}
