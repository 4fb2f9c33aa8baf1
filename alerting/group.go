package alerting

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/remediate"
	"outpost/alerting/rulefile"
	"outpost/tsdb"
)

// groupRunner evaluates one rule group on its interval, its rules in
// order, in one goroutine.
type groupRunner struct {
	spec     *rulefile.Group
	interval time.Duration
	rules    []rule

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the status of the last round.
	mu       sync.Mutex
	lastEval time.Time
	evalTime time.Duration
}

// start runs the group until stop or ctx ends. The first round comes
// after an offset within the interval derived from the group's name, so
// groups spread over the interval as Prometheus spreads them.
func (g *groupRunner) start(ctx context.Context, m *Manager) {
	ctx, g.cancel = context.WithCancel(ctx)
	g.wg.Go(func() {
		h := fnv.New64a()
		h.Write([]byte(g.spec.File + "\x00" + g.spec.Name))
		now := m.opts.Now()
		next := now.Truncate(g.interval).Add(time.Duration(h.Sum64() % uint64(g.interval)))
		if next.Before(now) {
			next = next.Add(g.interval)
		}
		for {
			t := time.NewTimer(next.Sub(m.opts.Now()))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			m.evalGroup(ctx, g, next)
			next = next.Add(g.interval)
			if now := m.opts.Now(); next.Before(now) { // a round overran: skip the missed ones
				next = now.Truncate(g.interval).Add(next.Sub(next.Truncate(g.interval))).Add(g.interval)
			}
		}
	})
}

// stop ends the group's goroutine after its current round.
func (g *groupRunner) stop() {
	if g.cancel != nil {
		g.cancel()
	}
	g.wg.Wait()
}

// evalGroup runs one round of g at t: every rule, then one transaction
// with the state changes and history, the recorded and ALERTS series,
// and the alerts for the dispatcher.
func (m *Manager) evalGroup(ctx context.Context, g *groupRunner, t time.Time) {
	start := time.Now()
	env := m.env()
	env.now = t
	var c change
	var msgs []receiver.Alert
	var pts []tsdb.Point
	var jobs []*remediate.Job
	for _, r := range g.rules {
		b := r.base()
		t0 := time.Now()
		res, err := r.eval(ctx, env, t)
		if err != nil && ctx.Err() != nil {
			continue // shutting down or reloading: not a failure of the rule
		}
		b.mu.Lock()
		if err != nil && (b.lastErr == nil || b.lastErr.Error() != err.Error()) {
			m.log.Warn("rule evaluation failed", "group", g.spec.Name, "rule", b.spec.Name, "err", err)
		}
		b.lastEval, b.evalTime, b.lastErr = t, time.Since(t0), err
		if err == nil {
			msgs = append(msgs, res.messages...)
			c.events = append(c.events, res.events...)
			pts = append(pts, res.points...)
			collect(r, res, &c, &pts, t)
			jobs = append(jobs, m.remediationJobs(r, res, env)...)
		}
		b.mu.Unlock()
	}
	if err := m.st.write(&c); err != nil {
		m.log.Error("store alert state", "group", g.spec.Name, "err", err)
	}
	if len(pts) > 0 && m.opts.Writer != nil {
		if err := m.opts.Writer.Write(ctx, pts); err != nil && ctx.Err() == nil {
			m.log.Warn("write recorded series", "group", g.spec.Name, "err", err)
		}
	}
	if len(msgs) > 0 {
		m.notifier.Put(msgs...)
	}
	for _, j := range jobs { // after the store: the history has "firing" first
		m.remediator.Submit(j)
	}
	g.mu.Lock()
	g.lastEval, g.evalTime = t, time.Since(start)
	g.mu.Unlock()
}

// env is what rules evaluate with.
func (m *Manager) env() *evalEnv {
	return &evalEnv{
		query: m.opts.Query, silent: m.silent, externalLabels: m.cfg.ExternalLabels,
		externalURL: m.externalURL(), log: m.log,
	}
}

// silent reports whether the source of an alert with labels ls, whose
// series last had a value at lastSeen, is silent as a whole: a group of
// some flatline rule that ls belong to has sent nothing since (see
// flatlineRule.silentGroup).
func (m *Manager) silent(ls map[string]string, lastSeen, t time.Time) bool {
	flats := m.flats.Load()
	if flats == nil {
		return false
	}
	for _, f := range *flats {
		if f.silentGroup(ls, lastSeen, t) {
			return true
		}
	}
	return false
}

// collect adds what r's round must store to c, and the ALERTS series of
// its active alerts to pts. The caller holds r's lock.
func collect(r rule, res *evalResult, c *change, pts *[]tsdb.Point, t time.Time) {
	for _, a := range res.deleted {
		if a.stored || a.State == StateRetired {
			c.deleted = append(c.deleted, a)
			a.stored = false
		}
	}
	switch r := r.(type) {
	case *thresholdRule:
		for _, a := range r.alerts {
			switch {
			case a.Active() || a.State == StateInsufficientData || a.Held:
				c.alerts = append(c.alerts, a.clone())
				a.stored = true
			case a.stored:
				c.deleted = append(c.deleted, a.clone())
				a.stored = false
			}
		}
	case *flatlineRule:
		for fp, g := range r.groups {
			if g.dirty || g.Alert.Active() || g.LastSeen.Sub(g.persisted) > time.Minute {
				cp := *g
				cp.Alert = g.Alert.clone()
				c.groups = append(c.groups, groupWrite{rule: r.key, fp: fp, g: &cp})
				g.persisted, g.dirty = g.LastSeen, false
			}
		}
		for _, a := range res.deleted {
			c.groups = append(c.groups, groupWrite{rule: r.key, fp: fingerprint(groupLabels(a.Labels, r.spec.By))})
		}
	}
	ms := t.UnixMilli()
	for _, a := range res.active {
		*pts = append(*pts, alertsPoints(a, ms)...)
	}
}

// groupLabels projects ls onto the names in by.
func groupLabels(ls map[string]string, by []string) map[string]string {
	out := make(map[string]string, len(by))
	for _, b := range by {
		if v, ok := ls[b]; ok {
			out[b] = v
		}
	}
	return out
}

// alertsPoints are a's ALERTS and ALERTS_FOR_STATE samples at ms, as
// Prometheus writes them: ALERTS{alertstate="pending|firing",...} 1 and
// ALERTS_FOR_STATE{...} = the start of the breach in Unix seconds.
func alertsPoints(a *Alert, ms int64) []tsdb.Point {
	ls := a.sentLabels()
	m := make(map[string]string, len(ls)+2)
	for k, v := range ls {
		m[k] = v
	}
	m["__name__"] = "ALERTS_FOR_STATE"
	forState := tsdb.FromMap(m).WithoutEmpty()
	m["__name__"] = "ALERTS"
	m["alertstate"] = a.State.String()
	alerts := tsdb.FromMap(m).WithoutEmpty()
	return []tsdb.Point{
		{Labels: alerts, T: ms, V: 1},
		{Labels: forState, T: ms, V: float64(a.ActiveAt.Unix())},
	}
}
