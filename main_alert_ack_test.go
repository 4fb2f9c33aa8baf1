package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// An operator acknowledges a firing alert over the API: its repeats stop
// (the resolution would still be sent), the ack and a note are in its
// history, and unacknowledging brings the repeats back. Bad requests get
// 400 or 404 naming what is wrong.
func TestAlerting_AckNotesHistory(t *testing.T) {
	hook := newWebhook(t)
	rules := writeRules(t, t.TempDir(), "demo.yml", demoRules)
	cfg := strings.Replace(alertingConfig([]string{rules}, hook.URL, ""), "repeat_interval: 1h", "repeat_interval: 2s", 1)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: cfg})
	defer s.stop()
	writeLP(t, s, fmt.Sprintf("demo,host=a value=1 %d", time.Now().UnixMilli()))
	hook.waitAlert(t, "host a firing", 15*time.Second, is("Demo", "a", "firing", "warning"))
	count := func() int {
		n := 0
		for _, a := range hook.alerts() {
			if a.Labels["host"] == "a" && a.Status == "firing" {
				n++
			}
		}
		return n
	}
	for deadline := time.Now().Add(10 * time.Second); count() < 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no repeat within 10 s with repeat_interval 2s: %d notifications", count())
		}
	}

	_, body, _ := do(t, "GET", s.base+"/api/v1/alerting/alerts", "")
	var list struct {
		Data []struct {
			ID     string            `json:"id"`
			State  string            `json:"state"`
			Reason string            `json:"reason"`
			Labels map[string]string `json:"labels"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Data) != 1 || list.Data[0].State != "firing" || list.Data[0].Reason == "" {
		t.Fatalf("alerts: %v %s", err, body)
	}
	id := list.Data[0].ID
	form := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	ct := []string{"Content-Type", "application/x-www-form-urlencoded"}
	if code, body, _ := do(t, "POST", s.base+"/api/v1/alerting/alerts/"+id+"/ack", form("by", "alice", "comment", "looking"), ct...); code != 200 {
		t.Fatalf("ack: %d %s", code, body)
	}
	if code, body, _ := do(t, "POST", s.base+"/api/v1/alerting/alerts/"+id+"/notes", `{"by":"alice","text":"disk replaced"}`, "Content-Type", "application/json"); code != 200 {
		t.Fatalf("note: %d %s", code, body)
	}
	time.Sleep(time.Second) // a notification already in flight may still land
	acked := count()
	time.Sleep(5 * time.Second)
	if n := count(); n != acked {
		t.Fatalf("an acknowledged alert was repeated: %d notifications, %d at the ack", n, acked)
	}
	_, hist, _ := do(t, "GET", s.base+"/api/v1/alerting/history?id="+id, "")
	if !strings.Contains(hist, `"kind":"ack","rule"`) || !strings.Contains(hist, `"by":"alice"`) || !strings.Contains(hist, `"comment":"disk replaced"`) {
		t.Fatalf("history: %s", hist)
	}
	if code, body, _ := do(t, "DELETE", s.base+"/api/v1/alerting/alerts/"+id+"/ack", ""); code != 200 {
		t.Fatalf("unack: %d %s", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); count() == acked; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no repeat after the ack was removed")
		}
	}

	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/api/v1/alerting/alerts/ffff/ack", "", http.StatusNotFound, "no such alert: ffff"},
		{"POST", "/api/v1/alerting/retire", form("match[]", "{host="), http.StatusBadRequest, `match[]`},
		{"POST", "/api/v1/alerting/retire", "", http.StatusBadRequest, "give at least one series selector"},
		{"GET", "/api/v1/alerting/history?start=yesterday", "", http.StatusBadRequest, `start: \"yesterday\" is neither RFC 3339 nor Unix seconds`},
		{"POST", "/api/v2/silences", `{"matchers":[],"comment":"x","createdBy":"y","endsAt":"2099-01-01T00:00:00Z"}`, http.StatusBadRequest, "at least one matcher"},
		{"POST", "/api/v2/alerts", `[]`, http.StatusNotImplemented, "not built"},
	} {
		code, body, _ := do(t, c.method, s.base+c.path, c.body, ct...)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d containing %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
}
