package alerting

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

// fakeData answers queries from a table: expression -> vector, set by the
// test before each round. It is the QueryFunc fake STYLE.md asks for; the
// end-to-end tests in main run the real engine.
type fakeData struct {
	mu   sync.Mutex
	vecs map[string]query.Vector
}

func (f *fakeData) set(expr string, v query.Vector) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.vecs == nil {
		f.vecs = map[string]query.Vector{}
	}
	f.vecs[expr] = v
}

func (f *fakeData) query(ctx context.Context, expr string, ts time.Time) (query.Vector, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.vecs[expr]), nil
}

// sample builds one sample from name/value label pairs.
func sample(v float64, nv ...string) query.Sample {
	return query.Sample{Labels: tsdb.FromStrings(nv...), V: v}
}

// testManager is a Manager over a rule file written from yml, with a
// fake clock the test moves and rounds it runs by hand.
type testManager struct {
	*Manager
	t    *testing.T
	data *fakeData
	now  time.Time
	dir  string
}

func newTestManager(t *testing.T, yml string) *testManager {
	t.Helper()
	dir := t.TempDir()
	return openTestManager(t, dir, yml, &fakeData{}, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
}

func openTestManager(t *testing.T, dir, yml string, data *fakeData, now time.Time) *testManager {
	t.Helper()
	path := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(path, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Defaults = false
	cfg.Rules = []string{path}
	cfg.ExternalURL = "http://outpost.test:8086"
	tm := &testManager{t: t, data: data, now: now, dir: dir}
	m, err := Open(cfg, Options{Dir: dir, Query: data.query, Now: func() time.Time { return tm.now }})
	if err != nil {
		t.Fatal(err)
	}
	tm.Manager = m
	t.Cleanup(func() { m.Close() })
	return tm
}

// round moves the clock by d and evaluates every group once.
func (tm *testManager) round(d time.Duration) {
	tm.t.Helper()
	tm.now = tm.now.Add(d)
	tm.mu.RLock()
	groups := slices.Clone(tm.groups)
	tm.mu.RUnlock()
	for _, g := range groups {
		tm.evalGroup(tm.t.Context(), g, tm.now)
	}
}

// alert returns the open alert whose labels include nv, or nil.
func (tm *testManager) alert(nv ...string) *AlertView {
	for _, a := range tm.Alerts() {
		ok := true
		for i := 0; i < len(nv); i += 2 {
			if a.Labels[nv[i]] != nv[i+1] {
				ok = false
			}
		}
		if ok {
			return &a
		}
	}
	return nil
}

// wantState fails unless the alert with labels nv is in state st at
// severity sev (or absent, for st inactive).
func (tm *testManager) wantState(st State, sev string, nv ...string) {
	tm.t.Helper()
	a := tm.alert(nv...)
	switch {
	case st == StateInactive && a == nil:
		return
	case a == nil:
		tm.t.Fatalf("%v: no open alert, want %s", nv, st)
	case a.State != st || a.Severity != sev:
		tm.t.Fatalf("%v: state %s severity %q, want %s %q (reason %q)", nv, a.State, a.Severity, st, sev, a.Reason)
	}
}

// History older than alerting.history_retention is pruned; newer stays.
func TestManager_PruneHistory(t *testing.T) {
	tm := newTestManager(t, diskRules)
	old, recent := tm.now.Add(-31*24*time.Hour), tm.now.Add(-time.Hour)
	c := &change{events: []Event{{T: old, Kind: EventNote, Comment: "old"}, {T: recent, Kind: EventNote, Comment: "recent"}}}
	if err := tm.st.write(c); err != nil {
		t.Fatal(err)
	}
	tm.pruneHistory()
	evs, err := tm.History(old.Add(-time.Hour), tm.now, "", "", 0)
	if err != nil || len(evs) != 1 || evs[0].Comment != "recent" {
		t.Fatalf("after prune: %+v %v", evs, err)
	}
}

// Reload before Run loads the files by itself instead of waiting for a
// Run that is not there.
func TestManager_ReloadBeforeRun(t *testing.T) {
	tm := newTestManager(t, diskRules)
	more := diskRules + `  - alert: DiskAlmostFull
    expr: disk_used_percent > 70
`
	if err := os.WriteFile(filepath.Join(tm.dir, "rules.yml"), []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := tm.Reload(ctx); err != nil {
		t.Fatalf("Reload before Run: %v", err)
	}
	tm.mu.RLock()
	n := len(tm.rules)
	tm.mu.RUnlock()
	if n != 2 {
		t.Fatalf("%d rules after the reload, want 2", n)
	}
}
