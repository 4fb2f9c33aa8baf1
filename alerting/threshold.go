package alerting

import (
	"context"
	"fmt"
	"maps"
	"math"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
	"outpost/query"
)

// thresholdRule evaluates an alerting rule: Prometheus' (every sample of
// expr breaches) or outpost's (warn/crit conditions on the value of expr,
// M of N datapoints, clear, missing_data). Its alerts are keyed by the
// fingerprint of their labels.
type thresholdRule struct {
	ruleBase
	m, n   int
	alerts map[string]*Alert
}

func newThresholdRule(b ruleInfo) *thresholdRule {
	r := &thresholdRule{ruleBase: ruleBase{ruleInfo: b}, alerts: map[string]*Alert{}}
	r.m, r.n = b.spec.DatapointsToAlarm, b.spec.EvaluationPeriods
	if r.n <= 0 {
		r.n = max(r.m, 1)
	}
	if r.m <= 0 {
		r.m = r.n
	}
	return r
}

// leveled reports whether the rule has warn/crit conditions.
func (r *thresholdRule) leveled() bool { return r.spec.Warn != nil || r.spec.Crit != nil }

// level is the breach level of value v.
func (r *thresholdRule) level(v float64) Level {
	switch {
	case !r.leveled():
		return LevelBreach
	case r.spec.Crit != nil && r.spec.Crit.Holds(v):
		return LevelCritical
	case r.spec.Warn != nil && r.spec.Warn.Holds(v):
		return LevelWarning
	}
	return LevelOK
}

// topLevel is the highest level the rule can breach at (what a missing
// datapoint counts as under missing_data: breaching).
func (r *thresholdRule) topLevel() Level {
	switch {
	case !r.leveled():
		return LevelBreach
	case r.spec.Crit != nil:
		return LevelCritical
	}
	return LevelWarning
}

// eval runs one evaluation at t. It returns the messages for the
// dispatcher and the events of the state changes.
func (r *thresholdRule) eval(ctx context.Context, env *evalEnv, t time.Time) (*evalResult, error) {
	vec, err := env.query(ctx, r.spec.Expr, t)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", r.spec.Expr, err)
	}
	if lim := r.group.Limit; lim > 0 && len(vec) > lim {
		return nil, fmt.Errorf("%d series exceed the group's limit of %d", len(vec), lim)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &evalResult{}
	seen := make(map[string]bool, len(vec))
	for _, s := range vec {
		ls, err := r.alertLabels(ctx, env, s)
		if err != nil {
			return nil, err
		}
		fp := fingerprint(ls)
		if seen[fp] {
			return nil, fmt.Errorf("two series give the same alert labels %v", ls)
		}
		seen[fp] = true
		a := r.alerts[fp]
		if a == nil {
			a = &Alert{Rule: r.key, Labels: ls}
			r.alerts[fp] = a
		}
		a.LastSeen, a.Value, a.Held = t, number(s.V), false
		r.push(a, Datapoint{T: t, V: number(s.V), Level: r.level(s.V)})
		r.step(ctx, env, a, t, s.Labels, res)
	}
	for fp, a := range r.alerts {
		if !seen[fp] {
			r.missing(ctx, env, a, t, res)
		}
		if r.forgettable(a, t) {
			delete(r.alerts, fp)
			res.deleted = append(res.deleted, a)
			continue
		}
		if a.State == StateFiring {
			res.messages = append(res.messages, a.message(receiver.StatusFiring, "", env.generatorURL(r.spec.Expr), r.repeat(a)))
		}
		if a.Active() {
			res.active = append(res.active, a)
		}
	}
	return res, nil
}

// alertLabels builds the labels of the alert for sample s: the series'
// labels without __name__, then the group's, the rule's (templates
// expanded) and alertname. A rule with levels sets severity itself.
func (r *thresholdRule) alertLabels(ctx context.Context, env *evalEnv, s query.Sample) (map[string]string, error) {
	ls := make(map[string]string, len(s.Labels)+len(r.group.Labels)+len(r.spec.Labels)+1)
	for _, l := range s.Labels {
		if l.Name != "__name__" {
			ls[l.Name] = l.Value
		}
	}
	maps.Copy(ls, r.group.Labels)
	// The series' labels with __name__ are what label templates see; a
	// rule without any needs no second map.
	var series map[string]string
	if len(r.spec.LabelTemplates) > 0 {
		series = make(map[string]string, len(s.Labels))
		for _, l := range s.Labels {
			series[l.Name] = l.Value
		}
	}
	if err := env.expandInto(ctx, ls, r.spec.Labels, r.spec.LabelTemplates, series, s.V); err != nil {
		return nil, fmt.Errorf("expand labels: %w", err)
	}
	ls["alertname"] = r.spec.Name
	if r.leveled() {
		delete(ls, "severity")
	}
	return ls, nil
}

// push appends p to a's datapoints, keeping the last N.
func (r *thresholdRule) push(a *Alert, p Datapoint) {
	a.Points = append(a.Points, p)
	if over := len(a.Points) - r.n; over > 0 {
		a.Points = append(a.Points[:0], a.Points[over:]...)
	}
}

// target is the level the last N datapoints call for: the highest level
// that at least M of them reach.
func (r *thresholdRule) target(a *Alert) Level {
	for _, l := range []Level{LevelCritical, LevelWarning, LevelBreach} {
		n := 0
		for _, p := range a.Points {
			if p.Level >= l {
				n++
			}
		}
		if n >= r.m {
			return l
		}
	}
	return LevelOK
}

// condition names the condition a level is judged by, for reasons.
func (r *thresholdRule) condition(l Level) string {
	switch {
	case l == LevelCritical && r.spec.Crit != nil:
		return r.spec.Crit.String()
	case l >= LevelWarning && r.spec.Warn != nil:
		return r.spec.Warn.String()
	case r.spec.Crit != nil:
		return r.spec.Crit.String()
	}
	return "returned by " + r.spec.Expr
}

// repeat is the rule's repeat interval for a's severity, 0 for the
// route's.
func (r *thresholdRule) repeat(a *Alert) time.Duration {
	if d, ok := r.spec.Repeat[a.severity()]; ok {
		return d
	}
	return r.spec.Repeat[""]
}

// forgettable reports whether a can be dropped: inactive with nothing
// breaching in its datapoints and not seen for a while (the series went
// away), or left insufficient for a day.
func (r *thresholdRule) forgettable(a *Alert, t time.Time) bool {
	switch a.State {
	case StateInactive, StateResolved:
		if r.target(a) != LevelOK {
			return false
		}
		gone := t.Sub(a.LastSeen) > 2*r.interval
		return gone || len(a.Points) == 0 || !r.keepsInactive()
	case StateInsufficientData:
		return t.Sub(a.LastSeen) > 24*time.Hour
	}
	return false
}

// keepsInactive reports whether the rule must remember series that do
// not breach: rules with levels (the next value may breach) and rules
// whose missing_data policy watches absence. A Prometheus rule's series
// that stop breaching are forgotten, as Prometheus does.
func (r *thresholdRule) keepsInactive() bool {
	return r.leveled() || r.m > 1 || r.spec.MissingData != rulefile.MissingDefault
}

// isNaN reports whether v is NaN.
func isNaN(v float64) bool { return math.IsNaN(v) }
