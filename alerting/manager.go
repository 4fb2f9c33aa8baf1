package alerting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/notify"
	"outpost/alerting/receiver"
	"outpost/alerting/remediate"
	"outpost/query"
	"outpost/tsdb"
)

// QueryFunc evaluates a MetricsQL expression at ts as an instant vector;
// query.Engine.InstantVector is one.
type QueryFunc func(ctx context.Context, expr string, ts time.Time) (query.Vector, error)

// Writer stores points: recording rules' results and the ALERTS series.
// *tsdb.DB implements it.
type Writer interface {
	Write(ctx context.Context, pts []tsdb.Point) error
}

// Options carries what the Manager needs besides its Config.
type Options struct {
	// Dir is the data directory; the state goes to Dir/alerting.db.
	Dir string
	// Query evaluates rule expressions; Writer stores what rules record.
	Query  QueryFunc
	Writer Writer
	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Hostname names this machine in notifications (Alerta's origin).
	Hostname string
	// Version is outpost's version, for /api/v2/status.
	Version string
	// Backoff, when set, replaces the outbox's retry backoff (tests).
	Backoff func(attempt int) time.Duration
}

// Manager loads rule files, evaluates their groups, keeps alert state
// and history in alerting.db, and hands alerts to the notifier.
type Manager struct {
	cfg      Config
	opts     Options
	log      *slog.Logger
	db       *bolt.DB
	st       *store
	notifier *notify.Notifier
	// remediator runs the remediations of firing alerts.
	remediator *remediate.Runner
	started    time.Time

	// mu guards the fields below: the loaded files and the running
	// groups. A rule's own state has its own lock (ruleBase.mu); take mu
	// first when both are needed.
	mu     sync.RWMutex
	files  map[string]*fileState
	groups []*groupRunner
	rules  map[string]rule // by key, every loaded rule

	// flats are the loaded flatline rules, swapped whole at each load.
	// Rule evaluations read it while holding their own rule's lock, so it
	// must not need mu: a reload waiting for mu would block those reads
	// behind readers of mu that wait for the same rule's lock.
	flats atomic.Pointer[[]*flatlineRule]

	reload chan chan error
	// runMu guards running: whether Run's loop takes reloads. Before Run
	// (and after it returned) Reload loads by itself, holding runMu so
	// that Run cannot start meanwhile.
	runMu   sync.Mutex
	running bool
}

// Open opens (or creates) Dir/alerting.db, loads the rule files and
// builds the notifier. Call Run to evaluate and Close after Run returned.
func Open(cfg Config, opts Options) (*Manager, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	m := &Manager{cfg: cfg, opts: opts, log: log.With("component", "alerting"), files: map[string]*fileState{},
		rules: map[string]rule{}, reload: make(chan chan error), started: opts.Now()}
	path := filepath.Join(opts.Dir, "alerting.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	m.db = db
	if m.st, err = openStore(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	ints, err := m.integrations(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	m.notifier, err = notify.Open(db, cfg.notifyConfig(), notify.Options{
		Logger: log.With("component", "notify"), Now: opts.Now, Integrations: ints,
		ExternalURL: m.externalURL(), DeliveryTimeLimit: cfg.DeliveryTimeLimit, Backoff: opts.Backoff,
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open notifier: %w", err)
	}
	if m.remediator, err = m.newRemediator(); err != nil {
		db.Close()
		return nil, err
	}
	if err := m.load(); err != nil {
		m.log.Error("some rule files failed to load; the others run", "err", err)
	}
	m.resumeNotifications()
	return m, nil
}

// resumeNotifications hands the dispatcher, right after a restart, every
// alert the stored state has firing (before any group's wait ends, so the
// dispatcher's log sees the whole groups and sends nothing again), and
// the resolution of every alert whose rule was removed while outpost was
// down.
func (m *Manager) resumeNotifications() {
	m.mu.RLock()
	var msgs []receiver.Alert
	env := m.env()
	for _, r := range m.rules {
		b := r.base()
		b.mu.Lock()
		for _, a := range ruleAlerts(r) {
			if a.State == StateFiring {
				msgs = append(msgs, a.message(receiver.StatusFiring, "", env.generatorURL(b.spec.Expr), 0))
			}
		}
		b.mu.Unlock()
	}
	keep := func(rule string) bool { _, ok := m.rules[rule]; return ok }
	m.mu.RUnlock()
	orphans, err := m.st.orphans(keep)
	if err != nil {
		m.log.Error("drop the state of removed rules", "err", err)
	}
	t := m.opts.Now()
	for _, a := range orphans {
		if a.State == StateFiring {
			a.State, a.ResolvedAt, a.Reason = StateResolved, t, "its rule was removed"
			msgs = append(msgs, a.message(receiver.StatusResolved, "", "", 0))
		}
	}
	m.notifier.Put(msgs...)
}

// integrations builds every receiver's integrations.
func (m *Manager) integrations(cfg Config) (map[string][]receiver.Integration, error) {
	out := make(map[string][]receiver.Integration, len(cfg.Receivers))
	for _, rc := range cfg.Receivers {
		ints, err := receiver.Build(rc, cfg.Global, receiver.Options{Logger: m.log, Hostname: m.opts.Hostname})
		if err != nil {
			return nil, fmt.Errorf("alerting.receivers %q: %w", rc.Name, err)
		}
		out[rc.Name] = ints
	}
	return out, nil
}

// externalURL is the configured external URL or the host's name.
func (m *Manager) externalURL() string {
	if m.cfg.ExternalURL != "" {
		return m.cfg.ExternalURL
	}
	return "http://" + m.opts.Hostname + ":8086"
}

// Notifier returns the notifier: silences, the dispatcher's view of the
// alerts, delivery statistics.
func (m *Manager) Notifier() *notify.Notifier { return m.notifier }

// Run evaluates every group on its interval, watches the rule files for
// changes, prunes the history and runs the notifier, until ctx is
// cancelled. It returns after every goroutine it started has ended.
func (m *Manager) Run(ctx context.Context) error {
	m.runMu.Lock()
	m.running = true
	m.runMu.Unlock()
	defer func() {
		m.runMu.Lock()
		m.running = false
		m.runMu.Unlock()
	}()
	var wg sync.WaitGroup
	nctx, cancelNotifier := context.WithCancel(context.WithoutCancel(ctx))
	var nerr error
	wg.Go(func() { nerr = m.notifier.Run(nctx) })
	// Remediation stops after the groups (nothing more to submit) and
	// before the notifier, so its escalations reach the outbox.
	rctx, cancelRemediation := context.WithCancel(context.WithoutCancel(ctx))
	var rwg sync.WaitGroup
	rwg.Go(func() { m.remediator.Run(rctx) })
	m.mu.Lock()
	for _, g := range m.groups {
		g.start(ctx, m)
	}
	m.mu.Unlock()

	watch := time.NewTicker(5 * time.Second)
	prune := time.NewTicker(time.Hour)
	defer watch.Stop()
	defer prune.Stop()
	m.pruneHistory()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case reply := <-m.reload:
			reply <- m.reloadAndRestart(ctx)
		case <-watch.C:
			if m.filesChanged() {
				if err := m.reloadAndRestart(ctx); err != nil {
					m.log.Error("rule files changed; some failed to load, their previous rules keep running", "err", err)
				}
			}
		case <-prune.C:
			m.pruneHistory()
		}
	}
	m.mu.Lock()
	for _, g := range m.groups {
		g.stop()
	}
	m.mu.Unlock()
	cancelRemediation()
	rwg.Wait()
	// The groups have put their last alerts: now the notifier may stop
	// (it finishes the deliveries in flight).
	cancelNotifier()
	wg.Wait()
	if nerr != nil && !errors.Is(nerr, context.Canceled) {
		return fmt.Errorf("notifier: %w", nerr)
	}
	return nil
}

// Reload re-reads the rule files (SIGHUP, POST /-/reload). A file that
// fails to load keeps its previous rules running; the error names it.
// Before Run, it loads without starting anything.
func (m *Manager) Reload(ctx context.Context) error {
	m.runMu.Lock()
	if !m.running {
		defer m.runMu.Unlock()
		return m.load() // no group runs: nothing to stop or start
	}
	m.runMu.Unlock()
	reply := make(chan error, 1)
	select {
	case m.reload <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reloadAndRestart reloads and restarts the groups; the rules' state
// carries over by rule key.
func (m *Manager) reloadAndRestart(ctx context.Context) error {
	m.mu.Lock()
	for _, g := range m.groups {
		g.stop()
	}
	m.mu.Unlock()
	err := m.load()
	m.mu.Lock()
	for _, g := range m.groups {
		g.start(ctx, m)
	}
	m.mu.Unlock()
	if err == nil {
		m.log.Info("rules reloaded", "groups", len(m.groups), "rules", len(m.rules))
	}
	return err
}

// pruneHistory drops history older than HistoryRetention.
func (m *Manager) pruneHistory() {
	cutoff := m.opts.Now().Add(-m.cfg.HistoryRetention)
	for {
		n, err := m.st.pruneHistory(cutoff)
		if err != nil {
			m.log.Error("prune alert history", "err", err)
			return
		}
		if n < 10000 {
			return
		}
	}
}

// Close closes alerting.db. Call it after Run returned.
func (m *Manager) Close() error {
	if err := m.db.Close(); err != nil {
		return fmt.Errorf("close alerting.db: %w", err)
	}
	return nil
}
