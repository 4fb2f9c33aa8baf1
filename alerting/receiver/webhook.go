package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// WebhookConfig is Alertmanager's webhook_config: POST the webhook payload
// (version 4) as JSON to URL.
type WebhookConfig struct {
	// URL receives the POST; required.
	URL string `koanf:"url"`
	// SendResolved sends resolved alerts too (default true).
	SendResolved *bool `koanf:"send_resolved"`
	// MaxAlerts caps the alerts of one payload, 0 for all; the number cut
	// off is in truncatedAlerts.
	MaxAlerts int `koanf:"max_alerts"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `koanf:"timeout"`
	// HTTPConfig holds credentials and TLS settings.
	HTTPConfig HTTPConfig `koanf:"http_config"`
}

// DefaultHTTPTimeout bounds one request of an HTTP integration whose
// timeout is not set.
const DefaultHTTPTimeout = 10 * time.Second

// NotificationIDHeader carries Notification.ID on outpost's webhook
// requests, so a receiver can drop the duplicates that retries make.
const NotificationIDHeader = "X-Outpost-Notification-Id"

// Validate names the first bad key.
func (c WebhookConfig) Validate() error {
	if err := checkHTTPURL(c.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if c.MaxAlerts < 0 {
		return fmt.Errorf("max_alerts: %d is negative", c.MaxAlerts)
	}
	if err := checkTimeout(c.Timeout); err != nil {
		return err
	}
	if err := c.HTTPConfig.TLSConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return c.HTTPConfig.Validate()
}

// webhook is the Integration of a WebhookConfig.
type webhook struct {
	name   string
	cfg    WebhookConfig
	target string // the URL as errors show it
	http   *httpSender
}

func newWebhook(c WebhookConfig, sh shared) (*webhook, error) {
	s, err := sh.httpSender(c.HTTPConfig, orDefault(c.Timeout, DefaultHTTPTimeout))
	if err != nil {
		return nil, err
	}
	return &webhook{name: sh.name, cfg: c, target: redactURL(c.URL, true), http: s}, nil
}

// Name implements Integration.
func (w *webhook) Name() string { return w.name }

// SendResolved implements Integration.
func (w *webhook) SendResolved() bool { return boolOr(w.cfg.SendResolved, true) }

// Send posts n's payload. Its resolved alerts are left out when
// send_resolved is false; with none left, nothing is sent.
func (w *webhook) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, w.SendResolved()); n == nil {
		return nil
	}
	body, err := json.Marshal(newWebhookMessage(n, w.cfg.MaxAlerts))
	if err != nil {
		return Permanent(fmt.Errorf("encode webhook payload for %s: %w", w.target, err))
	}
	return w.http.post(ctx, "send webhook", w.target, w.cfg.URL, body, jsonHeader(n.ID))
}

// jsonHeader is the header of outpost's JSON requests.
func jsonHeader(notificationID string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	if notificationID != "" {
		h.Set(NotificationIDHeader, notificationID)
	}
	return h
}
