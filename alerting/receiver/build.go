package receiver

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Attribute keys of this package's log records.
const (
	logComponent   = "component"
	logReceiver    = "receiver"
	logIntegration = "integration"
	logErr         = "err"
)

// Options are what every integration of a Build shares.
type Options struct {
	// Logger receives the integrations' warnings (a template that failed
	// at send time, say); nil discards them.
	Logger *slog.Logger
	// Client sends the HTTP requests; nil means one with dial and TLS
	// handshake timeouts. Integrations with a tls_config use a copy of it
	// with their own TLS settings. Each request is bounded by its
	// integration's timeout, through its context.
	Client *http.Client
	// Hostname names this machine: Alerta's default origin
	// ("outpost/<hostname>"), the default SMTP EHLO name and the domain of
	// Message-Ids. Empty means os.Hostname.
	Hostname string
	// UserAgent is sent with every HTTP request; empty means "outpost".
	UserAgent string
	// Now returns the current time (Alertmanager endsAt, email Date); nil
	// means time.Now.
	Now func() time.Time
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Client == nil {
		o.Client = defaultClient()
	}
	if o.Hostname == "" {
		if h, err := os.Hostname(); err == nil && h != "" {
			o.Hostname = h
		} else {
			o.Hostname = "localhost"
		}
	}
	if o.UserAgent == "" {
		o.UserAgent = "outpost"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Build returns one Integration per configured item of cfg, in the order
// webhook, slack, email, alertmanager, alerta, file, each named by its
// kind and index ("webhook[0]", "slack[1]"). It validates cfg, applies
// the global fallbacks of g (smtp_*, slack_api_url), parses templates and
// reads TLS files, so every error is a configuration error naming the
// receiver and key: `receiver "ops": email_configs[0]: smarthost: missing
// (set it or global smtp_smarthost)`. The integrations are safe for
// concurrent use and hold no goroutines: dropping them needs no Close.
func Build(cfg Config, g Global, opts Options) ([]Integration, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	b := builder{opts: opts, log: opts.Logger.With(logComponent, "receiver", logReceiver, cfg.Name)}
	for i, c := range cfg.WebhookConfigs {
		b.add("webhook", "webhook_configs", i, func(sh shared) (Integration, error) { return newWebhook(c, sh) })
	}
	for i, c := range cfg.SlackConfigs {
		b.add("slack", "slack_configs", i, func(sh shared) (Integration, error) { return newSlack(c, g, sh) })
	}
	for i, c := range cfg.EmailConfigs {
		b.add("email", "email_configs", i, func(sh shared) (Integration, error) { return newEmail(c, g, sh) })
	}
	for i, c := range cfg.AlertmanagerConfigs {
		b.add("alertmanager", "alertmanager_configs", i, func(sh shared) (Integration, error) { return newAlertmanager(c, sh) })
	}
	for i, c := range cfg.AlertaConfigs {
		b.add("alerta", "alerta_configs", i, func(sh shared) (Integration, error) { return newAlerta(c, sh) })
	}
	for i, c := range cfg.FileConfigs {
		b.add("file", "file_configs", i, func(sh shared) (Integration, error) { return newFile(c, sh), nil })
	}
	if b.err != nil {
		return nil, fmt.Errorf("receiver %q: %w", cfg.Name, b.err)
	}
	return b.out, nil
}

// builder collects the integrations of one Build and its first error.
type builder struct {
	opts Options
	log  *slog.Logger
	out  []Integration
	err  error
}

// shared is what each integration's constructor receives besides its
// config: its name, the options and its logger.
type shared struct {
	name string
	opts Options
	log  *slog.Logger
}

// add builds the integration kind[i] unless an earlier one failed; key is
// its configuration key, for the error.
func (b *builder) add(kind, key string, i int, build func(shared) (Integration, error)) {
	if b.err != nil {
		return
	}
	name := fmt.Sprintf("%s[%d]", kind, i)
	it, err := build(shared{name: name, opts: b.opts, log: b.log.With(logIntegration, name)})
	if err != nil {
		b.err = fmt.Errorf("%s[%d]: %w", key, i, err)
		return
	}
	b.out = append(b.out, it)
}

// httpSender returns the sender of an integration with these settings.
func (sh shared) httpSender(h HTTPConfig, timeout time.Duration) (*httpSender, error) {
	client, err := clientFor(sh.opts.Client, h.TLSConfig)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	return &httpSender{client: client, auth: h, userAgent: sh.opts.UserAgent, timeout: timeout}, nil
}
