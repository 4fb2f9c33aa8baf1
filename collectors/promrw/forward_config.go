package promrw

import (
	"fmt"
	"net/url"
	"regexp"
	"time"

	"outpost/tsdb"
)

// Defaults of a forward target's keys.
const (
	// DefaultForwardTimeout is the default of forward.targets[].timeout,
	// Prometheus' remote_timeout.
	DefaultForwardTimeout = 30 * time.Second
	// DefaultMaxSamplesPerSend is the default of
	// forward.targets[].max_samples_per_send, Prometheus' queue_config
	// default.
	DefaultMaxSamplesPerSend = 2_000
	// DefaultMaxQueueBytes is the default of forward.targets[].max_queue_bytes:
	// 1 GiB, about 20 M samples of usual labels, hours of a bastion's
	// ingest.
	DefaultMaxQueueBytes = 1 << 30
	// DefaultFlushInterval is the default of forward.targets[].flush_interval:
	// how long a batch smaller than max_samples_per_send waits for more.
	DefaultFlushInterval = time.Second
)

// ForwardConfig is the "forward" section: where outpost sends a copy of
// what it ingests, with Prometheus remote write. No targets: off.
type ForwardConfig struct {
	Targets []TargetConfig `koanf:"targets"`
}

// TargetConfig is one remote write endpoint (forward.targets[]).
type TargetConfig struct {
	// Name names the target in logs, metrics and its queue directory
	// (<storage.path>/forward/<name>/): letters, digits, '_' and '-'.
	Name string `koanf:"name"`
	// URL is the remote write endpoint, e.g.
	// http://vm:8428/api/v1/write.
	URL string `koanf:"url"`
	// Match are series selectors ('{__name__=~"cpu_.*"}', 'up'); a point
	// is forwarded when one of them selects it. Empty: every point.
	Match []string `koanf:"match"`
	// ExternalLabels are added to every forwarded series that lacks them;
	// a series' own label of the same name is kept, as Prometheus does.
	ExternalLabels map[string]string `koanf:"external_labels"`
	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken string `koanf:"bearer_token"`
	// BasicAuth is sent as HTTP Basic authentication.
	BasicAuth BasicAuth `koanf:"basic_auth"`
	// Timeout bounds one send.
	Timeout time.Duration `koanf:"timeout"`
	// MaxSamplesPerSend caps the samples of one request.
	MaxSamplesPerSend int `koanf:"max_samples_per_send"`
	// MaxQueueBytes caps the target's on-disk queue; past it the oldest
	// batches are dropped (counted and logged).
	MaxQueueBytes int64 `koanf:"max_queue_bytes"`
	// FlushInterval is how long a batch below MaxSamplesPerSend waits for
	// more samples before it is sent.
	FlushInterval time.Duration `koanf:"flush_interval"`
}

// BasicAuth is HTTP Basic authentication for a target.
type BasicAuth struct {
	Username string `koanf:"username"`
	Password string `koanf:"password"`
}

// DefaultForwardConfig returns the default: no targets.
func DefaultForwardConfig() ForwardConfig { return ForwardConfig{} }

// targetName is what a target's name may hold: it names a directory.
var targetName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// withDefaults returns t with its zero keys set to their defaults.
func (t TargetConfig) withDefaults() TargetConfig {
	if t.Timeout == 0 {
		t.Timeout = DefaultForwardTimeout
	}
	if t.MaxSamplesPerSend == 0 {
		t.MaxSamplesPerSend = DefaultMaxSamplesPerSend
	}
	if t.MaxQueueBytes == 0 {
		t.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if t.FlushInterval == 0 {
		t.FlushInterval = DefaultFlushInterval
	}
	return t
}

// SelectorParser reads series selectors into matcher sets, as
// query.ParseSelectors does (this package may not import query).
type SelectorParser func(selectors []string) ([][]*tsdb.Matcher, error)

// Validate names the first key with a bad value. parse checks the match
// selectors; nil skips them.
func (c ForwardConfig) Validate(parse SelectorParser) error {
	seen := make(map[string]bool)
	for i, t := range c.Targets {
		key := fmt.Sprintf("forward.targets[%d]", i)
		t = t.withDefaults()
		if !targetName.MatchString(t.Name) {
			return fmt.Errorf("%s.name: %q is not 1 to 64 letters, digits, '_' or '-'", key, t.Name)
		}
		if seen[t.Name] {
			return fmt.Errorf("%s.name: %q is given twice", key, t.Name)
		}
		seen[t.Name] = true
		u, err := url.Parse(t.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url: %q is not an http:// or https:// URL", key, t.URL)
		}
		if parse != nil {
			for j, m := range t.Match {
				if _, err := parse([]string{m}); err != nil {
					return fmt.Errorf("%s.match[%d]: %w", key, j, err)
				}
			}
		}
		for name := range t.ExternalLabels {
			if name == "" || name == "__name__" {
				return fmt.Errorf("%s.external_labels: %q may not be an external label", key, name)
			}
		}
		if t.BearerToken != "" && t.BasicAuth.Username != "" {
			return fmt.Errorf("%s: bearer_token and basic_auth are both set; give one", key)
		}
		switch {
		case t.Timeout < 0:
			return fmt.Errorf("%s.timeout: %s is negative", key, t.Timeout)
		case t.MaxSamplesPerSend < 1 || t.MaxSamplesPerSend > 1_000_000:
			return fmt.Errorf("%s.max_samples_per_send: %d is outside 1 to 1000000", key, t.MaxSamplesPerSend)
		case t.MaxQueueBytes < 1<<20:
			return fmt.Errorf("%s.max_queue_bytes: %d is below 1 MiB", key, t.MaxQueueBytes)
		case t.FlushInterval < 0:
			return fmt.Errorf("%s.flush_interval: %s is negative", key, t.FlushInterval)
		}
	}
	return nil
}
