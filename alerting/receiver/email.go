package receiver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net"
	"net/mail"
	"net/textproto"
	"text/template"
	"time"
)

// EmailConfig is Alertmanager's email_config: one message per notification
// over SMTP. Empty SMTP keys fall back to the global smtp_* keys.
type EmailConfig struct {
	// To is the recipients, a comma-separated address list; required.
	To string `koanf:"to"`
	// From is the sender address (global smtp_from).
	From string `koanf:"from"`
	// Smarthost is the SMTP server, host:port (global smtp_smarthost).
	// Port 465 speaks TLS from the start; other ports use STARTTLS.
	Smarthost string `koanf:"smarthost"`
	// Hello is the EHLO name (global smtp_hello, else Options.Hostname).
	Hello string `koanf:"hello"`
	// AuthUsername turns authentication on: CRAM-MD5 when AuthSecret is
	// set and the server offers it, else PLAIN, else LOGIN, with
	// AuthPassword (and AuthIdentity for PLAIN). Each falls back to its
	// global smtp_auth_* key on its own.
	AuthUsername string `koanf:"auth_username"`
	AuthPassword string `koanf:"auth_password"`
	AuthIdentity string `koanf:"auth_identity"`
	AuthSecret   string `koanf:"auth_secret"`
	// RequireTLS fails the delivery when the server does not offer
	// STARTTLS (global smtp_require_tls, default true). STARTTLS is used
	// whenever the server offers it, required or not.
	RequireTLS *bool `koanf:"require_tls"`
	// TLSConfig verifies the server's certificate (STARTTLS or port 465).
	TLSConfig TLSConfig `koanf:"tls_config"`
	// Headers sets or overrides message headers; values are templates.
	// The defaults are From, To and Subject ("[FIRING:1] DiskFull (web1)").
	Headers map[string]string `koanf:"headers"`
	// HTML and Text are templates for the two bodies (html/template and
	// text/template); empty means outpost's default rendering.
	HTML string `koanf:"html"`
	Text string `koanf:"text"`
	// SendResolved sends resolved alerts too (default false).
	SendResolved bool `koanf:"send_resolved"`
	// Timeout bounds one delivery, dial to QUIT (default 30s).
	Timeout time.Duration `koanf:"timeout"`
}

// DefaultSMTPTimeout bounds one SMTP delivery whose timeout is not set.
const DefaultSMTPTimeout = 30 * time.Second

// Validate names the first bad key; the global fallbacks are checked by
// Build.
func (c EmailConfig) Validate() error {
	if c.To == "" {
		return fmt.Errorf("to: %w", errMissing)
	}
	if _, err := mail.ParseAddressList(c.To); err != nil {
		return fmt.Errorf("to: %q is not an address list: %w", c.To, err)
	}
	if c.From != "" {
		if _, err := mail.ParseAddress(c.From); err != nil {
			return fmt.Errorf("from: %q is not an address: %w", c.From, err)
		}
	}
	if c.Smarthost != "" {
		if err := checkHostPort(c.Smarthost); err != nil {
			return fmt.Errorf("smarthost: %w", err)
		}
	}
	if err := c.TLSConfig.Validate(); err != nil {
		return err
	}
	if err := checkTimeout(c.Timeout); err != nil {
		return err
	}
	_, _, _, err := c.templates()
	return err
}

// templates parses the headers and bodies.
func (c EmailConfig) templates() (headers map[string]*template.Template, html *htmltemplate.Template, text *template.Template, err error) {
	seen := make(map[string]string, len(c.Headers))
	for _, k := range kv(c.Headers).Names() {
		canon := textproto.CanonicalMIMEHeaderKey(k)
		if !validHeaderName(k) {
			return nil, nil, nil, fmt.Errorf("headers: %q is not a header name", k)
		}
		if reservedHeaders[canon] {
			return nil, nil, nil, fmt.Errorf("headers: %s is set by outpost", canon)
		}
		if other, dup := seen[canon]; dup {
			return nil, nil, nil, fmt.Errorf("headers: %q and %q are the same header", other, k)
		}
		seen[canon] = k
	}
	src := make(map[string]string, len(c.Headers))
	for canon, k := range seen {
		src[canon] = c.Headers[k]
	}
	if headers, err = parseTemplates(src); err != nil {
		return nil, nil, nil, fmt.Errorf("headers: %w", err)
	}
	if c.HTML != "" {
		if html, err = parseHTMLTemplate(c.HTML); err != nil {
			return nil, nil, nil, fmt.Errorf("html: %w", err)
		}
	}
	if c.Text != "" {
		if text, err = parseTemplate("text", c.Text); err != nil {
			return nil, nil, nil, fmt.Errorf("text: %w", err)
		}
	}
	return headers, html, text, nil
}

// reservedHeaders are the fields that make the message's MIME structure;
// headers: cannot set them.
var reservedHeaders = map[string]bool{"Content-Type": true, "Content-Transfer-Encoding": true, "Mime-Version": true}

// email is the Integration of an EmailConfig, its fallbacks applied.
type email struct {
	name       string
	cfg        EmailConfig // From, Smarthost, Hello and Auth* filled in
	from       *mail.Address
	to         []*mail.Address
	requireTLS bool
	// implicitTLS is set for port 465 (SMTPS): TLS from the first byte.
	implicitTLS bool
	tls         *tls.Config
	headers     map[string]*template.Template
	html        *htmltemplate.Template
	text        *template.Template
	hostname    string
	now         func() time.Time
	log         *slog.Logger
}

func newEmail(c EmailConfig, g Global, sh shared) (*email, error) {
	fill := func(v *string, global string) {
		if *v == "" {
			*v = global
		}
	}
	fill(&c.From, g.SMTPFrom)
	fill(&c.Smarthost, g.SMTPSmarthost)
	fill(&c.Hello, g.SMTPHello)
	fill(&c.Hello, sh.opts.Hostname)
	fill(&c.AuthUsername, g.SMTPAuthUsername)
	fill(&c.AuthPassword, g.SMTPAuthPassword)
	fill(&c.AuthIdentity, g.SMTPAuthIdentity)
	fill(&c.AuthSecret, g.SMTPAuthSecret)
	if c.Smarthost == "" {
		return nil, errors.New("smarthost: missing (set it or global smtp_smarthost)")
	}
	if err := checkHostPort(c.Smarthost); err != nil {
		return nil, fmt.Errorf("smarthost: %w", err)
	}
	if c.From == "" {
		return nil, errors.New("from: missing (set it or global smtp_from)")
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("from: %q is not an address: %w", c.From, err)
	}
	to, _ := mail.ParseAddressList(c.To) // checked by Validate
	host, port, _ := net.SplitHostPort(c.Smarthost)
	tlsCfg, err := c.TLSConfig.build(host)
	if err != nil {
		return nil, err
	}
	headers, html, text, err := c.templates()
	if err != nil {
		return nil, err
	}
	return &email{
		name: sh.name, cfg: c, from: from, to: to,
		requireTLS: boolOr(c.RequireTLS, g.SMTPRequireTLS), implicitTLS: port == "465", tls: tlsCfg,
		headers: headers, html: html, text: text,
		hostname: sh.opts.Hostname, now: sh.opts.Now, log: sh.log,
	}, nil
}

// Name implements Integration.
func (e *email) Name() string { return e.name }

// SendResolved implements Integration.
func (e *email) SendResolved() bool { return e.cfg.SendResolved }

// Send delivers n as one message to every recipient. A 5xx reply of the
// server is permanent; 4xx replies and network errors are retried.
func (e *email) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, e.SendResolved()); n == nil {
		return nil
	}
	msg, err := e.message(n, e.now())
	if err != nil {
		return Permanent(fmt.Errorf("build email for %s: %w", e.cfg.Smarthost, err))
	}
	if err := e.deliver(ctx, msg); err != nil {
		return fmt.Errorf("send email via %s: %w", e.cfg.Smarthost, err)
	}
	return nil
}

// validHeaderName reports whether s is a header field name (RFC 5322:
// printable ASCII but colon).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f || s[i] == ':' {
			return false
		}
	}
	return true
}
