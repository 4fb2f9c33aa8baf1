package syslog

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
	store "outpost/tsdb/events"
)

// Appender is what the listener stores into: *events.Store.
type Appender interface {
	Append(ctx context.Context, evs []store.Event) (store.AppendResult, error)
	CheckTime(t time.Time) error
}

var _ Appender = (*store.Store)(nil)

// Options carries what a Listener needs besides its Config.
type Options struct {
	// Logger receives the listener's logs; nil discards them.
	Logger *slog.Logger
	// Stats receives the counts; nil makes a private one (protocol
	// "syslog"), see Stats.
	Stats *collectors.Stats
	// Now is the arrival clock; nil means time.Now.
	Now func() time.Time
	// Location is the zone of RFC 3164 timestamps, which carry none; nil
	// means time.Local.
	Location *time.Location
	// BatchSize and BatchDelay bound a batch: it is appended when it holds
	// BatchSize events or BatchDelay after its first; 0 means 2048 and
	// 200 ms.
	BatchSize  int
	BatchDelay time.Duration
}

// Listener receives syslog over UDP and TCP on one address and appends
// each message, as an event, to the event store in batches. New binds
// the sockets; Run serves them until its context is cancelled.
type Listener struct {
	cfg   Config
	st    Appender
	opts  Options
	log   *slog.Logger
	stats *collectors.Stats

	tcp       net.Listener   // nil when disabled
	udp       net.PacketConn // nil when disabled
	closeOnce sync.Once
	running   atomic.Bool
	seq       atomic.Uint64 // lines read, for event IDs

	// queue carries parsed events to the batcher; queued bounds the
	// bytes of their bodies in it and in the batch being appended.
	queue  chan queued
	queued *collectors.Budget

	mu      sync.Mutex            // guards conns and closing
	conns   map[net.Conn]struct{} // open TCP connections, closed at shutdown
	closing bool                  // set at shutdown: accepted connections are closed at once

	wg      sync.WaitGroup         // every goroutine Run starts but the batcher
	bw      sync.WaitGroup         // the batcher, waited for after the queue is closed
	example atomic.Pointer[string] // first rejected input since the last summary
}

// queued is one event on its way to the store, with the bytes it holds
// of Listener.queued.
type queued struct {
	ev   store.Event
	size int64
}

// queueLen is the capacity of the queue to the batcher.
const queueLen = 4096

// New checks cfg and binds cfg.Addr on TCP and UDP (port 0: the same free
// port on both). With cfg.Addr "" nothing is bound and Run just waits. A
// Listener that was bound but never Run must be Closed.
func New(cfg Config, st Appender, opts Options) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2048
	}
	if opts.BatchDelay <= 0 {
		opts.BatchDelay = 200 * time.Millisecond
	}
	l := &Listener{cfg: cfg, st: st, opts: opts, log: opts.Logger, stats: opts.Stats,
		queue: make(chan queued, queueLen), conns: map[net.Conn]struct{}{},
		// A body is at most 6 bytes per byte of the line (\u00XX escapes)
		// and some fields: the budget holds at least four of the longest.
		queued: collectors.NewBudget(max(32<<20, 4*(6*int64(cfg.MaxLineBytes)+4096)))}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.stats == nil {
		l.stats = collectors.NewStats("syslog")
	}
	if cfg.Addr == "" {
		return l, nil
	}
	var err error
	if l.tcp, l.udp, err = collectors.ListenTCPUDP("events.syslog_addr", cfg.Addr); err != nil {
		return nil, err
	}
	l.log = l.log.With("component", "syslog", "addr", l.tcp.Addr().String())
	return l, nil
}

// Addr returns the bound TCP address, or nil when the listener is off.
func (l *Listener) Addr() net.Addr {
	if l.tcp == nil {
		return nil
	}
	return l.tcp.Addr()
}

// UDPAddr returns the bound UDP address, or nil when the listener is off.
func (l *Listener) UDPAddr() net.Addr {
	if l.udp == nil {
		return nil
	}
	return l.udp.LocalAddr()
}

// Stats returns the counters the listener updates: Samples counts events
// stored, Connections TCP connections and datagrams.
func (l *Listener) Stats() *collectors.Stats { return l.stats }

// Close releases the sockets of a Listener whose Run was never called. It
// is safe to call more than once, and after Run has returned.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.tcp != nil {
			err = errors.Join(l.tcp.Close(), l.udp.Close())
		}
	})
	return err
}

// Run serves until ctx is cancelled. It then closes the sockets and every
// connection, appends the events still queued, and returns nil once every
// goroutine it started has ended. Run may be called once.
func (l *Listener) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("syslog listener: Run called twice")
	}
	if l.tcp == nil {
		<-ctx.Done()
		return nil
	}
	l.bw.Go(func() { l.batchLoop(ctx) }) // ends once the queue is closed and drained, below
	l.wg.Go(func() { l.acceptLoop(ctx) })
	l.wg.Go(func() { l.serveUDP(ctx) })
	l.wg.Go(func() { l.summaryLoop(ctx) })
	<-ctx.Done()
	l.Close()
	l.mu.Lock()
	l.closing = true
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	close(l.queue)
	l.bw.Wait()
	return nil
}

// reject counts a refused line and keeps it as the summary's example.
func (l *Listener) reject(reason string, err error, peer string) {
	l.stats.Reject("lines", reason, 1)
	l.noteExample(peer, err)
}

func (l *Listener) noteExample(peer string, err error) {
	if l.example.Load() == nil {
		s := err.Error()
		if peer != "" {
			s = peer + ": " + s
		}
		l.example.CompareAndSwap(nil, &s)
	}
}
