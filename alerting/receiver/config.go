package receiver

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"
)

// Config is one receiver: an item of Alertmanager's receivers: list. Its
// koanf tags are Alertmanager's key names, so a receivers: section of an
// alertmanager.yml decodes unchanged as long as it uses only the supported
// kinds (see the package documentation); alertmanager_configs,
// alerta_configs and file_configs are outpost's own kinds. A receiver with
// no integration is valid: it is the usual "null" receiver.
type Config struct {
	// Name is what routes refer to; it must be unique and non-empty.
	Name                string               `koanf:"name"`
	WebhookConfigs      []WebhookConfig      `koanf:"webhook_configs"`
	SlackConfigs        []SlackConfig        `koanf:"slack_configs"`
	EmailConfigs        []EmailConfig        `koanf:"email_configs"`
	AlertmanagerConfigs []AlertmanagerConfig `koanf:"alertmanager_configs"`
	AlertaConfigs       []AlertaConfig       `koanf:"alerta_configs"`
	FileConfigs         []FileConfig         `koanf:"file_configs"`
}

// Global holds the keys of Alertmanager's global: section that the
// receivers use as defaults. Start from DefaultGlobal: its zero value
// fails Validate.
type Global struct {
	// SMTPSmarthost is the default email smarthost, host:port.
	SMTPSmarthost string `koanf:"smtp_smarthost"`
	// SMTPFrom is the default sender address of emails.
	SMTPFrom string `koanf:"smtp_from"`
	// SMTPHello is the default name sent with EHLO; empty means
	// Options.Hostname, and "localhost" when that is empty too.
	SMTPHello string `koanf:"smtp_hello"`
	// SMTPAuthUsername, SMTPAuthPassword, SMTPAuthIdentity and
	// SMTPAuthSecret are the default SMTP credentials: PLAIN or LOGIN use
	// username and password (identity is PLAIN's authorization identity),
	// CRAM-MD5 uses username and secret.
	SMTPAuthUsername string `koanf:"smtp_auth_username"`
	SMTPAuthPassword string `koanf:"smtp_auth_password"`
	SMTPAuthIdentity string `koanf:"smtp_auth_identity"`
	SMTPAuthSecret   string `koanf:"smtp_auth_secret"`
	// SMTPRequireTLS makes STARTTLS mandatory by default (default true).
	SMTPRequireTLS bool `koanf:"smtp_require_tls"`
	// SlackAPIURL is the default Slack incoming-webhook URL.
	SlackAPIURL string `koanf:"slack_api_url"`
	// ResolveTimeout is Alertmanager's: how long an alert received without
	// endsAt stays active (default 5m). The receivers do not use it; it is
	// here because it belongs to the same global: section, for the code
	// that accepts alerts on outpost's Alertmanager API.
	ResolveTimeout time.Duration `koanf:"resolve_timeout"`
}

// DefaultGlobal returns Alertmanager's defaults for the global keys:
// smtp_require_tls true, resolve_timeout 5m.
func DefaultGlobal() Global {
	return Global{SMTPRequireTLS: true, ResolveTimeout: 5 * time.Minute}
}

// Validate names the first global key with a bad value.
func (g Global) Validate() error {
	if g.SMTPSmarthost != "" {
		if err := checkHostPort(g.SMTPSmarthost); err != nil {
			return fmt.Errorf("smtp_smarthost: %w", err)
		}
	}
	if g.SMTPFrom != "" {
		if _, err := mail.ParseAddress(g.SMTPFrom); err != nil {
			return fmt.Errorf("smtp_from: %q is not an address: %w", g.SMTPFrom, err)
		}
	}
	if g.SlackAPIURL != "" {
		if err := checkHTTPURL(g.SlackAPIURL); err != nil {
			return fmt.Errorf("slack_api_url: %w", err)
		}
	}
	if g.ResolveTimeout <= 0 {
		return fmt.Errorf("resolve_timeout: %v is not positive", g.ResolveTimeout)
	}
	return nil
}

// Validate checks every integration of c on its own (the global fallbacks,
// such as smtp_smarthost for an email_config without smarthost, are checked
// by Build). Its errors name the receiver and the key path:
// `receiver "ops": webhook_configs[0]: url: missing`.
func (c Config) Validate() error {
	if c.Name == "" {
		return errors.New("receiver: name: missing")
	}
	if err := c.validateItems(); err != nil {
		return fmt.Errorf("receiver %q: %w", c.Name, err)
	}
	return nil
}

// ValidateAll checks a receivers: list: names non-empty and unique, and
// every item valid. Errors name the list position, as in
// `receivers[2] "ops": webhook_configs[0]: url: missing`; all problems are
// reported, joined.
func ValidateAll(receivers []Config) error {
	var errs []error
	seen := make(map[string]int, len(receivers))
	for i, c := range receivers {
		switch first, dup := seen[c.Name]; {
		case c.Name == "":
			errs = append(errs, fmt.Errorf("receivers[%d]: name: missing", i))
			continue
		case dup:
			errs = append(errs, fmt.Errorf("receivers[%d] %q: name: already used by receivers[%d]", i, c.Name, first))
			continue
		}
		seen[c.Name] = i
		if err := c.validateItems(); err != nil {
			errs = append(errs, fmt.Errorf("receivers[%d] %q: %w", i, c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// validateItems checks each integration, naming it as "kind_configs[i]".
func (c Config) validateItems() error {
	var errs []error
	add := func(key string, i int, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s[%d]: %w", key, i, err))
		}
	}
	for i, w := range c.WebhookConfigs {
		add("webhook_configs", i, w.Validate())
	}
	for i, s := range c.SlackConfigs {
		add("slack_configs", i, s.Validate())
	}
	for i, e := range c.EmailConfigs {
		add("email_configs", i, e.Validate())
	}
	for i, a := range c.AlertmanagerConfigs {
		add("alertmanager_configs", i, a.Validate())
	}
	for i, a := range c.AlertaConfigs {
		add("alerta_configs", i, a.Validate())
	}
	for i, f := range c.FileConfigs {
		add("file_configs", i, f.Validate())
	}
	return errors.Join(errs...)
}

// errMissing is the reason of a required key left out.
var errMissing = errors.New("missing")

// checkHTTPURL reports whether s is an absolute http or https URL with a
// host. The message never repeats s: such URLs often hold a secret.
func checkHTTPURL(s string) error {
	if s == "" {
		return errMissing
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host")
	}
	return nil
}

// checkHostPort reports whether s is host:port with a numeric port.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
	}
	return nil
}

// checkTimeout reports a negative duration; zero means the default.
func checkTimeout(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("timeout: %v is negative", d)
	}
	return nil
}

// orDefault returns d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// boolOr returns *p, or def when p is nil (the key was not set).
func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}
