package alerting

import (
	"context"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"outpost/alerting/receiver"
	"outpost/query"
	"outpost/tsdb"
)

// flatlineRule learns the groups (the values of its By labels) of the
// series its expression selects, with no configuration per group, and
// fires once for a group that has sent nothing for For. A group is
// retired on purpose (Retire) or after ForgetAfter of silence, with one
// "retired" notice, and is then forgotten until it is seen again.
type flatlineRule struct {
	ruleBase
	// window is how far back each evaluation looks for a group's last
	// sample: twice the interval, so consecutive windows overlap.
	window time.Duration
	groups map[string]*flatGroup // by fingerprint of the By labels
	// selector is the rule's expression with outpost's own ALERTS and
	// ALERTS_FOR_STATE series excluded: they carry the host's labels and
	// would keep a silent host "reporting".
	selector string
}

// flatGroup is one group a flatline rule tracks.
type flatGroup struct {
	// Labels are the group's By labels.
	Labels    map[string]string `json:"labels"`
	FirstSeen time.Time         `json:"firstSeen"`
	LastSeen  time.Time         `json:"lastSeen"`
	// Alert is the group's alert: inactive while it reports, firing while
	// it is silent.
	Alert *Alert `json:"alert"`

	// persisted is the LastSeen last written to alerting.db.
	persisted time.Time
	// dirty is set when the group changed in a way that must be stored.
	dirty bool
}

func newFlatlineRule(b ruleInfo) *flatlineRule {
	w := max(2*b.interval, 30*time.Second)
	if f := b.spec.For; f > 0 && w > f {
		w = f
	}
	sel, err := query.ExcludeMetrics(b.spec.Expr, "ALERTS|ALERTS_FOR_STATE")
	if err != nil { // the rule file's validation parsed it: not expected
		sel = b.spec.Expr
	}
	return &flatlineRule{ruleBase: ruleBase{ruleInfo: b}, window: w, groups: map[string]*flatGroup{}, selector: sel}
}

// expr is the query that gives each group's last sample time within the
// window: max by (By) (tlast_over_time((expr)[window])).
func (r *flatlineRule) expr() string {
	return fmt.Sprintf("max by (%s) (tlast_over_time((%s)[%ds]))",
		strings.Join(r.spec.By, ", "), r.selector, int64(r.window/time.Second))
}

func (r *flatlineRule) eval(ctx context.Context, env *evalEnv, t time.Time) (*evalResult, error) {
	vec, err := env.query(ctx, r.expr(), t)
	if err != nil {
		return nil, fmt.Errorf("evaluate %q: %w", r.spec.Expr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &evalResult{}
	for _, s := range vec {
		r.seen(ctx, env, s.Labels, s.V, t, res)
	}
	for fp, g := range r.groups {
		silent := t.Sub(g.LastSeen)
		a := g.Alert
		switch {
		case r.spec.ForgetAfter > 0 && silent >= r.spec.ForgetAfter:
			delete(r.groups, fp)
			res.messages = append(res.messages, r.retire(g, t, "silent for "+r.spec.ForgetAfter.String()+" (forget_after)", res))
			continue
		case silent >= r.spec.For && a.State != StateFiring:
			from := a.State
			a.State, a.ActiveAt, a.FiredAt, a.ResolvedAt = StateFiring, g.LastSeen, t, time.Time{}
			a.Value, a.Reason = number(silent.Seconds()), silentReason(g.LastSeen, silent)
			r.annotate(ctx, env, a, g)
			g.dirty = true
			res.events = append(res.events, stateEvent(a, from, t))
		case a.State == StateFiring:
			a.Value, a.Reason = number(silent.Seconds()), silentReason(g.LastSeen, silent)
		}
		if a.State == StateFiring {
			res.messages = append(res.messages, a.message(receiver.StatusFiring, "", env.generatorURL(r.spec.Expr), r.repeat()))
			res.active = append(res.active, a)
		}
	}
	return res, nil
}

// seen records that the group of labels had a sample at v (seconds):
// a new group is tracked, a silent one that reports again resolves.
func (r *flatlineRule) seen(ctx context.Context, env *evalEnv, ls tsdb.Labels, v float64, t time.Time, res *evalResult) {
	if math.IsNaN(v) {
		return
	}
	gl := make(map[string]string, len(r.spec.By))
	for _, l := range ls {
		gl[l.Name] = l.Value
	}
	fp := fingerprint(gl)
	last := time.UnixMilli(int64(v * 1000))
	g := r.groups[fp]
	if g == nil {
		g = &flatGroup{Labels: gl, FirstSeen: last, LastSeen: last, Alert: &Alert{Rule: r.key, Labels: r.alertLabels(gl)}}
		g.dirty = true
		r.groups[fp] = g
		res.events = append(res.events, Event{T: t, Kind: EventTracked, Rule: r.key, Alertname: r.spec.Name,
			Fingerprint: g.Alert.Fingerprint(), Labels: maps.Clone(g.Alert.Labels), Reason: "new group, tracked"})
	}
	if last.After(g.LastSeen) {
		g.LastSeen = last
	}
	a := g.Alert
	if a.State == StateFiring && t.Sub(g.LastSeen) < r.spec.For {
		a.State, a.ResolvedAt, a.Ack = StateResolved, t, nil
		a.Value, a.Reason = number(t.Sub(g.LastSeen).Seconds()), "reporting again (last sample at "+g.LastSeen.UTC().Format(time.RFC3339)+")"
		res.events = append(res.events, stateEvent(a, StateFiring, t))
		res.messages = append(res.messages, a.message(receiver.StatusResolved, "", env.generatorURL(r.spec.Expr), 0))
		a.State, g.dirty = StateInactive, true
	}
}

// alertLabels are a group's alert labels: its By labels, the group's and
// the rule's labels (templates are not expanded here: a flatline rule's
// labels are static) and alertname.
func (r *flatlineRule) alertLabels(gl map[string]string) map[string]string {
	ls := maps.Clone(gl)
	maps.Copy(ls, r.group.Labels)
	maps.Copy(ls, r.spec.Labels)
	ls["alertname"] = r.spec.Name
	return ls
}

// annotate expands the rule's annotations for g's alert: $labels are
// the alert's labels and $value the seconds of silence.
func (r *flatlineRule) annotate(ctx context.Context, env *evalEnv, a *Alert, g *flatGroup) {
	out := make(map[string]string, len(r.spec.Annotations))
	if err := env.expandInto(ctx, out, r.spec.Annotations, r.spec.AnnotationTemplates, a.Labels, float64(a.Value)); err != nil {
		env.log.Warn("expand annotations", "rule", r.spec.Name, "err", err)
	}
	a.Annotations = out
}

// retire ends g: its alert becomes retired and its one notice is
// returned. The caller removed g from the rule.
func (r *flatlineRule) retire(g *flatGroup, t time.Time, why string, res *evalResult) receiver.Alert {
	a := g.Alert
	from := a.State
	a.State, a.ResolvedAt, a.Ack, a.Held = StateRetired, t, nil, false
	if a.ActiveAt.IsZero() {
		a.ActiveAt = g.LastSeen
	}
	a.Reason = "retired: " + why
	res.events = append(res.events, stateEvent(a, from, t))
	res.deleted = append(res.deleted, a)
	return a.message(receiver.StatusResolved, "retired", "", 0)
}

// repeat is the rule's repeat interval, 0 for the route's.
func (r *flatlineRule) repeat() time.Duration {
	if d, ok := r.spec.Repeat[r.spec.Labels["severity"]]; ok {
		return d
	}
	return r.spec.Repeat[""]
}

// silentGroup reports whether ls belong to a group of r that has sent
// nothing since lastSeen (the last evaluation at which the caller's
// series still had a value), or nothing for more than twice the rule's
// interval. The first test catches a source that stopped as a whole
// before the flatline rule's own "for" has passed: until the group
// reports again, the caller cannot tell a series that ended from a source
// that went silent, and must not claim a resolution.
func (r *flatlineRule) silentGroup(ls map[string]string, lastSeen, t time.Time) bool {
	gl := make(map[string]string, len(r.spec.By))
	for _, b := range r.spec.By {
		v, ok := ls[b]
		if !ok {
			return false
		}
		gl[b] = v
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.groups[fingerprint(gl)]
	return g != nil && (!g.LastSeen.After(lastSeen) || t.Sub(g.LastSeen) > 2*r.interval)
}
