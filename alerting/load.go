package alerting

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"outpost/alerting/receiver"
	"outpost/alerting/rulefile"
)

// fileState is one rule file as last loaded.
type fileState struct {
	path string
	// file is the last version that loaded; nil if none ever did.
	file *rulefile.File
	// err is why the latest version failed to load, nil if it loaded.
	err     error
	modTime time.Time
	size    int64
}

// load reads the rule files again and rebuilds the groups. A file that
// fails keeps its last good version. The caller has stopped the groups.
func (m *Manager) load() error {
	paths, globErr := m.globs()
	m.mu.Lock()
	defer m.mu.Unlock()
	files := make(map[string]*fileState, len(paths))
	var errs []error
	if globErr != nil {
		errs = append(errs, globErr)
	}
	for _, p := range paths {
		fs := &fileState{path: p}
		if st, err := os.Stat(p); err == nil {
			fs.modTime, fs.size = st.ModTime(), st.Size()
		}
		f, err := rulefile.Load(p)
		if err == nil {
			err = m.checkRemediate(f)
		}
		if err != nil {
			fs.err = err
			if old := m.files[p]; old != nil {
				fs.file = old.file
			}
			errs = append(errs, err)
		} else {
			fs.file = f
		}
		files[p] = fs
	}
	m.files = files
	var all []*rulefile.File
	if m.cfg.Defaults {
		all = append(all, rulefile.Defaults())
	}
	for _, p := range paths {
		if f := files[p].file; f != nil {
			all = append(all, f)
		}
	}
	if gone := m.build(all); len(gone) > 0 {
		m.notifier.Put(gone...)
	}
	return errors.Join(errs...)
}

// globs expands the configured rule globs and the API's rule files,
// sorted and without repeats.
func (m *Manager) globs() ([]string, error) {
	var out []string
	var errs []error
	// The groups managed over the API load as the configured files do.
	for _, g := range append(slices.Clip(m.cfg.Rules), m.RuleStore().Glob()) {
		ps, err := filepath.Glob(g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, ps...)
	}
	slices.Sort(out)
	return slices.Compact(out), errors.Join(errs...)
}

// filesChanged reports whether a rule file appeared, went away or
// changed size or modification time since the last load.
func (m *Manager) filesChanged() bool {
	paths, _ := m.globs()
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(paths) != len(m.files) {
		return true
	}
	for _, p := range paths {
		fs := m.files[p]
		st, err := os.Stat(p)
		if fs == nil || err != nil || !st.ModTime().Equal(fs.modTime) || st.Size() != fs.size {
			return true
		}
	}
	return false
}

// build makes the groups and rules of files. A rule whose key existed
// before keeps its state; a new one restores its state from alerting.db.
// It returns the resolutions of the open alerts of rules that are gone.
// The caller holds mu.
func (m *Manager) build(files []*rulefile.File) []receiver.Alert {
	old := m.rules
	oldGroups := map[string]*groupRunner{}
	for _, g := range m.groups {
		oldGroups[g.spec.File+"\x00"+g.spec.Name] = g
	}
	m.rules = map[string]rule{}
	m.groups = nil
	var flats []*flatlineRule
	for _, f := range files {
		for gi := range f.Groups {
			g := &f.Groups[gi]
			interval := g.Interval
			if interval <= 0 {
				interval = m.cfg.EvaluationInterval
			}
			gr := &groupRunner{spec: g, interval: interval}
			if og := oldGroups[g.File+"\x00"+g.Name]; og != nil {
				og.mu.Lock()
				gr.lastEval, gr.evalTime = og.lastEval, og.evalTime
				og.mu.Unlock()
			}
			seen := map[string]int{}
			for ri := range g.Rules {
				spec := &g.Rules[ri]
				n := seen[spec.Kind.String()+spec.Name]
				seen[spec.Kind.String()+spec.Name]++
				key := ruleKey(g, spec, n)
				r := m.newRule(ruleInfo{key: key, spec: spec, group: g, interval: interval}, old[key])
				m.rules[key] = r
				gr.rules = append(gr.rules, r)
				if fr, ok := r.(*flatlineRule); ok {
					flats = append(flats, fr)
				}
			}
			m.groups = append(m.groups, gr)
		}
	}
	m.flats.Store(&flats)
	var gone []receiver.Alert
	for key, r := range old {
		if _, ok := m.rules[key]; !ok {
			gone = append(gone, m.removed(r)...)
		}
	}
	return gone
}

// removed ends the open alerts of a rule that is no longer loaded: each is
// resolved (a rule removed on purpose must not leave its alerts firing at
// the receivers) and its stored state goes.
func (m *Manager) removed(r rule) []receiver.Alert {
	b := r.base()
	b.mu.Lock()
	defer b.mu.Unlock()
	t := m.opts.Now()
	var c change
	var out []receiver.Alert
	for _, a := range ruleAlerts(r) {
		if a.State == StateFiring {
			from := a.State
			a.State, a.ResolvedAt, a.Reason = StateResolved, t, "its rule was removed"
			c.events = append(c.events, stateEvent(a, from, t))
			out = append(out, a.message(receiver.StatusResolved, "", "", 0))
		}
		c.deleted = append(c.deleted, a)
	}
	if fr, ok := r.(*flatlineRule); ok {
		for fp := range fr.groups {
			c.groups = append(c.groups, groupWrite{rule: fr.key, fp: fp})
		}
	}
	if err := m.st.write(&c); err != nil {
		m.log.Error("drop the state of a removed rule", "rule", b.spec.Name, "err", err)
	}
	return out
}

// newRule builds the rule of b, carrying over prev's state and health
// when prev is a rule of the same kind, else restoring the stored state.
func (m *Manager) newRule(b ruleInfo, prev rule) rule {
	r := m.makeRule(b, prev)
	if prev != nil {
		pb, nb := prev.base(), r.base()
		pb.mu.Lock()
		nb.lastEval, nb.evalTime, nb.lastErr = pb.lastEval, pb.evalTime, pb.lastErr
		pb.mu.Unlock()
	}
	return r
}

// makeRule builds the rule of b with its state (see newRule).
func (m *Manager) makeRule(b ruleInfo, prev rule) rule {
	switch b.spec.Kind {
	case rulefile.KindRecord:
		return &recordRule{ruleBase: ruleBase{ruleInfo: b}}
	case rulefile.KindFlatline:
		r := newFlatlineRule(b)
		if p, ok := prev.(*flatlineRule); ok {
			p.mu.Lock()
			r.groups = p.groups
			p.mu.Unlock()
			return r
		}
		if _, groups, err := m.st.loadRule(b.key); err != nil {
			m.log.Error("restore flatline groups", "rule", b.spec.Name, "err", err)
		} else {
			r.groups = groups
			for _, g := range groups {
				g.persisted = g.LastSeen
			}
		}
		return r
	}
	r := newThresholdRule(b)
	if p, ok := prev.(*thresholdRule); ok {
		p.mu.Lock()
		r.alerts = p.alerts
		p.mu.Unlock()
		return r
	}
	alerts, _, err := m.st.loadRule(b.key)
	if err != nil {
		m.log.Error("restore alerts", "rule", b.spec.Name, "err", err)
	}
	for _, a := range alerts {
		a.stored = true
		r.alerts[a.Fingerprint()] = a
	}
	return r
}
