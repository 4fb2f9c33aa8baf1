package main

// outpost's alerts reaching real peers through the real binary: amtool
// listing alerts and adding a silence that mutes a notification, Debian's
// Alertmanager receiving forwarded alerts, and a real SMTP server
// (aiosmtpd) receiving mail.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const demoRules = `
groups:
- name: demo
  interval: 1s
  rules:
  - alert: Demo
    expr: demo_value > 0
    labels: {severity: warning}
    annotations: {summary: "demo on {{ $labels.host }}"}
`

// amtool runs Debian's amtool against base and returns its standard
// output.
func amtool(t *testing.T, base string, args ...string) string {
	t.Helper()
	cmd := exec.Command("amtool", append([]string{"--alertmanager.url=" + base}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr // amtool warns there that its version differs from outpost's
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("amtool %v: %v\n%s%s", args, err, out, stderr.String())
	}
	return string(out)
}

// amtool lists outpost's alerts and adds a silence that then mutes a
// notification; once expired, the notification goes out.
func TestAlerting_AmtoolSilence(t *testing.T) {
	if _, err := exec.LookPath("amtool"); err != nil {
		t.Skip("amtool not installed (Debian package prometheus-alertmanager; make deps)")
	}
	hook := newWebhook(t)
	rules := writeRules(t, t.TempDir(), "demo.yml", demoRules)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: alertingConfig([]string{rules}, hook.URL, "")})
	defer s.stop()

	writeLP(t, s, fmt.Sprintf("demo,host=a value=1 %d", time.Now().UnixMilli()))
	hook.waitAlert(t, "host a firing", 15*time.Second, is("Demo", "a", "firing", "warning"))
	if out := amtool(t, s.base, "alert", "query"); !strings.Contains(out, "Demo") || !strings.Contains(out, "demo on a") {
		t.Fatalf("amtool alert query:\n%s", out)
	}
	if out := amtool(t, s.base, "config", "routes"); !strings.Contains(out, "receiver: hook") {
		t.Fatalf("amtool config routes:\n%s", out)
	}

	id := strings.TrimSpace(amtool(t, s.base, "silence", "add", "alertname=Demo", "host=b", "-c", "maintenance", "-a", "ops", "-d", "1h"))
	if out := amtool(t, s.base, "silence", "query"); !strings.Contains(out, id) || !strings.Contains(out, "maintenance") {
		t.Fatalf("amtool silence query (id %s):\n%s", id, out)
	}
	writeLP(t, s, fmt.Sprintf("demo,host=b value=1 %d", time.Now().UnixMilli()))
	// b fires but is muted: the API shows it suppressed by the silence,
	// and no notification for b arrives.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body, _ := do(t, "GET", s.base+"/api/v2/alerts?filter=host%3D%22b%22", "")
		if strings.Contains(body, `"state":"suppressed"`) && strings.Contains(body, id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("host b not suppressed by %s: %s", id, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // several group intervals
	for _, a := range hook.alerts() {
		if a.Labels["host"] == "b" {
			t.Fatalf("silenced alert notified: %+v", a)
		}
	}
	if out := amtool(t, s.base, "alert", "query", "-s"); !strings.Contains(out, "demo on b") {
		t.Fatalf("amtool alert query -s (silenced):\n%s", out)
	}
	amtool(t, s.base, "silence", "expire", id)
	hook.waitAlert(t, "host b firing after the silence expired", 15*time.Second, is("Demo", "b", "firing", "warning"))
}

// startAlertmanager starts Debian's Alertmanager on a free loopback port
// with a receiver that sends nowhere, and returns its base URL.
func startAlertmanager(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Skip("prometheus-alertmanager not installed (make deps)")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "am.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: none\nreceivers:\n  - name: none\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+dir, "--cluster.listen-address=",
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	log := new(strings.Builder)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
	}
	t.Fatalf("alertmanager not ready within 20 s\n%s", log)
	return ""
}

// startSMTP starts aiosmtpd (Debian's python3-aiosmtpd) on a free
// loopback port, storing mail in a maildir; it returns the address and
// the maildir's new/ folder.
func startSMTP(t *testing.T) (addr, maildir string) {
	t.Helper()
	python := "/usr/bin/python3"
	if exec.Command(python, "-c", "import aiosmtpd").Run() != nil {
		t.Skip("python3-aiosmtpd not installed (make deps)")
	}
	dir := filepath.Join(t.TempDir(), "mail")
	addr = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(python, "-m", "aiosmtpd", "-n", "-l", addr, "-c", "aiosmtpd.handlers.Mailbox", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return addr, filepath.Join(dir, "new")
}

// Real receivers through the real binary: an alert goes to Debian's
// Alertmanager (alertmanager_configs) and by mail to a real SMTP server
// (email_configs), beside the webhook.
func TestAlerting_RealReceivers(t *testing.T) {
	amURL := startAlertmanager(t)
	smtpAddr, maildir := startSMTP(t)
	hook := newWebhook(t)
	rules := writeRules(t, t.TempDir(), "demo.yml", demoRules)
	extra := fmt.Sprintf(`        - url: %s
      alertmanager_configs:
        - url: %s
      email_configs:
        - to: ops@example.org
          from: outpost@example.org
          smarthost: %s
          require_tls: false
`, hook.URL, amURL, smtpAddr)
	cfg := alertingConfig([]string{rules}, hook.URL, "")
	cfg = strings.Replace(cfg, "        - url: "+hook.URL+"\n", extra, 1)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: cfg})
	defer s.stop()
	writeLP(t, s, fmt.Sprintf("demo,host=mx1 value=7 %d", time.Now().UnixMilli()))

	deadline := time.Now().Add(20 * time.Second)
	var amBody string
	var mails []string
	for time.Now().Before(deadline) {
		if _, body, _ := do(t, "GET", amURL+"/api/v2/alerts", ""); strings.Contains(body, `"alertname":"Demo"`) {
			amBody = body
		}
		mails, _ = filepath.Glob(filepath.Join(maildir, "*"))
		if amBody != "" && len(mails) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if amBody == "" {
		t.Fatalf("Alertmanager has no Demo alert\noutpost log:\n%s", s.log)
	}
	var got []struct {
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal([]byte(amBody), &got); err != nil || got[0].Labels["host"] != "mx1" || got[0].Annotations["summary"] != "demo on mx1" {
		t.Fatalf("alertmanager alerts %s (%v)", amBody, err)
	}
	if len(mails) == 0 {
		t.Fatalf("no mail arrived\noutpost log:\n%s", s.log)
	}
	b, _ := os.ReadFile(mails[0])
	if mail := string(b); !strings.Contains(mail, "To: ops@example.org") || !strings.Contains(mail, "Demo") || !strings.Contains(mail, "mx1") {
		t.Fatalf("mail:\n%s", mail)
	}
}
