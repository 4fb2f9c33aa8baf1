package receiver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// sendSlack sends n through a slack integration built from c, pointed at
// a capture server, and returns the message the server got.
func sendSlack(t *testing.T, c SlackConfig, n *Notification) slackMessage {
	t.Helper()
	srv := newCapture(t, http.StatusOK, "ok")
	c.APIURL = srv.URL + "/services/T0/B0/X"
	it := buildOne(t, Config{Name: "ops", SlackConfigs: []SlackConfig{c}}, DefaultGlobal())
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := srv.requests()
	if len(reqs) != 1 || reqs[0].Path != "/services/T0/B0/X" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests %+v; want one JSON POST to the webhook path", reqs)
	}
	var m slackMessage
	if err := json.Unmarshal(reqs[0].Body, &m); err != nil {
		t.Fatalf("body is not a slack message: %v", err)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(m.Attachments))
	}
	return m
}

func TestSlack_Send_Default(t *testing.T) {
	m := sendSlack(t, SlackConfig{Channel: "#ops", SendResolved: true}, testNotification())
	a := m.Attachments[0]
	if m.Channel != "#ops" || m.Username != "" {
		t.Errorf("channel %q username %q; want #ops and none", m.Channel, m.Username)
	}
	if want := "[FIRING:1] DiskFull (/var)"; a.Title != want {
		t.Errorf("title %q, want %q", a.Title, want)
	}
	if a.Color != "danger" || a.TitleLink != "http://bastion:8086" || a.Fallback != a.Title {
		t.Errorf("color %q title_link %q fallback %q", a.Color, a.TitleLink, a.Fallback)
	}
	want := "• *critical* Disk /var on web1 is 93% full\n" +
		"      3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were &gt; 90\n" +
		"• *resolved* Disk /var on web2 is 81% full\n" +
		"      1 of the last 3 datapoints [79 (08:19:00)] were &gt; 80"
	if a.Text != want {
		t.Errorf("text\n got: %q\nwant: %q", a.Text, want)
	}
}

func TestSlack_Send_Colors(t *testing.T) {
	f := func(name string, mod func(*Notification), wantTitle, wantColor string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			n := testNotification()
			mod(n)
			a := sendSlack(t, SlackConfig{SendResolved: true}, n).Attachments[0]
			if a.Title != wantTitle || a.Color != wantColor {
				t.Errorf("title %q color %q; want %q %q", a.Title, a.Color, wantTitle, wantColor)
			}
		})
	}
	f("warning", func(n *Notification) {
		n.Alerts = n.Alerts[:1]
		n.Alerts[0].Severity, n.Alerts[0].Labels["severity"] = "warning", "warning"
	}, "[FIRING:1] DiskFull (web1 /var warning)", "warning")
	f("no severity", func(n *Notification) {
		n.Alerts = n.Alerts[:1]
		n.Alerts[0].Severity = ""
		delete(n.Alerts[0].Labels, "severity")
	}, "[FIRING:1] DiskFull (web1 /var)", "danger")
	f("resolved", func(n *Notification) {
		n.Alerts = n.Alerts[1:]
		n.Status = StatusResolved
	}, "[RESOLVED] DiskFull (web2 /var warning)", "good")
}

func TestSlack_Send_Templates(t *testing.T) {
	c := SlackConfig{
		SendResolved: true,
		Username:     "{{ .Receiver | toUpper }}",
		Title:        `{{ template "slack.default.title" . }} on {{ .CommonLabels.mountpoint }}`,
		Text: `{{ range .Alerts.Firing }}{{ .Labels.instance }}: {{ .Annotations.summary }} ({{ .Reason }}){{ end }}` +
			`|{{ len .Alerts.Resolved }} resolved|{{ .GroupLabels.SortedPairs | len }}|{{ .CommonLabels.Names | join "," }}` +
			`|{{ .CommonLabels.nosuchlabel }}|{{ "disk full" | title }}`,
		Color: `{{ if eq .Status "firing" }}#ff0000{{ else }}#00ff00{{ end }}`,
	}
	m := sendSlack(t, c, testNotification())
	a := m.Attachments[0]
	if m.Username != "OPS" {
		t.Errorf("username %q, want OPS", m.Username)
	}
	if want := "[FIRING:1] DiskFull (/var) on /var"; a.Title != want {
		t.Errorf("title %q, want %q", a.Title, want)
	}
	want := "web1: Disk /var on web1 is 93% full (3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were > 90)" +
		"|1 resolved|1|alertname,mountpoint||Disk Full"
	if a.Text != want {
		t.Errorf("text\n got: %q\nwant: %q", a.Text, want)
	}
	if a.Color != "#ff0000" {
		t.Errorf("color %q", a.Color)
	}
}

func TestSlack_Send_TemplateFailsAtSend(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "ok")
	var logs bytes.Buffer
	opts := testOptions()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	its, err := Build(Config{Name: "ops", SlackConfigs: []SlackConfig{{
		APIURL: srv.URL, Text: "{{ index .Alerts 5 }}",
	}}}, DefaultGlobal(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := its[0].Send(t.Context(), testNotification()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var m slackMessage
	_ = json.Unmarshal(srv.requests()[0].Body, &m)
	if !strings.HasPrefix(m.Attachments[0].Text, "• *critical* Disk /var on web1") {
		t.Errorf("text %q; want the default after the template failed", m.Attachments[0].Text)
	}
	if !strings.Contains(logs.String(), "slack template failed") || !strings.Contains(logs.String(), "integration=slack[0]") {
		t.Errorf("log %q; want a warning naming the integration", logs.String())
	}
}

func TestSlack_Send_GlobalURL(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "ok")
	g := DefaultGlobal()
	g.SlackAPIURL = srv.URL + "/global"
	it := buildOne(t, Config{Name: "ops", SlackConfigs: []SlackConfig{{}}}, g)
	n := testNotification()
	if err := it.Send(t.Context(), n); err != nil {
		t.Fatal(err)
	}
	if r := srv.requests(); len(r) != 1 || r[0].Path != "/global" {
		t.Errorf("requests %+v; want one to the global URL", r)
	}
	var m slackMessage
	_ = json.Unmarshal(srv.requests()[0].Body, &m)
	if strings.Contains(m.Attachments[0].Text, "web2") {
		t.Errorf("send_resolved is false by default, yet the resolved alert was sent: %q", m.Attachments[0].Text)
	}
}

func TestTitleCase(t *testing.T) {
	for in, want := range map[string]string{"": "", "disk full": "Disk Full", "a-b c_d": "A-B C_d", "élan vital": "Élan Vital"} {
		if got := titleCase(in); got != want {
			t.Errorf("titleCase(%q) = %q, want %q", in, got, want)
		}
	}
}
