package alerting

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"outpost/alerting/notify"
	"outpost/alerting/receiver"
	"outpost/alerting/remediate"
)

// Config is the alerting section of outpost's configuration (key
// "alerting"). Route, Receivers, InhibitRules and Global take
// Alertmanager's configuration format (a subset: see the notify and
// receiver packages), so a section of an alertmanager.yml pastes in.
type Config struct {
	// Rules are globs of Prometheus/vmalert rule files (with outpost's
	// fields), such as /etc/outpost/rules/*.yml.
	Rules []string `koanf:"rules"`
	// Defaults adds the built-in rules: disk, memory, a silent host and
	// outpost's own ingest rejections.
	Defaults bool `koanf:"defaults"`
	// EvaluationInterval is the interval of groups that set none.
	EvaluationInterval time.Duration `koanf:"evaluation_interval"`
	// HistoryRetention is how long alert history is kept.
	HistoryRetention time.Duration `koanf:"history_retention"`
	// DeliveryTimeLimit is how long a notification is retried before it
	// is dropped.
	DeliveryTimeLimit time.Duration `koanf:"delivery_time_limit"`
	// ExternalURL is outpost's address as people reach it, for links in
	// notifications; empty means http://<hostname>:<port> of http.addr.
	ExternalURL string `koanf:"external_url"`
	// ExternalLabels are $externalLabels in templates.
	ExternalLabels map[string]string `koanf:"external_labels"`

	// RemediationDir holds a script per alert name, <alertname> or
	// <alertname>.sh, run when that alert fires (see
	// outpost/alerting/remediate).
	RemediationDir string `koanf:"remediation_dir"`
	// ExecConfigs are named commands that rules' remediate keys name.
	ExecConfigs []remediate.ExecConfig `koanf:"exec_configs"`
	// Remediation holds the settings of every remediation.
	Remediation remediate.Config `koanf:"remediation"`

	Global       receiver.Global      `koanf:"global"`
	Route        notify.Route         `koanf:"route"`
	Receivers    []receiver.Config    `koanf:"receivers"`
	InhibitRules []notify.InhibitRule `koanf:"inhibit_rules"`
}

// DefaultReceiver is the receiver of the default route: it has no
// integrations, so alerts are kept, shown and recorded in the history
// until receivers are configured.
const DefaultReceiver = "default"

// DefaultConfig returns the alerting defaults: the built-in rules on, a
// 30 s evaluation interval, 30 days of history, 48 h of retries.
func DefaultConfig() Config {
	return Config{
		Defaults:           true,
		EvaluationInterval: 30 * time.Second,
		HistoryRetention:   30 * 24 * time.Hour,
		DeliveryTimeLimit:  48 * time.Hour,
		Remediation:        remediate.DefaultConfig(),
		Global:             receiver.DefaultGlobal(),
		Route:              defaultRoute(),
		Receivers:          []receiver.Config{{Name: DefaultReceiver}},
	}
}

// Validate names the first key with a bad value.
func (c Config) Validate() error {
	for i, g := range c.Rules {
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("alerting.rules[%d]: %q: %w", i, g, err)
		}
	}
	switch {
	case c.EvaluationInterval < time.Second || c.EvaluationInterval > 24*time.Hour:
		return fmt.Errorf("alerting.evaluation_interval: %s is outside 1s to 24h", c.EvaluationInterval)
	case c.HistoryRetention < time.Hour:
		return fmt.Errorf("alerting.history_retention: %s is under 1h", c.HistoryRetention)
	case c.DeliveryTimeLimit < time.Minute:
		return fmt.Errorf("alerting.delivery_time_limit: %s is under 1m", c.DeliveryTimeLimit)
	}
	if c.ExternalURL != "" {
		u, err := url.Parse(c.ExternalURL)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("alerting.external_url: %q is not an absolute URL", c.ExternalURL)
		}
	}
	if err := receiver.ValidateAll(c.Receivers); err != nil {
		return prefix("alerting", err)
	}
	names := make([]string, 0, len(c.Receivers))
	for _, r := range c.Receivers {
		names = append(names, r.Name)
	}
	if err := c.notifyConfig().Validate(names); err != nil {
		return prefix("alerting", err)
	}
	return remediate.Validate(c.Remediation, c.RemediationDir, c.ExecConfigs, names)
}

func prefix(p string, err error) error {
	if p == "alerting" {
		return errors.New("alerting." + err.Error())
	}
	return errors.New(p + ": " + err.Error())
}

// notifyConfig is the routing part of c.
func (c Config) notifyConfig() notify.Config {
	return notify.Config{Route: c.Route, InhibitRules: c.InhibitRules}
}

// defaultRoute is Alertmanager's root route with the default receiver.
func defaultRoute() notify.Route {
	r := notify.DefaultConfig().Route
	r.Receiver = DefaultReceiver
	return r
}
