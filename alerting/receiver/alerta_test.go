package receiver

import (
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"testing"
)

// sendAlerta sends n through an alerta integration built from c against a
// capture server answering status, and returns the alerts it received.
func sendAlerta(t *testing.T, c AlertaConfig, n *Notification, status int) ([]alertaAlert, []request, error) {
	t.Helper()
	srv := newCapture(t, status, `{"status":"ok","id":"4a6e5d9f"}`)
	c.URL = srv.URL + "/api/"
	it := buildOne(t, Config{Name: "ops", AlertaConfigs: []AlertaConfig{c}}, DefaultGlobal())
	err := it.Send(t.Context(), n)
	reqs := srv.requests()
	var out []alertaAlert
	for _, r := range reqs {
		var a alertaAlert
		if err := json.Unmarshal(r.Body, &a); err != nil {
			t.Fatalf("body is not an alert: %v", err)
		}
		out = append(out, a)
	}
	return out, reqs, err
}

func TestAlerta_Send_Fields(t *testing.T) {
	got, reqs, err := sendAlerta(t, AlertaConfig{APIKey: "k3y", Service: []string{"Web"}, Group: "Disk"}, testNotification(), http.StatusCreated)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("%d requests, want one per alert", len(got))
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/api/alert" || r.Header.Get("Authorization") != "Key k3y" ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s Authorization %q Content-Type %q", r.Method, r.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
		}
	}
	want := alertaAlert{
		Resource: "web1", Event: "DiskFull", Environment: "Production", Severity: "critical",
		Correlate: []string{"DiskFull"}, Service: []string{"Web"}, Group: "Disk", Value: "93.2",
		Text: "3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were > 90",
		Tags: []string{},
		Attributes: map[string]string{
			"alertname": "DiskFull", "instance": "web1", "mountpoint": "/var", "severity": "critical",
			"generatorURL": "http://bastion:8086/alerts?rule=DiskFull", "notificationId": "01JNZK5T3Q8W6Y2V9X4R7M1C0B",
		},
		Origin: "outpost/bastion", Type: "outpostAlert", CreateTime: "2026-03-07T08:26:00.000Z", Timeout: 86400,
	}
	first := got[0]
	if first.RawData == "" {
		t.Errorf("rawData is empty")
	}
	var raw webhookAlert
	if err := json.Unmarshal([]byte(first.RawData), &raw); err != nil || raw.Fingerprint != "5a1f0c3e9b7d2a41" {
		t.Errorf("rawData %q is not the alert's JSON: %v", first.RawData, err)
	}
	first.RawData = ""
	if !reflect.DeepEqual(first, want) {
		t.Errorf("firing alert\n got: %+v\nwant: %+v", first, want)
	}
	// The resolved alert: severity normal, created when it resolved.
	if r := got[1]; r.Severity != "normal" || r.Status != "" || r.Resource != "web2" || r.CreateTime != "2026-03-07T08:19:00.000Z" {
		t.Errorf("resolved alert: severity %q status %q resource %q createTime %q", r.Severity, r.Status, r.Resource, r.CreateTime)
	}
}

func TestAlerta_Convert(t *testing.T) {
	f := func(name string, c AlertaConfig, mod func(*Alert), check func(*alertaAlert) bool) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			n := testNotification()
			a := &n.Alerts[0]
			mod(a)
			got, _, err := sendAlerta(t, c, &Notification{ID: n.ID, Alerts: []Alert{*a}}, http.StatusCreated)
			if err != nil || len(got) != 1 {
				t.Fatalf("Send: %v (%d alerts)", err, len(got))
			}
			if !check(&got[0]) {
				t.Errorf("got %+v", got[0])
			}
		})
	}
	none := func(*Alert) {}
	f("warning", AlertaConfig{}, func(a *Alert) { a.Severity = "warning" },
		func(g *alertaAlert) bool { return g.Severity == "warning" })
	f("no severity is major", AlertaConfig{}, func(a *Alert) { a.Severity = ""; delete(a.Labels, "severity") },
		func(g *alertaAlert) bool { return g.Severity == "major" })
	f("unknown severity label is major", AlertaConfig{}, func(a *Alert) { a.Severity = ""; a.Labels["severity"] = "page" },
		func(g *alertaAlert) bool { return g.Severity == "major" })
	f("alerta severity label kept", AlertaConfig{}, func(a *Alert) { a.Severity = ""; a.Labels["severity"] = "Minor" },
		func(g *alertaAlert) bool { return g.Severity == "minor" })
	f("insufficient data", AlertaConfig{}, func(a *Alert) { a.Kind = "insufficient_data"; a.Value = math.NaN() },
		func(g *alertaAlert) bool {
			return g.Severity == "indeterminate" && g.Value == "NaN" && reflect.DeepEqual(g.Tags, []string{"insufficient_data"})
		})
	f("retired", AlertaConfig{}, func(a *Alert) { a.Kind, a.Status, a.EndsAt = "retired", StatusResolved, t0 },
		func(g *alertaAlert) bool { return g.Severity == "normal" && g.Status == "closed" })
	f("resource label", AlertaConfig{ResourceLabel: "mountpoint"}, none,
		func(g *alertaAlert) bool { return g.Resource == "/var" })
	f("resource label absent", AlertaConfig{ResourceLabel: "nosuch"}, none,
		func(g *alertaAlert) bool { return g.Resource == "web1" })
	f("host before instance", AlertaConfig{}, func(a *Alert) { a.Labels["host"] = "db1" },
		func(g *alertaAlert) bool { return g.Resource == "db1" })
	f("alertname last", AlertaConfig{}, func(a *Alert) { delete(a.Labels, "instance") },
		func(g *alertaAlert) bool { return g.Resource == "DiskFull" })
	f("summary when no reason", AlertaConfig{}, func(a *Alert) { a.Reason = "" },
		func(g *alertaAlert) bool { return g.Text == "Disk /var on web1 is 93% full" })
	f("attribute keys sanitized", AlertaConfig{}, func(a *Alert) { a.Labels["k8s.pod$x"] = "p" },
		func(g *alertaAlert) bool { return g.Attributes["k8s_pod_x"] == "p" })
	f("environment, origin, timeout", AlertaConfig{Environment: "Development", Origin: "dc1", TimeoutSeconds: new(0)}, none,
		func(g *alertaAlert) bool {
			return g.Environment == "Development" && g.Origin == "dc1" && g.Timeout == 0
		})
	f("empty lists", AlertaConfig{}, none,
		func(g *alertaAlert) bool { return g.Service != nil && len(g.Service) == 0 && g.Group == "" })
}

func TestAlerta_Send_Errors(t *testing.T) {
	f := func(status int, permanent bool) {
		t.Helper()
		_, reqs, err := sendAlerta(t, AlertaConfig{}, testNotification(), status)
		if err == nil || IsPermanent(err) != permanent {
			t.Errorf("status %d: Send = %v, permanent %v; want permanent %v", status, err, IsPermanent(err), permanent)
		}
		if len(reqs) != 1 {
			t.Errorf("status %d: %d requests; Send should stop at the first failure", status, len(reqs))
		}
	}
	f(http.StatusBadRequest, true)
	f(http.StatusForbidden, true)
	f(http.StatusTooManyRequests, false)
	f(http.StatusServiceUnavailable, false)
}
