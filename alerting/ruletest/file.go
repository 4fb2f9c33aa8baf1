package ruletest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is one unit-test file in promtool's format.
type File struct {
	RuleFiles          []string `yaml:"rule_files"`
	EvaluationInterval Duration `yaml:"evaluation_interval"`
	GroupEvalOrder     []string `yaml:"group_eval_order"`
	Tests              []Test   `yaml:"tests"`
}

// Test is one test group: input series and the expectations on them.
type Test struct {
	Name           string            `yaml:"name"`
	Interval       Duration          `yaml:"interval"`
	InputSeries    []Series          `yaml:"input_series"`
	AlertRuleTests []AlertTest       `yaml:"alert_rule_test"`
	ExprTests      []ExprTest        `yaml:"promql_expr_test"`
	ExternalLabels map[string]string `yaml:"external_labels"`
	ExternalURL    string            `yaml:"external_url"`
}

// Series is one input series: a selector naming its labels and values in
// the expanding notation (see Expand).
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest expects the firing alerts of one alert name at one time.
type AlertTest struct {
	EvalTime  Duration        `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []ExpectedAlert `yaml:"exp_alerts"`
}

// ExpectedAlert is one firing alert: its labels (alertname is added) and
// annotations.
type ExpectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// ExprTest expects the result of a query at one time.
type ExprTest struct {
	Expr       string           `yaml:"expr"`
	EvalTime   Duration         `yaml:"eval_time"`
	ExpSamples []ExpectedSample `yaml:"exp_samples"`
}

// ExpectedSample is one sample of a query's result.
type ExpectedSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// Duration is a duration in Prometheus' syntax (1m, 1h30m, 1d, 500ms).
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// String formats d as promtool does: 5m, 1h30m, 0s.
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	ms := time.Duration(d).Milliseconds()
	for _, u := range durationUnits {
		if n := ms / u.ms; n > 0 {
			b.WriteString(strconv.FormatInt(n, 10) + u.name)
			ms -= n * u.ms
		}
	}
	return b.String()
}

// durationUnits are Prometheus' duration units, largest first.
var durationUnits = []struct {
	name string
	ms   int64
}{
	{"y", 365 * 24 * 3600e3}, {"w", 7 * 24 * 3600e3}, {"d", 24 * 3600e3},
	{"h", 3600e3}, {"m", 60e3}, {"s", 1e3}, {"ms", 1},
}

// ParseDuration parses a duration in Prometheus' syntax: whole numbers
// with units y, w, d, h, m, s, ms, largest first ("1h30m"), or "0".
func ParseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total int64
	rest, next := s, 0
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 15 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		n, _ := strconv.ParseInt(rest[:i], 10, 64)
		rest = rest[i:]
		found := false
		for k := next; k < len(durationUnits); k++ {
			u := durationUnits[k]
			if strings.HasPrefix(rest, u.name) && !(u.name == "m" && strings.HasPrefix(rest, "ms")) {
				total += n * u.ms
				rest, next, found = rest[len(u.name):], k+1, true
				break
			}
		}
		if !found || total < 0 || total > int64(time.Duration(1<<62).Milliseconds()) {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
	}
	return time.Duration(total) * time.Millisecond, nil
}

// Parse decodes a unit-test file strictly (an unknown key is an error,
// as in promtool) and checks what promtool checks before running.
func Parse(data []byte) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if f.EvaluationInterval == 0 {
		f.EvaluationInterval = Duration(time.Minute)
	}
	if f.EvaluationInterval < 0 {
		return nil, errors.New("evaluation_interval must be positive")
	}
	seen := map[string]bool{}
	for _, g := range f.GroupEvalOrder {
		if seen[g] {
			return nil, fmt.Errorf("group name repeated in evaluation order: %s", g)
		}
		seen[g] = true
	}
	for i := range f.Tests {
		t := &f.Tests[i]
		if t.Interval == 0 {
			t.Interval = f.EvaluationInterval
		}
		for _, a := range t.AlertRuleTests {
			if a.Alertname == "" {
				in := ""
				if t.Name != "" {
					in = fmt.Sprintf(" (in TestGroup %s)", t.Name)
				}
				return nil, fmt.Errorf("an item under alert_rule_test misses required attribute alertname at eval_time %v%s", a.EvalTime, in)
			}
		}
	}
	return &f, nil
}
