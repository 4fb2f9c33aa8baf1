package receiver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the fixtures' "now".
var t0 = time.Date(2026, 3, 7, 8, 29, 0, 0, time.UTC)

// testNotification is a firing notification of two alerts of one group:
// web1 firing critical, web2 resolved (it was warning).
func testNotification() *Notification {
	return &Notification{
		ID:          "01JNZK5T3Q8W6Y2V9X4R7M1C0B",
		Receiver:    "ops",
		GroupKey:    `{}:{alertname="DiskFull"}`,
		GroupLabels: map[string]string{"alertname": "DiskFull"},
		Status:      StatusFiring,
		Alerts: []Alert{{
			Status:       StatusFiring,
			Labels:       map[string]string{"alertname": "DiskFull", "instance": "web1", "mountpoint": "/var", "severity": "critical"},
			Annotations:  map[string]string{"summary": "Disk /var on web1 is 93% full", "runbook_url": "http://wiki/disk"},
			StartsAt:     t0.Add(-3 * time.Minute),
			GeneratorURL: "http://bastion:8086/alerts?rule=DiskFull",
			Fingerprint:  "5a1f0c3e9b7d2a41",
			Severity:     "critical",
			Value:        93.2,
			Reason:       "3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were > 90",
		}, {
			Status:       StatusResolved,
			Labels:       map[string]string{"alertname": "DiskFull", "instance": "web2", "mountpoint": "/var", "severity": "warning"},
			Annotations:  map[string]string{"summary": "Disk /var on web2 is 81% full", "runbook_url": "http://wiki/disk"},
			StartsAt:     t0.Add(-time.Hour),
			EndsAt:       t0.Add(-10 * time.Minute),
			GeneratorURL: "http://bastion:8086/alerts?rule=DiskFull",
			Fingerprint:  "9c3e1d7a0b5f2e68",
			Severity:     "warning",
			Value:        79,
			Reason:       "1 of the last 3 datapoints [79 (08:19:00)] were > 80",
		}},
		ExternalURL: "http://bastion:8086",
		CreatedAt:   t0,
	}
}

// testOptions are Options for tests: a fixed clock and hostname.
func testOptions() Options {
	return Options{Hostname: "bastion", Now: func() time.Time { return t0 }}
}

// request is one request a capture server received.
type request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// capture is an HTTP server on loopback that records requests and answers
// each with status (and body).
type capture struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []request
	status int
	body   string
}

func newCapture(t *testing.T, status int, body string) *capture {
	t.Helper()
	c := &capture{status: status, body: body}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.reqs = append(c.reqs, request{r.Method, r.URL.Path, r.Header.Clone(), b})
		status, body := c.status, c.body
		c.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(c.Close)
	return c
}

// requests returns what the server received so far.
func (c *capture) requests() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]request(nil), c.reqs...)
}

// buildOne builds cfg and returns its only integration.
func buildOne(t *testing.T, cfg Config, g Global) Integration {
	t.Helper()
	its, err := Build(cfg, g, testOptions())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(its) != 1 {
		t.Fatalf("Build made %d integrations, want 1", len(its))
	}
	return its[0]
}

func TestBuild_Names(t *testing.T) {
	cfg := Config{
		Name:                "ops",
		WebhookConfigs:      []WebhookConfig{{URL: "http://a/"}, {URL: "http://b/"}},
		SlackConfigs:        []SlackConfig{{APIURL: "https://hooks.slack.test/T/B/X"}},
		EmailConfigs:        []EmailConfig{{To: "ops@example.org", From: "outpost@example.org", Smarthost: "mail:25"}},
		AlertmanagerConfigs: []AlertmanagerConfig{{URL: "http://am:9093"}},
		AlertaConfigs:       []AlertaConfig{{URL: "http://alerta:8080/api"}},
		FileConfigs:         []FileConfig{{Path: filepath.Join(t.TempDir(), "n.jsonl")}},
	}
	its, err := Build(cfg, DefaultGlobal(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, it := range its {
		names = append(names, it.Name())
	}
	want := "webhook[0] webhook[1] slack[0] email[0] alertmanager[0] alerta[0] file[0]"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("names %q, want %q", got, want)
	}
	// send_resolved defaults: webhook, alertmanager, alerta and file true;
	// slack and email false.
	wantResolved := []bool{true, true, false, false, true, true, true}
	for i, it := range its {
		if it.SendResolved() != wantResolved[i] {
			t.Errorf("%s: SendResolved() = %v, want %v", it.Name(), it.SendResolved(), wantResolved[i])
		}
	}
	if _, ok := its[4].(Resender); !ok {
		t.Errorf("alertmanager[0] is not a Resender")
	}
}

func TestBuild_Errors(t *testing.T) {
	f := func(name string, cfg Config, g Global, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			_, err := Build(cfg, g, testOptions())
			if err == nil || err.Error() != want {
				t.Errorf("Build error\n got: %v\nwant: %s", err, want)
			}
		})
	}
	g := DefaultGlobal()
	f("slack without api_url", Config{Name: "ops", SlackConfigs: []SlackConfig{{}}}, g,
		`receiver "ops": slack_configs[0]: api_url: missing (set it or global slack_api_url)`)
	f("email without smarthost", Config{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", From: "x@y.z"}}}, g,
		`receiver "ops": email_configs[0]: smarthost: missing (set it or global smtp_smarthost)`)
	f("email without from", Config{Name: "ops", EmailConfigs: []EmailConfig{{To: "a@b.c", Smarthost: "m:25"}}}, g,
		`receiver "ops": email_configs[0]: from: missing (set it or global smtp_from)`)
	f("bad template", Config{Name: "ops", SlackConfigs: []SlackConfig{{APIURL: "http://s/", Title: "{{ .Status "}}}, g,
		`receiver "ops": slack_configs[0]: title: template: title:1: unclosed action`)
	f("missing ca_file", Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: "https://h/",
		HTTPConfig: HTTPConfig{TLSConfig: TLSConfig{CAFile: "/nonexistent/ca.pem"}}}}}, g,
		`receiver "ops": webhook_configs[0]: http_config: tls_config: ca_file: open /nonexistent/ca.pem: no such file or directory`)
	f("invalid item", Config{Name: "ops", WebhookConfigs: []WebhookConfig{{}}}, g,
		`receiver "ops": webhook_configs[0]: url: missing`)

	// The globals fill in what the item leaves out.
	g.SlackAPIURL = "https://hooks.slack.test/T/B/X"
	g.SMTPSmarthost, g.SMTPFrom = "mail:25", "outpost@example.org"
	cfg := Config{Name: "ops", SlackConfigs: []SlackConfig{{}}, EmailConfigs: []EmailConfig{{To: "a@b.c"}}}
	if _, err := Build(cfg, g, testOptions()); err != nil {
		t.Errorf("Build with globals: %v", err)
	}
}

func TestBuild_EmptyReceiver(t *testing.T) {
	its, err := Build(Config{Name: "null"}, DefaultGlobal(), Options{})
	if err != nil || len(its) != 0 {
		t.Errorf("Build(null receiver) = %v, %v; want none, nil", its, err)
	}
}
