package alerting

import (
	"context"
	"math"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
	"outpost/tsdb"
)

// step moves a through its states after a datapoint was pushed at t.
// series are the sample's labels for templates (nil when the datapoint is
// missing: the last annotations stay).
func (r *thresholdRule) step(ctx context.Context, env *evalEnv, a *Alert, t time.Time, series tsdb.Labels, res *evalResult) {
	target := r.target(a)
	from := a.State
	switch a.State {
	case StateInactive, StateResolved, StateInsufficientData:
		if target == LevelOK {
			if a.State == StateInsufficientData && !allMissing(a.Points) {
				a.State = StateInactive
			}
			break
		}
		a.ActiveAt, a.Level, a.LastBreach, a.Ack = t, target, t, nil
		a.Reason = breachReason(a.Points, target, r.condition(target))
		a.State = StatePending
		if r.spec.For <= 0 {
			r.fire(a, t)
		}
	case StatePending:
		if target == LevelOK {
			a.State, a.ActiveAt, a.Level = StateInactive, time.Time{}, LevelOK
			break
		}
		a.Level, a.LastBreach = target, t
		a.Reason = breachReason(a.Points, target, r.condition(target))
		if t.Sub(a.ActiveAt) >= r.spec.For {
			r.fire(a, t)
		}
	case StateFiring:
		r.stepFiring(a, t, target, res, env.generatorURL(r.spec.Expr))
	}
	if a.Active() {
		r.annotate(ctx, env, a, series)
	}
	if a.State != from {
		res.events = append(res.events, stateEvent(a, from, t))
		if a.State == StateResolved {
			res.messages = append(res.messages, a.message(receiver.StatusResolved, "", env.generatorURL(r.spec.Expr), 0))
		}
	}
}

// stepFiring handles a firing alert: a change of level, the clear
// condition (hysteresis), keep_firing_for, or resolution.
//
// A change of level changes the alert's severity label, so the receivers
// see a new alert: the old severity's alert is resolved at t then, or it
// would stay firing (and repeating) for ever.
func (r *thresholdRule) stepFiring(a *Alert, t time.Time, target Level, res *evalResult, generatorURL string) {
	last := a.Points[len(a.Points)-1]
	if target != LevelOK {
		a.LastBreach, a.KeepFiringSince = t, time.Time{}
		if target != a.Level {
			old := a.clone()
			old.ResolvedAt = t
			old.Reason = "severity changed to " + target.Severity() + ": " + breachReason(a.Points, target, r.condition(target))
			res.messages = append(res.messages, old.message(receiver.StatusResolved, "", generatorURL, 0))
			a.Level, a.Ack = target, nil // a new severity is a new alert to acknowledge
			a.Reason = breachReason(a.Points, target, r.condition(target))
		}
		return
	}
	if c := r.spec.Clear; c != nil {
		if last.Level == LevelMissing || !c.Holds(float64(last.V)) {
			return // hysteresis: firing until the clear condition holds
		}
		a.Reason = clearReason(last, c.String())
	} else {
		a.Reason = breachReason(a.Points, a.Level, r.condition(a.Level))
	}
	if r.spec.KeepFiringFor > 0 {
		if a.KeepFiringSince.IsZero() {
			a.KeepFiringSince = t
		}
		if t.Sub(a.KeepFiringSince) < r.spec.KeepFiringFor {
			return
		}
	}
	a.State, a.ResolvedAt, a.Ack, a.KeepFiringSince = StateResolved, t, nil, time.Time{}
}

// fire makes a firing at t.
func (r *thresholdRule) fire(a *Alert, t time.Time) {
	a.State, a.FiredAt, a.ResolvedAt = StateFiring, t, time.Time{}
}

// missing handles an evaluation at which a's series had no value. When
// the alert's source is silent as a whole (a flatline rule's group is
// silent), an active alert is held as it is: the flatline alert speaks
// for the source. Otherwise the rule's missing_data policy decides.
func (r *thresholdRule) missing(ctx context.Context, env *evalEnv, a *Alert, t time.Time, res *evalResult) {
	if a.State == StateInactive && len(a.Points) == 0 {
		return
	}
	if env.silent(a.Labels, a.LastSeen, t) {
		a.Held = a.Active() // neither resolved nor a missing-data breach: the flatline alert speaks
		return
	}
	a.Held = false
	p := Datapoint{T: t, V: number(math.NaN()), Level: LevelOK}
	switch r.spec.MissingData {
	case rulefile.MissingIgnore:
		return
	case rulefile.MissingBreaching:
		p.Level = r.topLevel()
	case rulefile.MissingMissing:
		p.Level = LevelMissing
	}
	r.push(a, p)
	if p.Level == LevelMissing && allMissing(a.Points) && len(a.Points) >= r.n {
		r.insufficient(a, t, res)
		return
	}
	r.step(ctx, env, a, t, nil, res)
}

// insufficient handles a rule under missing_data: missing whose last N
// datapoints are all missing: a firing alert is held (no resolution is
// claimed for data that did not come), anything else goes to the
// insufficient-data state.
func (r *thresholdRule) insufficient(a *Alert, t time.Time, res *evalResult) {
	a.Reason = "no data: " + breachReason(a.Points, LevelMissing, "missing")
	if a.State == StateFiring {
		a.Held = true
		return
	}
	if a.State != StateInsufficientData {
		from := a.State
		a.State, a.ActiveAt, a.Level = StateInsufficientData, time.Time{}, LevelOK
		res.events = append(res.events, stateEvent(a, from, t))
	}
}

// annotate expands the rule's annotations for a; series nil keeps the
// last expansion (the datapoint was missing).
func (r *thresholdRule) annotate(ctx context.Context, env *evalEnv, a *Alert, series tsdb.Labels) {
	if series == nil && a.Annotations != nil {
		return
	}
	m := make(map[string]string, len(series))
	for _, l := range series {
		m[l.Name] = l.Value
	}
	if series == nil {
		m = a.Labels
	}
	out := make(map[string]string, len(r.spec.Annotations))
	if err := env.expandInto(ctx, out, r.spec.Annotations, r.spec.AnnotationTemplates, m, float64(a.Value)); err != nil {
		env.log.Warn("expand annotations", "rule", r.spec.Name, "err", err)
	}
	a.Annotations = out
}

// allMissing reports whether every datapoint is missing.
func allMissing(ps []Datapoint) bool {
	for _, p := range ps {
		if p.Level != LevelMissing {
			return false
		}
	}
	return true
}
