package alerting

import (
	"context"
	"slices"
	"time"

	"outpost/alerting/rulefile"
)

// What the alert and rule pages (package ui/pages) read beyond the APIs'
// shapes: every loaded rule with its definition and health, history with
// any filter, and a round evaluated on demand.

// GroupInfo is one loaded rule group with its rules, in file order.
type GroupInfo struct {
	Name string
	// File is the group's file ("<defaults>" for the built-in rules).
	File     string
	Interval time.Duration
	Limit    int
	// LastEval is the time of the group's last round; EvalTime how long
	// it took.
	LastEval time.Time
	EvalTime time.Duration
	Rules    []RuleInfo
}

// RuleInfo is one loaded rule: its definition and the health of its last
// evaluation.
type RuleInfo struct {
	// Key is the rule's key, which Alert.Rule and Event.Rule hold.
	Key string
	// Spec is the rule as loaded. It is shared with the evaluator and
	// must not be modified.
	Spec *rulefile.Rule
	// Ordinal is the rule's rank among the group's rules of its kind and
	// name (Prometheus allows two alerting rules of one name in a group).
	Ordinal  int
	LastEval time.Time
	EvalTime time.Duration
	// LastError is the error of the last evaluation, "" when it worked.
	LastError string
	// Tracked is the number of groups a flatline rule tracks, reporting
	// or not.
	Tracked int
}

// Groups returns every loaded group with its rules, in the order of the
// files and of the groups in them.
func (m *Manager) Groups() []GroupInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]GroupInfo, 0, len(m.groups))
	for _, g := range m.groups {
		g.mu.Lock()
		gi := GroupInfo{Name: g.spec.Name, File: g.spec.File, Interval: g.interval, Limit: g.spec.Limit,
			LastEval: g.lastEval, EvalTime: g.evalTime, Rules: make([]RuleInfo, 0, len(g.rules))}
		g.mu.Unlock()
		seen := map[string]int{}
		for _, r := range g.rules {
			b := r.base()
			id := b.spec.Kind.String() + ":" + b.spec.Name
			ri := RuleInfo{Key: b.key, Spec: b.spec, Ordinal: seen[id]}
			seen[id]++
			b.mu.Lock()
			ri.LastEval, ri.EvalTime = b.lastEval, b.evalTime
			if b.lastErr != nil {
				ri.LastError = b.lastErr.Error()
			}
			if f, ok := r.(*flatlineRule); ok {
				ri.Tracked = len(f.groups)
			}
			b.mu.Unlock()
			gi.Rules = append(gi.Rules, ri)
		}
		out = append(out, gi)
	}
	return out
}

// HistoryWhere returns the history events in [from, to] that keep
// accepts, newest first, at most limit (0: all). keep runs inside a read
// transaction of alerting.db: it must be quick and must not call the
// Manager.
func (m *Manager) HistoryWhere(from, to time.Time, limit int, keep func(*Event) bool) ([]Event, error) {
	if keep == nil {
		keep = func(*Event) bool { return true }
	}
	return m.st.history(from, to, limit, keep)
}

// HistoryRetention is how far back the history goes
// (alerting.history_retention).
func (m *Manager) HistoryRetention() time.Duration { return m.cfg.HistoryRetention }

// Evaluate runs one round of every loaded group at t, outside the groups'
// schedule, and returns when it is done: the state changes, history,
// ALERTS series and notifications are those of a scheduled round. It is
// for tests of the packages that show alerts, and for tools; alongside
// Run, its round interleaves with the scheduled ones. A reload waits for
// it.
func (m *Manager) Evaluate(ctx context.Context, t time.Time) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, g := range slices.Clone(m.groups) {
		if ctx.Err() != nil {
			return
		}
		m.evalGroup(ctx, g, t)
	}
}
