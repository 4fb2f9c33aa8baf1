package receiver

import (
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

// decodeParts returns the decoded text and HTML parts of a
// multipart/alternative message.
func decodeParts(t *testing.T, msg *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		// The parts travel with CRLF line ends; compare with LF.
		s := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch ct := p.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			text = s
		case strings.HasPrefix(ct, "text/html"):
			html = s
		}
	}
	if text == "" || html == "" {
		t.Fatalf("text %q html %q; want both parts", text, html)
	}
	return text, html
}

// buildEmail builds an email integration for message tests.
func buildEmail(t *testing.T, c EmailConfig) *email {
	t.Helper()
	c.To, c.From, c.Smarthost = "ops@example.org", "outpost@bastion.example", "mail:25"
	return buildOne(t, Config{Name: "ops", EmailConfigs: []EmailConfig{c}}, DefaultGlobal()).(*email)
}

// render builds the message of n and parses it back.
func render(t *testing.T, e *email, n *Notification) *mail.Message {
	t.Helper()
	raw, err := e.message(n, t0)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, raw)
	}
	return msg
}

func TestEmail_Message_Default(t *testing.T) {
	msg := render(t, buildEmail(t, EmailConfig{SendResolved: true}), testNotification())
	for k, want := range map[string]string{
		"From":                      "<outpost@bastion.example>",
		"To":                        "<ops@example.org>",
		"Subject":                   "[FIRING:1] DiskFull (/var)",
		"Date":                      "Sat, 07 Mar 2026 08:29:00 +0000",
		"Message-Id":                "<outpost.01JNZK5T3Q8W6Y2V9X4R7M1C0B.email0@bastion>",
		"Mime-Version":              "1.0",
		"X-Outpost-Notification-Id": "01JNZK5T3Q8W6Y2V9X4R7M1C0B",
	} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	text, html := decodeParts(t, msg)
	for _, want := range []string{
		"* [critical] Disk /var on web1 is 93% full\n",
		"    Reason: 3 of the last 3 datapoints",
		"    Value: 93.2\n",
		"    Since: 2026-03-07 08:26:00 UTC\n",
		`    Labels: {alertname="DiskFull", instance="web1", mountpoint="/var", severity="critical"}`,
		"    runbook_url: http://wiki/disk\n",
		"* [resolved] Disk /var on web2 is 81% full\n",
		"    Resolved: 2026-03-07 08:19:00 UTC\n",
		"Sent by outpost (http://bastion:8086), notification 01JNZK5T3Q8W6Y2V9X4R7M1C0B.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text body lacks %q:\n%s", want, text)
		}
	}
	for _, want := range []string{
		"<h2>[FIRING:1] DiskFull (/var)</h2>",
		"<li><b>[critical]</b> Disk /var on web1 is 93% full",
		"were &gt; 90</td>",
		`<a href="http://bastion:8086">outpost</a>`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("html body lacks %q:\n%s", want, html)
		}
	}
}

func TestEmail_Message_Templates(t *testing.T) {
	e := buildEmail(t, EmailConfig{
		Headers: map[string]string{
			"subject":    `{{ .CommonLabels.alertname }} on {{ (index .Alerts 0).Labels.instance }} – {{ .Status | toUpper }}`,
			"X-Priority": "1",
			"X-Inject":   "a\r\nBcc: victim@example.org",
		},
		HTML: `<p>{{ template "email.default.subject" . }}: {{ (index .Alerts 0).Annotations.summary }} <script>{{ .Receiver }}</script></p>`,
		Text: `{{ range .Alerts }}{{ .Labels.instance }} {{ .Reason }}{{ end }}`,
	})
	n := testNotification()
	n.Alerts = n.Alerts[:1]
	n.Alerts[0].Annotations["summary"] = "disk <full> & more"
	msg := render(t, e, n)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != "DiskFull on web1 – FIRING" {
		t.Errorf("Subject %q (%v), want the template's, decoded", subject, err)
	}
	if got := msg.Header.Get("X-Priority"); got != "1" {
		t.Errorf("X-Priority %q", got)
	}
	if got := msg.Header.Get("Bcc"); got != "" {
		t.Errorf("a header value injected Bcc: %q", got)
	}
	text, html := decodeParts(t, msg)
	if want := "web1 3 of the last 3 datapoints [91.5 (08:27:00), 92.8 (08:28:00), 93.2 (08:29:00)] were > 90"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if !strings.Contains(html, "<p>[FIRING:1] DiskFull (web1 /var critical): disk &lt;full&gt; &amp; more") {
		t.Errorf("html %q: want the template's output, escaped", html)
	}
}

func TestEmail_Message_MessageID(t *testing.T) {
	e := buildEmail(t, EmailConfig{})
	f := func(id, want string) {
		t.Helper()
		if got := e.messageID(id, t0); got != want {
			t.Errorf("messageID(%q) = %q, want %q", id, got, want)
		}
	}
	f("abc-1.2_x", "<outpost.abc-1.2_x.email0@bastion>")
	f("a b<c>@d", "<outpost.a-b-c--d.email0@bastion>")
	f("", "<outpost.t1772872140000000000.email0@bastion>")
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", maxHeaderValue) // 2 bytes each
	got := clip(long)
	if len(got) > maxHeaderValue+3 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("clip cut %d bytes badly: %q", len(got), got[len(got)-10:])
	}
	if clip("short") != "short" {
		t.Errorf("clip changed a short value")
	}
}
