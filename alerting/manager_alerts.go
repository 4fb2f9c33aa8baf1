package alerting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"outpost/alerting/receiver"
	"outpost/tsdb"
)

// ErrNotFound is returned for an alert id that names no alert.
var ErrNotFound = errors.New("no such alert")

// AlertView is an alert as the APIs show it: a copy of its state with its
// rule's name and group.
type AlertView struct {
	Alert
	// ID is the alert's fingerprint, which the ack and note calls take.
	ID        string `json:"id"`
	RuleName  string `json:"ruleName"`
	GroupName string `json:"group"`
	File      string `json:"file"`
	Severity  string `json:"severity,omitempty"`
	// SilencedBy are the ids of the active silences that mute the alert.
	SilencedBy []string `json:"silencedBy,omitempty"`
}

// Alerts returns a copy of every alert that is pending, firing, held or
// insufficient, sorted by rule and labels.
func (m *Manager) Alerts() []AlertView {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []AlertView
	for _, r := range m.rules {
		b := r.base()
		b.mu.Lock()
		for _, a := range ruleAlerts(r) {
			if a.Active() || a.State == StateInsufficientData {
				out = append(out, AlertView{Alert: *a.clone(), ID: a.Fingerprint(), RuleName: b.spec.Name,
					GroupName: b.group.Name, File: b.group.File, Severity: a.severity()})
			}
		}
		b.mu.Unlock()
	}
	sils := m.notifier.Silences()
	for i := range out {
		out[i].SilencedBy = sils.Mutes(out[i].sentLabels())
	}
	slices.SortFunc(out, func(a, b AlertView) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// ruleAlerts lists r's alerts. The caller holds r's lock.
func ruleAlerts(r rule) []*Alert {
	switch r := r.(type) {
	case *thresholdRule:
		out := make([]*Alert, 0, len(r.alerts))
		for _, a := range r.alerts {
			out = append(out, a)
		}
		return out
	case *flatlineRule:
		out := make([]*Alert, 0, len(r.groups))
		for _, g := range r.groups {
			out = append(out, g.Alert)
		}
		return out
	}
	return nil
}

// Ack acknowledges the firing alert id (a fingerprint): it is no longer
// repeated until it resolves or changes severity.
func (m *Manager) Ack(ctx context.Context, id, by, comment string) error {
	return m.act(ctx, id, func(a *Alert, t time.Time) (Event, error) {
		if a.State != StateFiring {
			return Event{}, fmt.Errorf("alert %s is %s, not firing", id, a.State)
		}
		a.Ack = &Ack{By: by, Comment: comment, At: t}
		return Event{Kind: EventAck, By: by, Comment: comment}, nil
	})
}

// Unack removes the acknowledgement of alert id.
func (m *Manager) Unack(ctx context.Context, id, by string) error {
	return m.act(ctx, id, func(a *Alert, t time.Time) (Event, error) {
		if a.Ack == nil {
			return Event{}, fmt.Errorf("alert %s is not acknowledged", id)
		}
		a.Ack = nil
		return Event{Kind: EventUnack, By: by}, nil
	})
}

// Note adds a note to alert id's history.
func (m *Manager) Note(ctx context.Context, id, by, text string) error {
	if strings.TrimSpace(text) == "" {
		return errors.New("the note is empty")
	}
	return m.act(ctx, id, func(a *Alert, t time.Time) (Event, error) {
		return Event{Kind: EventNote, By: by, Comment: text}, nil
	})
}

// act applies f to every alert whose fingerprint is id, stores the
// change and its event, and tells the dispatcher.
func (m *Manager) act(ctx context.Context, id string, f func(*Alert, time.Time) (Event, error)) error {
	t := m.opts.Now()
	var c change
	var msgs []receiver.Alert
	found := false
	m.mu.RLock()
	env := m.env()
	for _, r := range m.rules {
		b := r.base()
		b.mu.Lock()
		for _, a := range ruleAlerts(r) {
			if a.Fingerprint() != id || !(a.Active() || a.State == StateInsufficientData) {
				continue
			}
			found = true
			e, err := f(a, t)
			if err != nil {
				b.mu.Unlock()
				m.mu.RUnlock()
				return err
			}
			e.T, e.Rule, e.Alertname, e.Fingerprint, e.Labels = t, a.Rule, a.Labels["alertname"], id, a.Labels
			e.Severity, e.Value = a.severity(), a.Value
			c.events = append(c.events, e)
			if _, ok := r.(*thresholdRule); ok && a.stored {
				c.alerts = append(c.alerts, a.clone())
			}
			if a.State == StateFiring {
				msgs = append(msgs, a.message(receiver.StatusFiring, "", env.generatorURL(b.spec.Expr), 0))
			}
		}
		b.mu.Unlock()
	}
	m.mu.RUnlock()
	if !found {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err := m.st.write(&c); err != nil {
		return err
	}
	m.notifier.Put(msgs...)
	return ctx.Err()
}

// RetireResult says what a retirement did.
type RetireResult struct {
	// Groups are the flatline groups retired (rule name and labels).
	Groups []RetiredGroup `json:"groups"`
	// Alerts is how many open alerts of other rules were closed.
	Alerts int `json:"alerts"`
}

// RetiredGroup is one flatline group a retirement ended.
type RetiredGroup struct {
	Rule   string            `json:"rule"`
	Labels map[string]string `json:"labels"`
}

// Retire ends, on purpose, the flatline groups matching any of the
// selectors (a decommissioned host, a destroyed cluster): each gets one
// "retired" notice and is forgotten until it reports again; the open
// alerts of every rule whose labels match a selector or belong to a
// retired group are closed as retired too.
func (m *Manager) Retire(ctx context.Context, sel [][]*tsdb.Matcher, by, comment string) (RetireResult, error) {
	t := m.opts.Now()
	res := &evalResult{}
	out := RetireResult{Groups: []RetiredGroup{}}
	m.mu.RLock()
	var retired []map[string]string
	var c change
	for _, f := range *m.flats.Load() {
		f.mu.Lock()
		for fp, g := range f.groups {
			if matchAny(sel, g.Labels) {
				delete(f.groups, fp)
				c.groups = append(c.groups, groupWrite{rule: f.key, fp: fp})
				res.messages = append(res.messages, f.retire(g, t, retireWhy(by, comment), res))
				retired = append(retired, g.Labels)
				out.Groups = append(out.Groups, RetiredGroup{Rule: f.spec.Name, Labels: g.Labels})
			}
		}
		f.mu.Unlock()
	}
	for _, r := range m.rules {
		tr, ok := r.(*thresholdRule)
		if !ok {
			continue
		}
		tr.mu.Lock()
		for fp, a := range tr.alerts {
			if !matchAny(sel, a.Labels) && !inAnyGroup(a.Labels, retired) {
				continue
			}
			delete(tr.alerts, fp)
			if a.Active() || a.State == StateInsufficientData {
				from := a.State
				a.State, a.ResolvedAt, a.Ack, a.Held = StateRetired, t, nil, false
				a.Reason = "retired: " + retireWhy(by, comment)
				res.events = append(res.events, stateEvent(a, from, t))
				res.messages = append(res.messages, a.message(receiver.StatusResolved, "retired", "", 0))
				out.Alerts++
			}
			res.deleted = append(res.deleted, a)
		}
		tr.mu.Unlock()
	}
	m.mu.RUnlock()
	c.events, c.deleted = res.events, res.deleted
	if err := m.st.write(&c); err != nil {
		return out, err
	}
	m.notifier.Put(res.messages...)
	return out, ctx.Err()
}

func retireWhy(by, comment string) string {
	s := "by " + by
	if comment != "" {
		s += ": " + comment
	}
	return s
}

// matchAny reports whether ls match every matcher of one of the sets.
func matchAny(sel [][]*tsdb.Matcher, ls map[string]string) bool {
	for _, ms := range sel {
		ok := true
		for _, mt := range ms {
			if !mt.Matches(ls[mt.Name]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// inAnyGroup reports whether ls hold every label of one of the groups.
func inAnyGroup(ls map[string]string, groups []map[string]string) bool {
	for _, g := range groups {
		ok := len(g) > 0
		for k, v := range g {
			if ls[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
