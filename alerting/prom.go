package alerting

import (
	"context"
	"time"

	"outpost/query"
)

// RuleGroups lists the groups and their rules for GET /api/v1/rules, in
// Prometheus' shape: each alerting rule with its pending and firing
// alerts, health and last error. outpost's flatline rules show as
// alerting rules; its thresholds are in Query's place as the expression.
func (m *Manager) RuleGroups(ctx context.Context) ([]query.RuleGroup, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]query.RuleGroup, 0, len(m.groups))
	for _, g := range m.groups {
		g.mu.Lock()
		rg := query.RuleGroup{Name: g.spec.Name, File: g.spec.File, Interval: g.interval.Seconds(), Limit: g.spec.Limit,
			EvaluationTime: g.evalTime.Seconds(), LastEvaluation: g.lastEval, Rules: make([]query.Rule, 0, len(g.rules))}
		g.mu.Unlock()
		for _, r := range g.rules {
			rg.Rules = append(rg.Rules, promRule(r))
		}
		out = append(out, rg)
	}
	return out, ctx.Err()
}

// promRule is r in Prometheus' rule shape.
func promRule(r rule) query.Rule {
	b := r.base()
	b.mu.Lock()
	defer b.mu.Unlock()
	pr := query.Rule{Name: b.spec.Name, Query: b.spec.Expr, Labels: b.spec.Labels, Health: "unknown",
		EvaluationTime: b.evalTime.Seconds(), LastEvaluation: b.lastEval}
	if pr.Labels == nil {
		pr.Labels = map[string]string{}
	}
	switch {
	case b.lastErr != nil:
		pr.Health, pr.LastError = "err", b.lastErr.Error()
	case !b.lastEval.IsZero():
		pr.Health = "ok"
	}
	if _, ok := r.(*recordRule); ok {
		pr.Type = "recording"
		return pr
	}
	pr.Type, pr.State = "alerting", "inactive"
	pr.Duration, pr.KeepFiringFor = b.spec.For.Seconds(), b.spec.KeepFiringFor.Seconds()
	pr.Annotations = b.spec.Annotations
	if pr.Annotations == nil {
		pr.Annotations = map[string]string{}
	}
	pr.Alerts = []query.Alert{}
	for _, a := range ruleAlerts(r) {
		if !a.Active() {
			continue
		}
		pr.Alerts = append(pr.Alerts, promAlert(a))
		if a.State == StateFiring || pr.State == "inactive" {
			pr.State = a.State.String()
		}
	}
	return pr
}

// promAlert is a in Prometheus' alert shape.
func promAlert(a *Alert) query.Alert {
	at := a.ActiveAt
	ann := a.Annotations
	if ann == nil {
		ann = map[string]string{}
	}
	return query.Alert{Labels: a.sentLabels(), Annotations: ann, State: a.State.String(), ActiveAt: &at,
		Value: query.FormatValue(float64(a.Value))}
}

// PromAlerts lists the pending and firing alerts for GET /api/v1/alerts.
func (m *Manager) PromAlerts(ctx context.Context) ([]query.Alert, error) {
	views := m.Alerts()
	out := make([]query.Alert, 0, len(views))
	for i := range views {
		if views[i].Active() {
			out = append(out, promAlert(&views[i].Alert))
		}
	}
	return out, ctx.Err()
}

// History returns alert history events in [from, to], newest first, at
// most limit, of alert id (a fingerprint) or alertname when given.
func (m *Manager) History(from, to time.Time, id, alertname string, limit int) ([]Event, error) {
	return m.st.history(from, to, limit, func(e *Event) bool {
		return (id == "" || e.Fingerprint == id) && (alertname == "" || e.Alertname == alertname)
	})
}
