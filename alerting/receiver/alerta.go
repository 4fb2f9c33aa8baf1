package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AlertaConfig is outpost's alerta_config: POST each alert of a
// notification to Alerta's <url>/alert, one request per alert (Alerta
// takes one alert per request, and deduplicates the repeats a retry makes).
type AlertaConfig struct {
	// URL is Alerta's API base ("http://alerta:8080/api"); required.
	URL string `koanf:"url"`
	// APIKey is sent as "Authorization: Key <api_key>" when set.
	APIKey string `koanf:"api_key"`
	// Environment must be one of Alerta's ALLOWED_ENVIRONMENTS (default
	// "Production").
	Environment string `koanf:"environment"`
	// ResourceLabel names the label whose value is the alert's resource;
	// when it is unset or absent, the first present of host, instance and
	// alertname is.
	ResourceLabel string `koanf:"resource_label"`
	// Service and Group are Alerta's service list and group.
	Service []string `koanf:"service"`
	Group   string   `koanf:"group"`
	// Origin defaults to "outpost/<hostname>".
	Origin string `koanf:"origin"`
	// TimeoutSeconds is Alerta's alert timeout (default 86400; 0 is
	// Alerta's "never expires").
	TimeoutSeconds *int `koanf:"timeout_seconds"`
	// Timeout bounds one request (default 10s).
	Timeout time.Duration `koanf:"timeout"`
	// SendResolved sends resolutions, which close the alert (default true).
	SendResolved *bool `koanf:"send_resolved"`
	// HTTPConfig holds TLS settings (and credentials, if a proxy needs them).
	HTTPConfig HTTPConfig `koanf:"http_config"`
}

// Alerta's defaults.
const (
	DefaultAlertaEnvironment = "Production"
	DefaultAlertaTimeout     = 86400
)

// Validate names the first bad key.
func (c AlertaConfig) Validate() error {
	if err := checkHTTPURL(c.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if c.TimeoutSeconds != nil && *c.TimeoutSeconds < 0 {
		return fmt.Errorf("timeout_seconds: %d is negative", *c.TimeoutSeconds)
	}
	if err := checkTimeout(c.Timeout); err != nil {
		return err
	}
	if c.APIKey != "" && c.HTTPConfig.Authorization.Credentials != "" {
		return errors.New("api_key and http_config.authorization are exclusive")
	}
	if err := c.HTTPConfig.TLSConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return c.HTTPConfig.Validate()
}

// alertaAlert is the body of POST /alert; see
// ../shared/reference/alerting-interop.md for the field rules.
type alertaAlert struct {
	Resource    string            `json:"resource"`
	Event       string            `json:"event"`
	Environment string            `json:"environment"`
	Severity    string            `json:"severity"`
	Correlate   []string          `json:"correlate"`
	Status      string            `json:"status,omitempty"`
	Service     []string          `json:"service"`
	Group       string            `json:"group,omitempty"`
	Value       string            `json:"value"`
	Text        string            `json:"text"`
	Tags        []string          `json:"tags"`
	Attributes  map[string]string `json:"attributes"`
	Origin      string            `json:"origin"`
	Type        string            `json:"type"`
	CreateTime  string            `json:"createTime"`
	Timeout     int               `json:"timeout"`
	RawData     string            `json:"rawData"`
}

// alerta is the Integration of an AlertaConfig.
type alerta struct {
	name        string
	cfg         AlertaConfig // Environment, Origin filled in
	url, target string
	timeout     int
	http        *httpSender
	now         func() time.Time
}

func newAlerta(c AlertaConfig, sh shared) (*alerta, error) {
	h := c.HTTPConfig
	if c.APIKey != "" {
		h.Authorization = Authorization{Type: "Key", Credentials: c.APIKey}
	}
	s, err := sh.httpSender(h, orDefault(c.Timeout, DefaultHTTPTimeout))
	if err != nil {
		return nil, err
	}
	if c.Environment == "" {
		c.Environment = DefaultAlertaEnvironment
	}
	if c.Origin == "" {
		c.Origin = "outpost/" + sh.opts.Hostname
	}
	timeout := DefaultAlertaTimeout
	if c.TimeoutSeconds != nil {
		timeout = *c.TimeoutSeconds
	}
	u := strings.TrimSuffix(c.URL, "/") + "/alert"
	return &alerta{name: sh.name, cfg: c, url: u, target: redactURL(u, true), timeout: timeout, http: s, now: sh.opts.Now}, nil
}

// Name implements Integration.
func (al *alerta) Name() string { return al.name }

// SendResolved implements Integration.
func (al *alerta) SendResolved() bool { return boolOr(al.cfg.SendResolved, true) }

// Send posts each alert of n in turn and stops at the first failure; the
// retry sends them all again, which Alerta counts as duplicates.
func (al *alerta) Send(ctx context.Context, n *Notification) error {
	if n = withoutResolved(n, al.SendResolved()); n == nil {
		return nil
	}
	for i := range n.Alerts {
		body, err := json.Marshal(al.convert(n, &n.Alerts[i]))
		if err != nil {
			return Permanent(fmt.Errorf("encode alerta alert for %s: %w", al.target, err))
		}
		if err := al.http.post(ctx, "send alert", al.target, al.url, body, jsonHeader(n.ID)); err != nil {
			return err
		}
	}
	return nil
}

// convert maps one alert to Alerta's fields:
//
//   - severity: critical and warning as they are, any other Alerta
//     severity label value as it is, none or an unknown one "major";
//     "indeterminate" for an insufficient_data alert; "normal" once
//     resolved (Alerta closes an alert on normal); a retired alert also
//     gets status "closed". Firing alerts carry no status, so Alerta keeps
//     an operator's ack across repeats.
//   - text: the Reason, else the summary or description annotation.
//   - attributes: the labels (keys with "." or "$" turned to "_"), plus
//     generatorURL and notificationId; tags: the Kind, if any.
func (al *alerta) convert(n *Notification, a *Alert) *alertaAlert {
	event := a.Labels["alertname"]
	if event == "" {
		event = "outpostAlert"
	}
	out := &alertaAlert{
		Resource: al.resource(a.Labels), Event: event, Environment: al.cfg.Environment,
		Severity: alertaSeverity(a), Correlate: []string{event},
		Service: nonNilList(al.cfg.Service), Group: al.cfg.Group,
		Value: formatValue(a.Value), Text: alertaText(a), Tags: []string{},
		Attributes: map[string]string{}, Origin: al.cfg.Origin, Type: "outpostAlert",
		Timeout: al.timeout,
	}
	if a.Kind != "" {
		out.Tags = append(out.Tags, a.Kind)
	}
	if a.Kind == "retired" {
		out.Status = "closed"
	}
	for k, v := range a.Labels {
		out.Attributes[strings.NewReplacer(".", "_", "$", "_").Replace(k)] = v
	}
	for k, v := range map[string]string{"generatorURL": a.GeneratorURL, "notificationId": n.ID} {
		if _, taken := out.Attributes[k]; !taken && v != "" {
			out.Attributes[k] = v
		}
	}
	created := a.StartsAt
	if !a.Firing() && !a.EndsAt.IsZero() {
		created = a.EndsAt
	}
	if created.IsZero() {
		created = al.now()
	}
	out.CreateTime = created.UTC().Format("2006-01-02T15:04:05.000Z")
	raw, _ := json.Marshal(newWebhookAlert(a)) // cannot fail: strings, times and a finite float
	out.RawData = string(raw)
	return out
}

// resource picks the alert's resource label (see AlertaConfig.ResourceLabel).
func (al *alerta) resource(labels map[string]string) string {
	for _, k := range []string{al.cfg.ResourceLabel, "host", "instance", "alertname"} {
		if v := labels[k]; k != "" && v != "" {
			return v
		}
	}
	return "outpost"
}

// alertaSeverities are the severities Alerta accepts.
var alertaSeverities = map[string]bool{
	"security": true, "critical": true, "major": true, "minor": true, "warning": true,
	"indeterminate": true, "informational": true, "normal": true, "ok": true, "cleared": true,
	"debug": true, "trace": true, "unknown": true,
}

// alertaSeverity maps a's severity as described at convert.
func alertaSeverity(a *Alert) string {
	switch {
	case !a.Firing():
		return "normal"
	case a.Kind == "insufficient_data":
		return "indeterminate"
	}
	sev := a.Severity
	if sev == "" {
		sev = a.Labels["severity"]
	}
	if sev = strings.ToLower(sev); alertaSeverities[sev] {
		return sev
	}
	return "major"
}

// alertaText is the alert's reason, else its summary or description.
func alertaText(a *Alert) string {
	if a.Reason != "" {
		return a.Reason
	}
	for _, k := range []string{"summary", "description", "message"} {
		if s := a.Annotations[k]; s != "" {
			return s
		}
	}
	return a.Labels["alertname"] + " is " + a.Status
}

// nonNilList returns s, or an empty list for nil, so JSON shows [].
func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
