package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestAlertmanager_Send_Body(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", AlertmanagerConfigs: []AlertmanagerConfig{{
		URL: srv.URL + "/am/", BasicAuth: BasicAuth{Username: "u", Password: "p"}, ResendDelay: 2 * time.Minute,
	}}}, DefaultGlobal())
	n := testNotification()
	n.Alerts[0].Labels["empty"] = ""
	n.Alerts[1].EndsAt = time.Time{} // resolved without EndsAt: now
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	r := srv.requests()[0]
	if r.Path != "/am/api/v2/alerts" || r.Header.Get("Authorization") != "Basic dTpw" {
		t.Errorf("request to %s with Authorization %q", r.Path, r.Header.Get("Authorization"))
	}
	var got []postableAlert
	if err := json.Unmarshal(r.Body, &got); err != nil || len(got) != 2 {
		t.Fatalf("body %s: %v", r.Body, err)
	}
	firing, resolved := got[0], got[1]
	if _, ok := firing.Labels["empty"]; ok {
		t.Errorf("the empty label was sent")
	}
	if firing.Annotations["reason"] != n.Alerts[0].Reason || firing.Annotations["summary"] == "" {
		t.Errorf("annotations %v; want the rule's plus reason", firing.Annotations)
	}
	if !firing.EndsAt.Equal(t0.Add(8*time.Minute)) || !firing.StartsAt.Equal(n.Alerts[0].StartsAt) {
		t.Errorf("firing startsAt %v endsAt %v; want %v and now + 4 x resend_delay", firing.StartsAt, firing.EndsAt, n.Alerts[0].StartsAt)
	}
	if !resolved.EndsAt.Equal(t0) {
		t.Errorf("resolved endsAt %v, want now (%v)", resolved.EndsAt, t0)
	}
	if rs, ok := it.(Resender); !ok || rs.ResendInterval() != 2*time.Minute {
		t.Errorf("ResendInterval is not resend_delay")
	}
}

// TestAlertmanager_Real forwards a firing alert, then its resolution, to
// Debian's prometheus-alertmanager on loopback, and reads them back with
// its GET /api/v2/alerts.
func TestAlertmanager_Real(t *testing.T) {
	bin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Skip("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager): ", err)
	}
	base := startAlertmanager(t, bin)
	// The real clock (Options.Now nil): the Alertmanager compares endsAt
	// with its own.
	its, err := Build(Config{Name: "ops", AlertmanagerConfigs: []AlertmanagerConfig{{URL: base}}}, DefaultGlobal(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	it := its[0]
	n := testNotification()
	n.Alerts = n.Alerts[:1]
	n.Alerts[0].Labels["alertname"] = "OutpostForwardTest"
	n.Alerts[0].StartsAt = time.Now().Add(-time.Minute).Truncate(time.Millisecond)

	if err := it.Send(t.Context(), n); err != nil {
		t.Fatalf("send firing: %v", err)
	}
	active := amAlerts(t, base)
	if len(active) != 1 {
		t.Fatalf("%d active alerts, want 1: %+v", len(active), active)
	}
	a := active[0]
	for k, v := range n.Alerts[0].Labels {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Annotations["summary"] != n.Alerts[0].Annotations["summary"] || a.Annotations["reason"] != n.Alerts[0].Reason {
		t.Errorf("annotations %v; want summary and reason", a.Annotations)
	}
	if a.Status.State != "active" || !a.StartsAt.Equal(n.Alerts[0].StartsAt) {
		t.Errorf("state %q startsAt %v; want active, %v", a.Status.State, a.StartsAt, n.Alerts[0].StartsAt)
	}
	if d := time.Until(a.EndsAt); d < 3*time.Minute || d > 5*time.Minute {
		t.Errorf("endsAt is %v ahead; want about 4 x 1m", d)
	}
	if a.GeneratorURL != n.Alerts[0].GeneratorURL {
		t.Errorf("generatorURL %q", a.GeneratorURL)
	}

	n.Alerts[0].Status, n.Alerts[0].EndsAt, n.Status = StatusResolved, time.Now().Add(-time.Second), StatusResolved
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatalf("send resolved: %v", err)
	}
	if left := amAlerts(t, base); len(left) != 0 {
		t.Errorf("after the resolution, GET /api/v2/alerts lists %+v; want none", left)
	}

	// The Alertmanager refuses an alert without labels: a permanent error.
	n.Alerts[0].Labels = map[string]string{}
	if err := it.Send(t.Context(), n); err == nil || !IsPermanent(err) {
		t.Errorf("send without labels = %v; want a permanent error", err)
	}
}

// gettableAlert is the part of Alertmanager's GET /api/v2/alerts items
// the test reads.
type gettableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Status       struct {
		State string `json:"state"`
	} `json:"status"`
}

// amAlerts lists the Alertmanager's alerts.
func amAlerts(t *testing.T, base string) []gettableAlert {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []gettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/v2/alerts: %s: %v", resp.Status, err)
	}
	return out
}

// startAlertmanager runs the binary on a free loopback port with a null
// receiver and no clustering, waits for /-/ready (20s at most) and returns
// its base URL; the process is killed at cleanup.
func startAlertmanager(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte("route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	logFile, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	})
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/-/ready", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("alertmanager exited: %v\n%s", err, log)
		case <-ctx.Done():
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("alertmanager not ready within 20s\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprintf("127.0.0.1:%d", l.Addr().(*net.TCPAddr).Port)
}
