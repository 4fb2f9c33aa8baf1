package receiver

import (
	"bytes"
	"fmt"
	"html"
	htmltemplate "html/template"
	"math"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// maxHeaderValue caps a header value, well under RFC 5322's 998-byte line.
const maxHeaderValue = 900

// message renders n as an RFC 5322 message: the headers, then a
// multipart/alternative body with a text and an HTML part.
func (e *email) message(n *Notification, now time.Time) ([]byte, error) {
	d := newTmplData(n)
	text, htmlBody := e.body(d, false), e.body(d, true)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ ctype, content string }{
		{"text/plain; charset=UTF-8", text},
		{"text/html; charset=UTF-8", htmlBody},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	h := e.header(n, d, now, mw.Boundary())
	var msg bytes.Buffer
	for _, name := range kv(h).Names() {
		fmt.Fprintf(&msg, "%s: %s\r\n", name, headerSafe(h[name]))
	}
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// header returns the message's header fields: the defaults, then the
// configured headers, whose templates override them.
func (e *email) header(n *Notification, d *tmplData, now time.Time, boundary string) map[string]string {
	h := map[string]string{
		"Date":           now.Format(time.RFC1123Z),
		"From":           e.from.String(),
		"To":             addressList(e.to),
		"Subject":        mime.QEncoding.Encode("utf-8", clip(subjectLine(d))),
		"Message-Id":     e.messageID(n.ID, now),
		"Mime-Version":   "1.0",
		"Content-Type":   "multipart/alternative; boundary=" + boundary,
		"Auto-Submitted": "auto-generated",
	}
	if n.ID != "" {
		h[NotificationIDHeader] = headerSafe(n.ID)
	}
	for name, t := range e.headers {
		v, err := execute(t, d)
		if err != nil {
			e.log.Warn("email header template failed; using the default", "key", name, logErr, err)
			continue
		}
		v = clip(v)
		if isASCII(v) || isAddressHeader(name) {
			h[name] = v
		} else {
			h[name] = mime.QEncoding.Encode("utf-8", v)
		}
	}
	return h
}

// body renders the HTML or the text body: the configured template, or the
// default when there is none or it fails (with a warning logged).
func (e *email) body(d *tmplData, asHTML bool) string {
	var b bytes.Buffer
	var err error
	switch {
	case asHTML && e.html != nil:
		if err = e.html.Execute(&b, d); err == nil {
			return b.String()
		}
	case !asHTML && e.text != nil:
		if err = e.text.Execute(&b, d); err == nil {
			return b.String()
		}
	}
	if err != nil {
		e.log.Warn("email body template failed; using the default", "html", asHTML, logErr, err)
	}
	if asHTML {
		return emailHTML(d)
	}
	return emailText(d)
}

// messageID returns a Message-Id holding the notification ID, so that the
// copies a retry may produce are recognisably the same message.
func (e *email) messageID(id string, now time.Time) string {
	local := strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, id)
	if local == "" {
		local = fmt.Sprintf("t%d", now.UnixNano())
	}
	name := strings.NewReplacer("[", "", "]", "").Replace(e.name)
	return fmt.Sprintf("<outpost.%s.%s@%s>", local, name, e.hostname)
}

// parseHTMLTemplate parses an html template with the receiver functions
// and email.default.html, outpost's default body.
func parseHTMLTemplate(src string) (*htmltemplate.Template, error) {
	funcs := htmltemplate.FuncMap{
		"outpostSubject":   func(d *tmplData) string { return subjectLine(d) },
		"outpostEmailHTML": func(d *tmplData) htmltemplate.HTML { return htmltemplate.HTML(emailHTML(d)) }, //nolint:gosec // emailHTML escapes
	}
	t, err := htmltemplate.New("html").Funcs(htmltemplate.FuncMap(tmplFuncs)).Funcs(funcs).Option("missingkey=zero").Parse(
		`{{ define "email.default.subject" }}{{ outpostSubject . }}{{ end }}` +
			`{{ define "email.default.html" }}{{ outpostEmailHTML . }}{{ end }}`)
	if err != nil {
		return nil, err
	}
	return t.Parse(src)
}

// emailLines is the content of the default bodies, one item per alert.
type emailLine struct {
	tag, headline string
	details       []pair // Reason, Value, Since, Labels, other annotations, Source
}

// emailLines describes each alert of d for the default bodies.
func emailLines(d *tmplData) []emailLine {
	out := make([]emailLine, 0, len(d.Alerts))
	for i := range d.Alerts {
		a := &d.Alerts[i]
		l := emailLine{tag: alertTag(a), headline: alertHeadline(a)}
		add := func(name, value string) {
			if value != "" {
				l.details = append(l.details, pair{name, value})
			}
		}
		add("Reason", a.Reason)
		if a.Status == StatusFiring && !math.IsNaN(a.Value) && !math.IsInf(a.Value, 0) {
			add("Value", formatValue(a.Value))
		}
		if !a.StartsAt.IsZero() {
			add("Since", a.StartsAt.UTC().Format("2006-01-02 15:04:05 MST"))
		}
		if a.Status == StatusResolved && !a.EndsAt.IsZero() {
			add("Resolved", a.EndsAt.UTC().Format("2006-01-02 15:04:05 MST"))
		}
		add("Labels", labelString(a.Labels))
		for _, p := range a.Annotations.SortedPairs() {
			if p.Value != l.headline {
				add(p.Name, p.Value)
			}
		}
		add("Source", a.GeneratorURL)
		out = append(out, l)
	}
	return out
}

// emailText is the default text body.
func emailText(d *tmplData) string {
	var b strings.Builder
	b.WriteString(subjectLine(d) + "\n\n")
	for _, l := range emailLines(d) {
		fmt.Fprintf(&b, "* [%s] %s\n", l.tag, l.headline)
		for _, p := range l.details {
			fmt.Fprintf(&b, "    %s: %s\n", p.Name, p.Value)
		}
		b.WriteString("\n")
	}
	b.WriteString("-- \nSent by outpost")
	if d.ExternalURL != "" {
		b.WriteString(" (" + d.ExternalURL + ")")
	}
	if d.NotificationID != "" {
		b.WriteString(", notification " + d.NotificationID)
	}
	b.WriteString(".\n")
	return b.String()
}

// emailHTML is the default HTML body: the text body's content, escaped.
func emailHTML(d *tmplData) string {
	esc := html.EscapeString
	var b strings.Builder
	subject := esc(subjectLine(d))
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + subject + "</title></head>\n")
	b.WriteString("<body style=\"font-family: sans-serif\">\n<h2>" + subject + "</h2>\n<ul>\n")
	for _, l := range emailLines(d) {
		fmt.Fprintf(&b, "<li><b>[%s]</b> %s\n<table>\n", esc(l.tag), esc(l.headline))
		for _, p := range l.details {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>\n", esc(p.Name), esc(p.Value))
		}
		b.WriteString("</table></li>\n")
	}
	b.WriteString("</ul>\n<p>Sent by ")
	if d.ExternalURL != "" {
		fmt.Fprintf(&b, "<a href=\"%s\">outpost</a>", esc(d.ExternalURL))
	} else {
		b.WriteString("outpost")
	}
	if d.NotificationID != "" {
		b.WriteString(", notification " + esc(d.NotificationID))
	}
	b.WriteString(".</p>\n</body></html>\n")
	return b.String()
}

// addressList prints addresses as a To header holds them.
func addressList(as []*mail.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// headerSafe removes the line breaks that would let a value inject headers.
func headerSafe(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}

// clip cuts s to maxHeaderValue bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxHeaderValue {
		return s
	}
	s = s[:maxHeaderValue]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// isASCII reports whether s is printable ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// isAddressHeader reports whether name holds addresses, which are written
// as configured (mail.Address would encode display names itself).
func isAddressHeader(name string) bool {
	switch name {
	case "From", "To", "Cc", "Bcc", "Reply-To", "Sender":
		return true
	}
	return false
}
