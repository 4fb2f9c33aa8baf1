package receiver

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
)

// update rewrites the golden files under testdata/golden instead of
// comparing with them: go test ./alerting/receiver/ -update
var update = flag.Bool("update", false, "rewrite the golden files of testdata/golden")

// goldenJSON indents a JSON body for a golden file.
func goldenJSON(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func TestWebhook_Send_Golden(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL + "/hook"}}}, DefaultGlobal())
	if err := it.Send(t.Context(), testNotification()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/hook" {
		t.Errorf("request %s %s, want POST /hook", r.Method, r.Path)
	}
	for k, want := range map[string]string{
		"Content-Type":       "application/json",
		NotificationIDHeader: "01JNZK5T3Q8W6Y2V9X4R7M1C0B",
		"User-Agent":         "outpost",
	} {
		if got := r.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	checkGolden(t, filepath.Join("testdata", "golden", "webhook_v4.json"), goldenJSON(t, r.Body))

	// The keys are Alertmanager's version 4 payload plus notificationId,
	// and per alert Alertmanager's plus severity, value, reason, kind.
	var m struct {
		Alerts []map[string]json.RawMessage `json:"alerts"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(r.Body, &m)
	wantTop := []string{"alerts", "commonAnnotations", "commonLabels", "externalURL", "groupKey", "groupLabels",
		"notificationId", "receiver", "status", "truncatedAlerts", "version"}
	if got := slices.Sorted(maps.Keys(top)); !slices.Equal(got, wantTop) {
		t.Errorf("top-level keys %v, want %v", got, wantTop)
	}
	wantAlert := []string{"annotations", "endsAt", "fingerprint", "generatorURL", "labels", "reason", "severity",
		"startsAt", "status", "value"}
	if got := slices.Sorted(maps.Keys(m.Alerts[0])); !slices.Equal(got, wantAlert) {
		t.Errorf("alert keys %v, want %v", got, wantAlert)
	}
	if string(top["version"]) != `"4"` {
		t.Errorf("version %s, want \"4\"", top["version"])
	}
	if got := string(m.Alerts[0]["endsAt"]); got != `"0001-01-01T00:00:00Z"` {
		t.Errorf("firing alert endsAt %s, want Alertmanager's zero time", got)
	}
}

func TestWebhook_Send_MaxAlerts(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL, MaxAlerts: 1}}}, DefaultGlobal())
	n := testNotification()
	n.Alerts[0], n.Alerts[1] = n.Alerts[1], n.Alerts[0] // the resolved one first
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	var msg webhookMessage
	if err := json.Unmarshal(srv.requests()[0].Body, &msg); err != nil {
		t.Fatal(err)
	}
	// As in Alertmanager: status and common labels describe what is sent.
	if len(msg.Alerts) != 1 || msg.TruncatedAlerts != 1 || msg.Status != StatusResolved ||
		msg.CommonLabels["instance"] != "web2" {
		t.Errorf("got %d alerts, truncatedAlerts %d, status %s, commonLabels %v; want 1, 1, resolved, instance web2",
			len(msg.Alerts), msg.TruncatedAlerts, msg.Status, msg.CommonLabels)
	}
}

func TestWebhook_Send_SendResolvedFalse(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL, SendResolved: new(false)}}}, DefaultGlobal())
	if it.SendResolved() {
		t.Fatal("SendResolved() = true with send_resolved: false")
	}
	t.Run("mixed", func(t *testing.T) {
		if err := it.Send(t.Context(), testNotification()); err != nil {
			t.Fatal(err)
		}
		var msg webhookMessage
		_ = json.Unmarshal(srv.requests()[0].Body, &msg)
		if len(msg.Alerts) != 1 || msg.Alerts[0].Status != StatusFiring {
			t.Errorf("sent %+v; want only the firing alert", msg.Alerts)
		}
	})
	t.Run("all resolved", func(t *testing.T) {
		n := testNotification()
		n.Alerts = n.Alerts[1:]
		n.Status = StatusResolved
		if err := it.Send(t.Context(), n); err != nil {
			t.Fatal(err)
		}
		if got := len(srv.requests()); got != 1 {
			t.Errorf("%d requests in all; the resolved notification should send none", got)
		}
	})
}

func TestWebhook_Send_NonFiniteValue(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL}}}, DefaultGlobal())
	n := testNotification()
	n.Alerts[0].Value = math.NaN()
	n.Alerts[1].Value = math.Inf(1)
	n.GroupLabels = nil
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatalf("Send with NaN and +Inf values: %v", err)
	}
	var m struct {
		GroupLabels map[string]string            `json:"groupLabels"`
		Alerts      []map[string]json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(srv.requests()[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	for i, a := range m.Alerts {
		if _, ok := a["value"]; ok {
			t.Errorf("alert %d has value %s; want it left out", i, a["value"])
		}
	}
	if m.GroupLabels == nil {
		t.Errorf("groupLabels is null; want {}")
	}
}
