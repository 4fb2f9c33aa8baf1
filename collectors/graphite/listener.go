package graphite

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
)

// Options carries what a Listener needs besides its Config.
type Options struct {
	// Logger receives the listener's logs; nil discards them.
	Logger *slog.Logger
	// Stats receives the ingest counts; nil makes a private one, see Stats.
	Stats *collectors.Stats
	// Now is the clock that stamps lines sent without a timestamp; nil
	// means time.Now.
	Now func() time.Time
	// Window gives the timestamps the store accepts at now (tsdb.DB's
	// TimeWindow), so Explain can say a sample would be dropped; nil means
	// any time.
	Window func(now time.Time) (mint, maxt int64)
}

// Listener serves Graphite plaintext on TCP and UDP and writes what it
// parses to a collectors.Writer in batches. New binds the sockets; Run
// serves them until its context is cancelled. Explain works with or without
// sockets, so it also serves a disabled listener (Config.Addr "").
type Listener struct {
	cfg    Config
	w      collectors.Writer
	parser *Parser
	cache  *seriesCache // path -> series, shared by the connections
	// inflight is graphite.max_inflight_bytes, shared by the connections
	// and the UDP socket; bufs pools the read buffers of readBufSize it
	// pays for.
	inflight *collectors.Budget
	bufs     sync.Pool
	log      *slog.Logger
	stats    *collectors.Stats
	now      func() time.Time
	window   func(now time.Time) (mint, maxt int64) // nil: no bounds known

	tcp       net.Listener   // nil when disabled
	udp       net.PacketConn // nil when disabled
	closeOnce sync.Once
	running   atomic.Bool
	active    atomic.Int64 // len(conns), readable without mu

	mu        sync.Mutex         // guards conns, perSource and closing
	conns     map[*slot]struct{} // open TCP connections, closed at shutdown
	perSource map[netip.Addr]int // open TCP connections by sender IP address
	closing   bool               // set at shutdown: accepted connections are closed at once

	wg           sync.WaitGroup         // every goroutine Run starts
	example      atomic.Pointer[string] // first rejected input since the last summary
	summaryEvery time.Duration          // period of the summary log line
	evictMinIdle time.Duration          // evictMinIdle, changed by tests only
}

// New compiles cfg's templates and binds cfg.Addr on TCP and UDP. With
// port 0, TCP picks a free port and UDP binds the same one (retried a few
// times if the UDP port is taken). With cfg.Addr "", nothing is bound.
// A Listener that was bound but never Run must be Closed.
func New(cfg Config, w collectors.Writer, opts Options) (*Listener, error) {
	if cfg.Separator == "" {
		cfg.Separator = DefaultSeparator
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := NewParser(cfg)
	if err != nil {
		return nil, err
	}
	l := &Listener{cfg: cfg, w: w, parser: p, cache: newSeriesCache(defaultCacheSize), inflight: collectors.NewBudget(cfg.MaxInflightBytes), log: opts.Logger, stats: opts.Stats, now: opts.Now, window: opts.Window,
		conns: make(map[*slot]struct{}), perSource: make(map[netip.Addr]int), summaryEvery: summaryEvery, evictMinIdle: evictMinIdle}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.stats == nil {
		l.stats = collectors.NewStats("graphite")
	}
	if l.now == nil {
		l.now = time.Now
	}
	if cfg.Addr == "" {
		return l, nil
	}
	if l.tcp, l.udp, err = collectors.ListenTCPUDP("graphite.addr", cfg.Addr); err != nil {
		return nil, err
	}
	l.log = l.log.With("component", "graphite", "addr", l.tcp.Addr().String())
	return l, nil
}

// Addr returns the bound TCP address, or nil when the listener is disabled.
func (l *Listener) Addr() net.Addr {
	if l.tcp == nil {
		return nil
	}
	return l.tcp.Addr()
}

// UDPAddr returns the bound UDP address, or nil when the listener is disabled.
func (l *Listener) UDPAddr() net.Addr {
	if l.udp == nil {
		return nil
	}
	return l.udp.LocalAddr()
}

// Stats returns the counters the listener updates.
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

// Run serves TCP connections and UDP datagrams until ctx is cancelled. It
// then closes the sockets and every connection, writes the points still
// batched, and returns nil once every goroutine it started has ended. A
// disabled listener just waits for ctx. Run may be called once.
func (l *Listener) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("graphite listener: Run called twice")
	}
	if l.tcp == nil {
		<-ctx.Done()
		return nil
	}
	l.wg.Go(func() { l.acceptLoop(ctx) })
	l.wg.Go(func() { l.serveUDP(ctx) })
	l.wg.Go(func() { l.summaryLoop(ctx) })
	<-ctx.Done()
	l.Close()
	l.mu.Lock()
	l.closing = true
	for s := range l.conns {
		s.conn.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
	return nil
}

// acceptLoop accepts TCP connections until the listener is closed. Errors
// other than the close itself (such as running out of file descriptors)
// are retried with a growing pause, as net/http does.
func (l *Listener) acceptLoop(ctx context.Context) {
	var pause time.Duration
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			l.noteError("accept", err)
			if !collectors.Sleep(ctx, pause) {
				return
			}
			continue
		}
		pause = 0
		s, stop := l.admit(ctx, c)
		if stop {
			return
		}
		if s == nil {
			continue
		}
		l.stats.Connections.Add(1)
		l.wg.Go(func() {
			defer l.forget(s)
			l.serveConn(ctx, s)
		})
	}
}

// isEOF reports whether err is a clean end of stream.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }
