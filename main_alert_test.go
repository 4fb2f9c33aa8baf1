package main

// End-to-end alerting through the real binary: rule files on disk, data
// written over HTTP, notifications received by real HTTP receivers on
// loopback.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookAlert is one alert of a webhook notification as outpost sends it.
type hookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Severity    string            `json:"severity"`
	Reason      string            `json:"reason"`
	Kind        string            `json:"kind"`
	Fingerprint string            `json:"fingerprint"`
}

// hookMsg is one webhook notification (Alertmanager's version 4 payload
// plus outpost's notificationId).
type hookMsg struct {
	Version string      `json:"version"`
	ID      string      `json:"notificationId"`
	Status  string      `json:"status"`
	Alerts  []hookAlert `json:"alerts"`
}

// webhook is a webhook receiver on loopback that records what arrives,
// and can be told to refuse (503) to play a receiver that is down.
type webhook struct {
	*httptest.Server
	mu       sync.Mutex
	down     bool
	got      []hookMsg // accepted, in order
	refused  []string  // ids answered 503
	received int
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m hookMsg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook: bad payload %v: %s", err, b)
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		w.received++
		if w.down {
			w.refused = append(w.refused, m.ID)
			rw.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.got = append(w.got, m)
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) setDown(down bool) {
	w.mu.Lock()
	w.down = down
	w.mu.Unlock()
}

// alerts returns every alert received so far, in order.
func (w *webhook) alerts() []hookAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []hookAlert
	for _, m := range w.got {
		out = append(out, m.Alerts...)
	}
	return out
}

// waitAlert waits until an alert that match accepts has arrived.
func (w *webhook) waitAlert(t *testing.T, what string, timeout time.Duration, match func(hookAlert) bool) hookAlert {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, a := range w.alerts() {
			if match(a) {
				return a
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s within %s; received %+v", what, timeout, w.alerts())
	return hookAlert{}
}

// alertingConfig is the alerting section of a test server: rule files in
// dir, 1 s evaluations and fast grouping, one webhook receiver.
func alertingConfig(rules []string, hookURL, extra string) string {
	return fmt.Sprintf(`alerting:
  defaults: false
  rules: [%s]
  evaluation_interval: 1s
  route:
    receiver: hook
    group_by: [alertname, host]
    group_wait: 1s
    group_interval: 1s
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs:
        - url: %s
%s`, strings.Join(rules, ", "), hookURL, extra)
}

func writeRules(t *testing.T, dir, name, yml string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeLP posts line protocol (ms timestamps) to /write and fails on anything but 204.
func writeLP(t *testing.T, s *server, lines ...string) {
	t.Helper()
	code, body, _ := do(t, "POST", s.base+"/write?db=telegraf&precision=ms", strings.Join(lines, "\n"))
	if code != http.StatusNoContent {
		t.Fatalf("write: %d %s", code, body)
	}
}

func is(name, host, status, severity string) func(hookAlert) bool {
	return func(a hookAlert) bool {
		return a.Labels["alertname"] == name && a.Labels["host"] == host && a.Status == status &&
			(severity == "" || a.Labels["severity"] == severity)
	}
}

// The stories outpost replaces, through the real binary: Kapacitor's disk
// warn/crit per host with a clear level, a Kubernetes component reporting
// healthy="False" by line protocol, and a Prometheus rule file (recording
// rules, templates) loaded unchanged.
func TestAlerting_Stories(t *testing.T) {
	dir := t.TempDir()
	hook := newWebhook(t)
	disk := writeRules(t, dir, "disk.yml", `
groups:
- name: disk
  rules:
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
    clear: "< 75"
    annotations:
      summary: "{{ $labels.host }}: {{ $labels.path }} is {{ $value }}% full"
- name: kubernetes
  rules:
  - alert: KubeComponentUnhealthy
    expr: kube_components_healthy
    crit: "== 0"
    annotations:
      summary: "{{ $labels.component }} on {{ $labels.host }} is unhealthy"
`)
	prom := writeRules(t, dir, "node.rules.yml", promRuleFile)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: alertingConfig([]string{disk, prom}, hook.URL, "")})
	defer s.stop()

	w := func(pct float64) {
		writeLP(t, s, fmt.Sprintf("disk,host=web1,path=/ used_percent=%g %d", pct, time.Now().UnixMilli()))
	}
	w(85)
	a := hook.waitAlert(t, "disk warning", 15*time.Second, is("DiskFull", "web1", "firing", "warning"))
	if !strings.Contains(a.Reason, "was > 80") || a.Annotations["summary"] != "web1: / is 85% full" {
		t.Fatalf("warning alert %+v", a)
	}
	// The alert is a series too, as Prometheus writes it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, alerts, _ := do(t, "GET", s.base+"/api/v1/query?query=ALERTS%7Balertname%3D%22DiskFull%22%7D", "")
		_, forState, _ := do(t, "GET", s.base+"/api/v1/query?query=ALERTS_FOR_STATE%7Balertname%3D%22DiskFull%22%7D", "")
		if strings.Contains(alerts, `"alertstate":"firing"`) && strings.Contains(alerts, `"severity":"warning"`) &&
			strings.Contains(forState, `"host":"web1"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ALERTS: %s\nALERTS_FOR_STATE: %s", alerts, forState)
		}
	}
	w(95)
	hook.waitAlert(t, "disk critical", 15*time.Second, is("DiskFull", "web1", "firing", "critical"))
	w(70)
	a = hook.waitAlert(t, "disk resolved", 15*time.Second, is("DiskFull", "web1", "resolved", "critical"))
	if !strings.Contains(a.Reason, "was < 75") {
		t.Fatalf("resolved alert %+v", a)
	}

	writeLP(t, s, fmt.Sprintf(`kube_components,host=k8s1,component=scheduler healthy="False" %d`, time.Now().UnixMilli()))
	hook.waitAlert(t, "kube critical", 15*time.Second, is("KubeComponentUnhealthy", "k8s1", "firing", "critical"))
	writeLP(t, s, fmt.Sprintf(`kube_components,host=k8s1,component=scheduler healthy="True" %d`, time.Now().UnixMilli()))
	hook.waitAlert(t, "kube resolved", 15*time.Second, is("KubeComponentUnhealthy", "k8s1", "resolved", ""))

	// The Prometheus file loaded unchanged: its groups are listed and its
	// recording rule wrote a series.
	code, body, _ := do(t, "GET", s.base+"/api/v1/rules", "")
	if code != 200 || !strings.Contains(body, `"name":"node.rules"`) || !strings.Contains(body, `"health":"ok"`) {
		t.Fatalf("/api/v1/rules: %d %s", code, body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, _ = do(t, "GET", s.base+"/api/v1/query?query=instance:disk_used:max", "")
		if strings.Contains(body, `"web1"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(body, `"host":"web1"`) {
		t.Fatalf("recorded series: %d %s", code, body)
	}
}

// promRuleFile is a Prometheus rule file as people write them: recording
// rules and alerts with for, templates and humanize functions.
const promRuleFile = `groups:
  - name: node.rules
    interval: 1s
    rules:
      - record: instance:disk_used:max
        expr: max by (host) (disk_used_percent)
      - alert: HostDiskWillFillIn4Hours
        expr: predict_linear(disk_used_percent[1h], 4 * 3600) > 100
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "Disk of {{ $labels.host }} will fill within 4 hours"
          description: "{{ $labels.path }} on {{ $labels.host }} is at {{ $value | humanizePercentage }}; VALUE = {{ printf \"%.2f\" $value }}"
      - alert: OutpostRejects
        expr: sum by (protocol) (rate(outpost_ingest_rejected_total[5m])) > 0
        for: 10m
        keep_firing_for: 5m
        labels:
          severity: info
        annotations:
          summary: "{{ $labels.protocol }} input rejected ({{ $value | humanize }}/s)"
`
