package receiver

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
)

// AlertmanagerConfig is outpost's alertmanager_config: forward the alerts
// of each notification to a real Alertmanager with POST <url>/api/v2/alerts,
// as Prometheus and vmalert do. The credential and TLS keys sit at the top
// level, as in Prometheus' alerting.alertmanagers.
type AlertmanagerConfig struct {
	// URL is the Alertmanager's base URL ("http://am:9093", with any path
	// prefix); required.
	URL string `koanf:"url"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `koanf:"timeout"`
	// SendResolved forwards resolutions (default true). Without them the
	// Alertmanager resolves an alert only when its endsAt passes.
	SendResolved *bool `koanf:"send_resolved"`
	// ResendDelay is how often the dispatcher re-sends a firing alert
	// (default 1m, Prometheus' rules.alert.resend-delay). A firing alert
	// is sent with endsAt = now + 4 x ResendDelay, as Prometheus and
	// vmalert do, so the Alertmanager resolves it by itself if outpost
	// stops re-sending it.
	ResendDelay   time.Duration `koanf:"resend_delay"`
	BasicAuth     BasicAuth     `koanf:"basic_auth"`
	Authorization Authorization `koanf:"authorization"`
	TLSConfig     TLSConfig     `koanf:"tls_config"`
}

// DefaultResendDelay is AlertmanagerConfig.ResendDelay's default.
const DefaultResendDelay = time.Minute

// Validate names the first bad key.
func (c AlertmanagerConfig) Validate() error {
	if err := checkHTTPURL(c.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if err := checkTimeout(c.Timeout); err != nil {
		return err
	}
	if c.ResendDelay < 0 {
		return fmt.Errorf("resend_delay: %v is negative", c.ResendDelay)
	}
	if err := c.TLSConfig.Validate(); err != nil {
		return err
	}
	return c.httpConfig().Validate()
}

func (c AlertmanagerConfig) httpConfig() HTTPConfig {
	return HTTPConfig{BasicAuth: c.BasicAuth, Authorization: c.Authorization, TLSConfig: c.TLSConfig}
}

// postableAlert is an item of the body of POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// alertmanager is the Integration of an AlertmanagerConfig.
type alertmanager struct {
	name        string
	cfg         AlertmanagerConfig
	url, target string
	resendDelay time.Duration
	http        *httpSender
	now         func() time.Time
}

func newAlertmanager(c AlertmanagerConfig, sh shared) (*alertmanager, error) {
	s, err := sh.httpSender(c.httpConfig(), orDefault(c.Timeout, DefaultHTTPTimeout))
	if err != nil {
		return nil, err
	}
	u := strings.TrimSuffix(c.URL, "/") + "/api/v2/alerts"
	return &alertmanager{
		name: sh.name, cfg: c, url: u, target: redactURL(u, true),
		resendDelay: orDefault(c.ResendDelay, DefaultResendDelay), http: s, now: sh.opts.Now,
	}, nil
}

// Name implements Integration.
func (am *alertmanager) Name() string { return am.name }

// SendResolved implements Integration.
func (am *alertmanager) SendResolved() bool { return boolOr(am.cfg.SendResolved, true) }

// ResendInterval implements Resender: the Alertmanager forgets a firing
// alert 4 x ResendDelay after it was last sent.
func (am *alertmanager) ResendInterval() time.Duration { return am.resendDelay }

// Send posts the alerts of n. Labels and annotations with empty values are
// left out (the Alertmanager rejects empty label values); the alert's
// Reason becomes the "reason" annotation unless the rule has its own.
func (am *alertmanager) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, am.SendResolved()); n == nil || len(n.Alerts) == 0 {
		return nil
	}
	now := am.now()
	alerts := make([]postableAlert, len(n.Alerts))
	for i := range n.Alerts {
		alerts[i] = am.postable(&n.Alerts[i], now, n.GroupInterval)
	}
	body, err := json.Marshal(alerts)
	if err != nil {
		return Permanent(fmt.Errorf("encode alerts for %s: %w", am.target, err))
	}
	return am.http.post(ctx, "send alerts", am.target, am.url, body, jsonHeader(n.ID))
}

// postable converts a: a resolved alert carries its EndsAt (now when that
// is unset or still ahead), a firing one now + 4 x the longer of
// ResendDelay and the group's interval (the dispatcher re-sends it at
// each flush once ResendDelay has passed).
func (am *alertmanager) postable(a *Alert, now time.Time, groupInterval time.Duration) postableAlert {
	p := postableAlert{
		Labels:       withoutEmpty(a.Labels),
		Annotations:  withoutEmpty(a.Annotations),
		StartsAt:     a.StartsAt.UTC(),
		GeneratorURL: a.GeneratorURL,
	}
	if a.Reason != "" {
		if _, ok := p.Annotations["reason"]; !ok {
			if p.Annotations == nil {
				p.Annotations = map[string]string{}
			}
			p.Annotations["reason"] = a.Reason
		}
	}
	switch {
	case a.Firing():
		p.EndsAt = now.Add(4 * max(am.resendDelay, groupInterval)).UTC()
	case a.EndsAt.IsZero() || a.EndsAt.After(now):
		p.EndsAt = now.UTC()
	default:
		p.EndsAt = a.EndsAt.UTC()
	}
	return p
}

// withoutEmpty returns a copy of m without its empty values (nil for none).
func withoutEmpty(m map[string]string) map[string]string {
	out := maps.Clone(m)
	maps.DeleteFunc(out, func(_, v string) bool { return v == "" })
	if len(out) == 0 {
		return nil
	}
	return out
}
