package notify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/alerting/receiver"
)

// Defaults of Options.
const (
	// DefaultRetention is how long expired silences and idle notification
	// log entries are kept: Alertmanager's --data.retention.
	DefaultRetention = 120 * time.Hour
	// DefaultConcurrency bounds the deliveries in flight.
	DefaultConcurrency = 8
	// DefaultShutdownTimeout is how long Run lets deliveries in flight
	// finish after its context ended.
	DefaultShutdownTimeout = 5 * time.Second
)

// tickInterval is how often Run looks for groups due to flush, and
// gcInterval how often it garbage-collects silences and the log.
const (
	tickInterval = time.Second
	gcInterval   = time.Hour
)

// Options carries what a Notifier needs besides its Config.
type Options struct {
	// Logger receives the notifier's logs, scoped by the caller (say with
	// component=notify); nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Integrations maps every configured receiver name to its
	// integrations (receiver.Build's result); a receiver with none, which
	// Alertmanager allows, must still be a key. Within a receiver the
	// integrations' names must differ. The Notifier keeps the map (until
	// Reload replaces it); do not modify it afterwards.
	Integrations map[string][]receiver.Integration
	// ExternalURL is outpost's address, put in every notification.
	ExternalURL string
	// DeliveryTimeLimit is how long after its creation a notification is
	// retried before it is dropped; 0 means DefaultDeliveryTimeLimit.
	DeliveryTimeLimit time.Duration
	// Backoff returns the pause after the attempt-th failed attempt; nil
	// means DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// SilenceRetention is how long an expired silence is kept; 0 means
	// DefaultRetention.
	SilenceRetention time.Duration
	// LogRetention is how long a notification log entry of a group that no
	// longer exists is kept after its last notification; 0 means
	// DefaultRetention.
	LogRetention time.Duration
	// Concurrency bounds the deliveries in flight (at most one per
	// integration); 0 means DefaultConcurrency.
	Concurrency int
	// ShutdownTimeout is how long Run, once its context ended, lets the
	// deliveries in flight finish before it cancels them; 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Notifier is outpost's embedded Alertmanager: it groups the alerts it is
// Put, decides with its notification log what to send, and delivers through
// a durable outbox. See the package documentation. All methods are safe for
// concurrent use.
type Notifier struct {
	db           *bolt.DB
	dbID         string
	log          *slog.Logger
	now          func() time.Time
	externalURL  string
	logRetention time.Duration
	silences     *Silences
	outbox       *outbox
	running      atomic.Bool

	// flushMu serializes flushes, Reload and the log's GC, and guards
	// nflog. Lock order: flushMu, then mu, then the Silences' and the
	// outbox's own locks.
	flushMu sync.Mutex
	nflog   map[string]*logEntry // by logKey: the contents of notify_nflog

	// mu guards the routing configuration and the dispatcher's state.
	mu           sync.Mutex
	tree         *Tree
	inhibit      []inhibitRule
	integrations map[string][]receiver.Integration
	gen          uint64            // generation of tree, bumped by Reload
	alerts       map[string]*held  // by fingerprint
	groups       map[string]*group // by group key
}

// Open creates the notifier's buckets in db if they are missing, loads
// silences, the notification log and the outbox, and checks cfg against
// opts.Integrations. db stays the caller's: Open does not close it.
func Open(db *bolt.DB, cfg Config, opts Options) (*Notifier, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	opts.DeliveryTimeLimit = positiveOr(opts.DeliveryTimeLimit, DefaultDeliveryTimeLimit)
	opts.SilenceRetention = positiveOr(opts.SilenceRetention, DefaultRetention)
	opts.LogRetention = positiveOr(opts.LogRetention, DefaultRetention)
	opts.ShutdownTimeout = positiveOr(opts.ShutdownTimeout, DefaultShutdownTimeout)
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	log := opts.Logger
	tree, rules, err := compileConfig(cfg, opts.Integrations)
	if err != nil {
		return nil, err
	}
	dbID, err := initBuckets(db)
	if err != nil {
		return nil, err
	}
	n := &Notifier{
		db: db, dbID: dbID, log: log, now: opts.Now, externalURL: opts.ExternalURL, logRetention: opts.LogRetention,
		tree: tree, inhibit: rules, integrations: opts.Integrations, gen: 1,
		alerts: map[string]*held{}, groups: map[string]*group{},
	}
	if err := db.View(func(tx *bolt.Tx) error {
		var err error
		n.nflog, err = loadLog(tx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("load notification log: %w", err)
	}
	if n.silences, err = openSilences(db, opts.Now, opts.SilenceRetention, log); err != nil {
		return nil, err
	}
	n.outbox = newOutbox(db, &opts, log)
	if err := n.outbox.load(); err != nil {
		return nil, err
	}
	return n, nil
}

// compileConfig checks cfg against the receivers and compiles it.
func compileConfig(cfg Config, integrations map[string][]receiver.Integration) (*Tree, []inhibitRule, error) {
	names := make([]string, 0, len(integrations))
	for name, ins := range integrations {
		names = append(names, name)
		seen := map[string]bool{}
		for _, in := range ins {
			if seen[in.Name()] {
				return nil, nil, fmt.Errorf("receiver %q: two integrations named %q", name, in.Name())
			}
			seen[in.Name()] = true
		}
	}
	if err := cfg.Validate(names); err != nil {
		return nil, nil, err
	}
	tree, err := NewTree(cfg.Route)
	if err != nil {
		return nil, nil, err
	}
	rules, err := compileInhibitRules(cfg.InhibitRules)
	if err != nil {
		return nil, nil, err
	}
	return tree, rules, nil
}

// Run flushes groups when their timers come due and delivers the outbox
// until ctx is cancelled, then returns nil once every goroutine it started
// has ended. Deliveries in flight get Options.ShutdownTimeout to finish;
// those still running then are cancelled, and their entries stay in the
// outbox to be sent again after the next start.
func (n *Notifier) Run(ctx context.Context) error {
	if !n.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	var wg sync.WaitGroup
	wg.Go(func() { n.outbox.run(ctx) })
	wg.Go(func() { n.timers(ctx) })
	wg.Wait()
	return nil
}

// timers flushes due groups every tick and collects garbage every
// gcInterval.
func (n *Notifier) timers(ctx context.Context) {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	n.gc()
	lastGC := n.now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.flushDue(false); err != nil {
			n.log.Error("flush notification groups", attrErr, err)
		}
		if now := n.now(); now.Sub(lastGC) >= gcInterval {
			n.gc()
			lastGC = now
		}
	}
}

func (n *Notifier) gc() {
	if k, err := n.silences.gc(); err != nil {
		n.log.Error("garbage-collect silences", attrErr, err)
	} else if k > 0 {
		n.log.Info("deleted expired silences", attrCount, k)
	}
	if k, err := n.gcLog(); err != nil {
		n.log.Error("garbage-collect notification log", attrErr, err)
	} else if k > 0 {
		n.log.Info("deleted idle notification log entries", attrCount, k)
	}
}

// Reload replaces the route tree, the inhibit rules and the receivers'
// integrations. Every held alert is routed again: groups whose key is
// unchanged keep their timers, new groups wait their group_wait. Outbox
// entries of an integration that no longer exists are kept until the
// delivery time limit (and logged). On error nothing changes.
func (n *Notifier) Reload(cfg Config, integrations map[string][]receiver.Integration) error {
	tree, rules, err := compileConfig(cfg, integrations)
	if err != nil {
		return err
	}
	n.flushMu.Lock()
	defer n.flushMu.Unlock()
	now := n.now()
	n.mu.Lock()
	n.tree, n.inhibit, n.integrations = tree, rules, integrations
	n.gen++
	old := n.groups
	n.groups = make(map[string]*group, len(old))
	for _, h := range n.alerts {
		clear(h.groups)
		n.route(h, now, old)
	}
	n.mu.Unlock()
	n.outbox.setIntegrations(integrations)
	return nil
}

// Silences returns the silence store.
func (n *Notifier) Silences() *Silences { return n.silences }

func positiveOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
