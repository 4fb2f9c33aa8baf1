package notify

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// The root route's timers when the configuration leaves them out, as in
// Alertmanager.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// groupByAll is the group_by entry that groups by every label.
const groupByAll = "..."

// Config is the routing part of Alertmanager's configuration: the route
// tree and the inhibit rules (the receivers are receiver.Config). Its keys
// are Alertmanager's, so a pasted alertmanager.yml section decodes.
type Config struct {
	Route        Route         `koanf:"route"`
	InhibitRules []InhibitRule `koanf:"inhibit_rules"`
}

// Route is one node of the routing tree. A zero duration, an empty receiver
// and a nil GroupBy are inherited from the parent (the root's defaults are
// DefaultGroupWait, DefaultGroupInterval and DefaultRepeatInterval).
type Route struct {
	// Receiver names the receiver of the alerts this route takes.
	Receiver string `koanf:"receiver"`
	// GroupBy lists the labels that split alerts into groups; ["..."]
	// groups by every label (one group per alert).
	GroupBy []string `koanf:"group_by"`
	// Continue lets an alert this route matched go on to match the next
	// siblings.
	Continue bool `koanf:"continue"`
	// Match and MatchRE are Alertmanager's older matcher forms: label ->
	// value, and label -> anchored regular expression.
	Match   map[string]string `koanf:"match"`
	MatchRE map[string]string `koanf:"match_re"`
	// Matchers are matcher lists in ParseMatchers syntax, such as
	// 'severity="critical"' or 'host=~"web.*"'; all must match.
	Matchers []string `koanf:"matchers"`
	// GroupWait is how long a new group waits for more alerts before its
	// first notification.
	GroupWait time.Duration `koanf:"group_wait"`
	// GroupInterval is how long a group waits between flushes.
	GroupInterval time.Duration `koanf:"group_interval"`
	// RepeatInterval is how long after a notification the same firing
	// alerts are notified again.
	RepeatInterval time.Duration `koanf:"repeat_interval"`
	// Routes are the child routes, tried in order.
	Routes []Route `koanf:"routes"`
}

// InhibitRule mutes alerts matching the target matchers while an alert
// matching the source matchers fires with the same values of the Equal
// labels. Both matcher forms may be used; they are ANDed.
type InhibitRule struct {
	SourceMatchers []string          `koanf:"source_matchers"`
	TargetMatchers []string          `koanf:"target_matchers"`
	SourceMatch    map[string]string `koanf:"source_match"`
	TargetMatch    map[string]string `koanf:"target_match"`
	SourceMatchRE  map[string]string `koanf:"source_match_re"`
	TargetMatchRE  map[string]string `koanf:"target_match_re"`
	Equal          []string          `koanf:"equal"`
}

// DefaultConfig returns a root route with Alertmanager's default timers and
// no receiver: Validate requires the caller to name one.
func DefaultConfig() Config {
	return Config{Route: Route{
		GroupWait:      DefaultGroupWait,
		GroupInterval:  DefaultGroupInterval,
		RepeatInterval: DefaultRepeatInterval,
	}}
}

// Validate checks c against the names of the configured receivers. The
// error names the key path of the first problem, such as
// route.routes[1].matchers[0]: "sev=~\"(\"": bad regexp ...
func (c Config) Validate(receiverNames []string) error {
	if _, err := NewTree(c.Route); err != nil {
		return err
	}
	if err := checkReceivers(c.Route, "route", receiverNames); err != nil {
		return err
	}
	for i, r := range c.InhibitRules {
		if _, err := compileInhibitRule(r, "inhibit_rules["+strconv.Itoa(i)+"]"); err != nil {
			return err
		}
	}
	return nil
}

func checkReceivers(r Route, path string, names []string) error {
	if r.Receiver != "" && !slices.Contains(names, r.Receiver) {
		return fmt.Errorf("%s.receiver: unknown receiver %q", path, r.Receiver)
	}
	for i, c := range r.Routes {
		if err := checkReceivers(c, path+".routes["+strconv.Itoa(i)+"]", names); err != nil {
			return err
		}
	}
	return nil
}

// compileMatchers turns the three matcher forms of a route or an inhibit
// rule into one sorted list. prefix is the key path up to the form's name
// ("route.routes[0]." or "inhibit_rules[1].source_").
func compileMatchers(match, matchRE map[string]string, matchers []string, prefix, reKey string) ([]Matcher, error) {
	var ms []Matcher
	for _, name := range sortedKeys(match) {
		m, err := NewMatcher(name, match[name], false, true)
		if err != nil {
			return nil, fmt.Errorf("%smatch.%s: %w", prefix, name, err)
		}
		ms = append(ms, m)
	}
	for _, name := range sortedKeys(matchRE) {
		m, err := NewMatcher(name, matchRE[name], true, true)
		if err != nil {
			return nil, fmt.Errorf("%s%s.%s: %w", prefix, reKey, name, err)
		}
		ms = append(ms, m)
	}
	for i, s := range matchers {
		parsed, err := ParseMatchers(s)
		if err == nil && len(parsed) == 0 {
			err = errors.New("no matcher")
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				err = fmt.Errorf("%q: %w", s, err)
			}
			return nil, fmt.Errorf("%smatchers[%d]: %w", prefix, i, err)
		}
		ms = append(ms, parsed...)
	}
	sortMatchers(ms)
	return ms, nil
}

// sortMatchers orders ms by name, value and operator, as Alertmanager does
// before it renders a route key.
func sortMatchers(ms []Matcher) {
	slices.SortStableFunc(ms, func(a, b Matcher) int {
		switch {
		case a.Name != b.Name:
			return cmp.Compare(a.Name, b.Name)
		case a.Value != b.Value:
			return cmp.Compare(a.Value, b.Value)
		}
		return cmp.Compare(a.Op(), b.Op())
	})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkDurations rejects negative timers; zero means inherit.
func checkDurations(r Route, path string) error {
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"group_wait", r.GroupWait}, {"group_interval", r.GroupInterval}, {"repeat_interval", r.RepeatInterval}} {
		if d.v < 0 {
			return fmt.Errorf("%s.%s: negative duration %s", path, d.key, d.v)
		}
	}
	return nil
}

// checkGroupBy rejects bad label names, duplicates and "..." mixed with
// names, as Alertmanager does.
func checkGroupBy(groupBy []string, path string) error {
	for i, l := range groupBy {
		switch {
		case l == groupByAll && len(groupBy) > 1:
			return fmt.Errorf("%s.group_by: %q must be the only entry", path, groupByAll)
		case l != groupByAll && !validLabelName(l):
			return fmt.Errorf("%s.group_by[%d]: bad label name %q", path, i, l)
		case slices.Index(groupBy, l) != i:
			return fmt.Errorf("%s.group_by[%d]: duplicate label %q", path, i, l)
		}
	}
	return nil
}
