package collectd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
)

// Tuning of the listener that is not configuration.
const (
	maxDatagram   = 65535       // largest UDP payload
	pooledBufCap  = 2048        // pooled datagram buffers; collectd sends ≤ 1452 bytes by default
	summaryEvery  = time.Minute // at most one summary log line per period
	readErrPause  = 10 * time.Millisecond
	writeTimeout  = 10 * time.Second // one Write call, retries included
	overloadTries = 5                // Write attempts while the store is overloaded
	overloadPause = 20 * time.Millisecond
)

// Options carries what the listener needs besides its Config.
type Options struct {
	// Logger receives the listener's few log lines; nil discards them.
	Logger *slog.Logger
	// Stats receives the counts; nil makes a private one (see Stats).
	Stats *collectors.Stats
	// Now is the clock for value lists without a time; nil means time.Now.
	Now func() time.Time
}

// Listener receives collectd's binary network protocol on UDP and writes
// the value lists through a collectors.Writer.
//
// One goroutine reads the socket and never waits for the store: it copies
// each datagram into a bounded queue, and drops it (counted as
// "packets:queue_full") when the queue is full, or before copying it
// ("packets:over_budget") when collectd.max_inflight_bytes has no room
// for its buffer. Config.Workers goroutines
// parse, name and batch the value lists and write a batch when it holds
// Config.BatchSize points or has waited Config.FlushInterval.
type Listener struct {
	cfg   Config
	w     collectors.Writer
	log   *slog.Logger
	stats *collectors.Stats
	now   func() time.Time
	level SecurityLevel
	auth  PasswordLookup // nil without an auth file
	types *TypesDB

	conn      *net.UDPConn // nil when the listener is disabled
	closeOnce sync.Once
	running   atomic.Bool

	queue chan *[]byte // datagrams waiting for a worker
	bufs  sync.Pool    // of *[]byte, cap pooledBufCap
	// inflight is collectd.max_inflight_bytes: each queued datagram holds
	// its buffer's capacity of it, from before the buffer is taken until a
	// worker has parsed it.
	inflight *collectors.Budget

	errMu   sync.Mutex // guards lastErr
	lastErr error      // the last unexpected write or read error, for the summary
}

// New checks cfg, loads the types (built-in, then Debian's collectd
// types.db when installed, then cfg.TypesDB) and the auth file, and binds
// the UDP socket, so that Addr is known before Run. With cfg.Addr "" the
// listener is disabled: Run only waits for its context.
func New(cfg Config, w collectors.Writer, opts Options) (*Listener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Listener{cfg: cfg, w: w, log: opts.Logger, stats: opts.Stats, now: opts.Now,
		inflight: collectors.NewBudget(cfg.MaxInflightBytes)}
	if l.log == nil {
		l.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l.log = l.log.With("component", "collectd")
	if l.stats == nil {
		l.stats = collectors.NewStats("collectd")
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.level, _ = ParseSecurityLevel(cfg.SecurityLevel) // Validate checked it
	types, sysErr, err := LoadTypesDB(SystemTypesDB, cfg.TypesDB)
	if err != nil {
		return nil, fmt.Errorf("collectd.typesdb: %w", err)
	}
	if sysErr != nil {
		l.log.Warn("skipping collectd's types.db, using the built-in types", "err", sysErr)
	}
	l.types = types
	if cfg.AuthFile != "" {
		a, err := OpenAuthFile(cfg.AuthFile)
		if err != nil {
			return nil, fmt.Errorf("collectd.auth_file: %w", err)
		}
		l.auth = a
	}
	l.bufs.New = func() any { b := make([]byte, 0, pooledBufCap); return &b }
	if cfg.Addr == "" {
		return l, nil
	}
	if err := l.listen(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Listener) listen() error {
	addr, err := net.ResolveUDPAddr("udp", l.cfg.Addr)
	if err != nil {
		return fmt.Errorf("collectd.addr: %w", err)
	}
	conn, err := net.ListenUDP("udp", addr)
	if err != nil {
		return fmt.Errorf("listen collectd on %q: %w", l.cfg.Addr, err)
	}
	got := l.cfg.ReadBuffer
	if l.cfg.ReadBuffer > 0 {
		got, err = setReadBuffer(conn, l.cfg.ReadBuffer)
		if err != nil {
			l.log.Warn("cannot set the socket receive buffer", "err", err, "want", l.cfg.ReadBuffer)
		}
	}
	l.conn = conn
	l.queue = make(chan *[]byte, l.cfg.QueueSize)
	l.log.Debug("socket bound", "addr", conn.LocalAddr().String(), "security_level", l.level.String(),
		"types", l.types.Len(), "read_buffer", got)
	return nil
}

// Addr returns the bound address, or nil when the listener is disabled.
func (l *Listener) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Stats returns the counters the listener updates.
func (l *Listener) Stats() *collectors.Stats { return l.stats }

// Close releases the socket. Run closes it itself when its context ends;
// Close is for a Listener whose Run is never called, and makes a running
// one return as a cancelled context would.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.conn != nil {
			err = l.conn.Close()
		}
	})
	return err
}

// Run serves until ctx is cancelled (or Close is called): it closes the
// socket, lets the workers parse what is queued and write their last
// batches, waits for every goroutine it started, and returns nil. It may be
// called once.
func (l *Listener) Run(ctx context.Context) error {
	if l.conn == nil {
		<-ctx.Done()
		return nil
	}
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("collectd listener: Run called twice")
	}
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()

	var wg sync.WaitGroup
	for range l.cfg.Workers {
		wg.Go(func() { newWorker(l).run(ctx) })
	}
	sumCtx, cancelSum := context.WithCancel(ctx)
	wg.Go(func() { l.summarize(sumCtx) })

	l.read()
	_ = l.Close()
	close(l.queue)
	cancelSum()
	wg.Wait()
	return nil
}

// read copies datagrams into the queue until the socket is closed.
func (l *Listener) read() {
	buf := make([]byte, maxDatagram)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			l.stats.Reject("packets", "read_error", 1)
			l.noteErr(fmt.Errorf("read collectd socket: %w", err))
			time.Sleep(readErrPause)
			continue
		}
		l.stats.Connections.Add(1)
		l.stats.Bytes.Add(uint64(n))
		if !l.inflight.TryAcquire(bufCost(n)) {
			l.stats.Reject("packets", "over_budget", 1)
			continue
		}
		d := l.getBuf(n)
		copy(*d, buf[:n])
		select {
		case l.queue <- d:
		default:
			l.stats.Reject("packets", "queue_full", 1)
			l.done(d)
		}
	}
}

// bufCost is what a datagram of n bytes takes of collectd.max_inflight_bytes:
// the capacity of the buffer getBuf gives it.
func bufCost(n int) int64 { return int64(max(n, pooledBufCap)) }

// done gives back a datagram's buffer, and its share of the budget, once it
// has been parsed (or dropped).
func (l *Listener) done(d *[]byte) {
	l.inflight.Release(bufCost(len(*d)))
	l.putBuf(d)
}

// Inflight returns the state of collectd.max_inflight_bytes: its size, the
// bytes the queued datagrams hold now, the most they held at once.
func (l *Listener) Inflight() collectors.BudgetUsage { return l.inflight.Usage() }

func (l *Listener) getBuf(n int) *[]byte {
	if n > pooledBufCap {
		b := make([]byte, n)
		return &b
	}
	d := l.bufs.Get().(*[]byte)
	*d = (*d)[:n]
	return d
}

func (l *Listener) putBuf(d *[]byte) {
	if cap(*d) == pooledBufCap {
		l.bufs.Put(d)
	}
}

func (l *Listener) noteErr(err error) {
	l.errMu.Lock()
	l.lastErr = err
	l.errMu.Unlock()
}
