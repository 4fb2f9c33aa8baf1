package influx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// UDPProtocol is the protocol label of the UDP listener's statistics. It is
// apart from the HTTP API's "influx" so that /metrics and the status page
// tell a lossy UDP sender from an acknowledged HTTP one; sum both with
// protocol=~"influx.*".
const UDPProtocol = "influx_udp"

// Batching and pacing of the UDP listener.
const (
	// DefaultUDPBatchPoints is how many points go to the Writer in one
	// call, as InfluxDB 1.x's [[udp]] batch-size.
	DefaultUDPBatchPoints = 5000
	// DefaultUDPBatchTimeout bounds how long a received point waits to be
	// written, as InfluxDB 1.x's [[udp]] batch-timeout.
	DefaultUDPBatchTimeout = time.Second

	udpPayloadSize   = 64 << 10 // the largest UDP payload, so no datagram is cut
	udpPending       = 4        // batches that may wait for the writer
	udpWriteRetries  = 5        // attempts after ErrOverloaded/ErrUnavailable before a batch is dropped
	udpFirstPause    = 50 * time.Millisecond
	udpShutdownFlush = 10 * time.Second // bound on the last writes after ctx is cancelled
	udpLogEvery      = time.Minute      // at most one log line about rejections per period
)

// UDPOptions carries what a UDPListener needs besides its Config.
type UDPOptions struct {
	// Logger receives at most one line a minute about rejected input or
	// store failures; nil discards them.
	Logger *slog.Logger
	// Stats receives the counts; nil makes them, with protocol UDPProtocol.
	Stats *collectors.Stats
	// Now is the receive time of lines without a timestamp; nil means
	// time.Now.
	Now func() time.Time
	// BatchPoints is how many points one Writer call takes; 0 means
	// DefaultUDPBatchPoints.
	BatchPoints int
	// BatchTimeout is how long a point may wait in a batch; 0 means
	// DefaultUDPBatchTimeout.
	BatchTimeout time.Duration
	// Strings decides which string fields become _info series; nil means
	// NewStringPolicy(cfg). Pass the HTTP handler's to share its tracker.
	Strings *StringPolicy
}

// UDPListener receives line protocol over UDP (influx.udp_addr), as
// InfluxDB 1.x's UDP service does: each datagram holds one or more lines,
// parsed and mapped exactly as a POST /write body (see the package comment)
// with db = influx.udp_db and the precision influx.udp_precision; a line
// without a timestamp gets the datagram's receive time.
//
// Unlike InfluxDB, which drops a whole datagram when one line is bad, the
// good lines of a datagram are kept and only the bad ones are counted
// (lines:parse, lines:too_long). UDP has no answer, so nothing else tells
// the sender: the statistics (protocol UDPProtocol) are the only trace.
// Connections counts datagrams, Bytes their payload, Samples the samples the
// store accepted; samples the store refused are counted by reason as the
// HTTP handler counts them, plus overloaded (after retries), shutdown and
// store_error; datagrams:read_error counts failed socket reads. Nothing is
// logged per line: at most one line a minute says what was rejected, with
// the first error since the last such line.
//
// One goroutine reads and parses datagrams into a batch; a full batch (or
// one BatchTimeout old) goes to a second goroutine that writes it, so a
// store write never stops the socket from being read. When every batch
// waits for the store, the reader waits too and the kernel's receive
// buffer (influx.udp_read_buffer) absorbs the burst; what overflows it is
// dropped by the kernel, uncounted here, as for any UDP service.
type UDPListener struct {
	w     collectors.Writer
	conn  *net.UDPConn // nil when disabled
	po    ParseOptions // DB, Precision and MaxLineBytes of every datagram
	opts  UDPOptions
	log   *slog.Logger
	stats *collectors.Stats

	running   atomic.Bool
	closeOnce sync.Once
	wg        sync.WaitGroup // the reader and the writer

	lastLog    atomic.Int64  // unix ns of the last rejection log line
	suppressed atomic.Uint64 // rejections not logged since
}

// NewUDP validates cfg and binds cfg.UDPAddr; with "" nothing is bound and
// Run just waits. A listener that was bound but never Run must be Closed.
func NewUDP(cfg Config, w collectors.Writer, opts UDPOptions) (*UDPListener, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	prec, _ := parsePrecisionV1(cfg.UDPPrecision) // Validate checked it
	if opts.Stats == nil {
		opts.Stats = collectors.NewStats(UDPProtocol)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BatchPoints <= 0 {
		opts.BatchPoints = DefaultUDPBatchPoints
	}
	if opts.BatchTimeout <= 0 {
		opts.BatchTimeout = DefaultUDPBatchTimeout
	}
	if opts.Strings == nil {
		opts.Strings = NewStringPolicy(cfg)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &UDPListener{w: w, opts: opts, stats: opts.Stats,
		po: ParseOptions{DB: cfg.UDPDB, Precision: prec, MaxLineBytes: cfg.MaxLineBytes, Strings: opts.Strings}}
	if cfg.UDPAddr == "" {
		l.log = log
		return l, nil
	}
	pc, err := net.ListenPacket("udp", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen influx udp %q: %w", cfg.UDPAddr, err)
	}
	l.conn = pc.(*net.UDPConn)
	if cfg.UDPReadBuffer > 0 {
		if err := l.conn.SetReadBuffer(cfg.UDPReadBuffer); err != nil {
			l.conn.Close()
			return nil, fmt.Errorf("set influx udp receive buffer on %q: %w", cfg.UDPAddr, err)
		}
	}
	l.log = log.With("component", "influx_udp", "addr", l.conn.LocalAddr().String())
	return l, nil
}

// Addr returns the bound address, or nil when the listener is disabled.
func (l *UDPListener) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Stats returns the counters the listener updates.
func (l *UDPListener) Stats() *collectors.Stats { return l.stats }

// Close releases the socket of a listener whose Run was never called. It is
// safe to call more than once, and after Run has returned.
func (l *UDPListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.conn != nil {
			err = l.conn.Close()
		}
	})
	return err
}

// Run serves datagrams until ctx is cancelled. It then closes the socket,
// writes the points already received (bounded to 10 s), and returns nil
// once its goroutines have ended. A disabled listener just waits for ctx.
// Run may be called once.
func (l *UDPListener) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return errors.New("influx udp listener: Run called twice")
	}
	if l.conn == nil {
		<-ctx.Done()
		return nil
	}
	full := make(chan *udpBatch, udpPending)
	free := make(chan *udpBatch, udpPending+1)
	for range udpPending + 1 { // one in the reader's hands, the others queued or writing
		free <- new(udpBatch)
	}
	l.wg.Go(func() { l.writeLoop(ctx, full, free) })
	l.wg.Go(func() { l.readLoop(ctx, full, free) })
	<-ctx.Done()
	l.Close()
	l.wg.Wait()
	return nil
}

// readLoop reads datagrams until the socket is closed, parses each into the
// current batch, and hands batches to the writer when full or due. It
// closes full when it returns, after handing over its last batch.
func (l *UDPListener) readLoop(ctx context.Context, full chan<- *udpBatch, free <-chan *udpBatch) {
	defer close(full)
	buf := make([]byte, udpPayloadSize)
	p := new(Parser)
	b := <-free
	handOff := func() bool { // false: ctx ended while waiting for a free batch
		if len(b.pts) == 0 {
			return true
		}
		full <- b // never blocks: the other batches are in free, full or the writer
		select {
		case b = <-free:
			return true
		case <-ctx.Done():
			b = nil
			return false
		}
	}
	add := func(pts []tsdb.Point) bool { // false: ctx ended
		b.add(pts)
		return !b.full(l.opts.BatchPoints) || handOff()
	}
	for {
		var deadline time.Time
		if len(b.pts) > 0 {
			deadline = b.first.Add(l.opts.BatchTimeout)
		}
		l.conn.SetReadDeadline(deadline)
		n, err := l.conn.Read(buf)
		if n > 0 {
			if !l.datagram(p, buf[:n], add) {
				return
			}
			if len(b.pts) > 0 && time.Since(b.first) >= l.opts.BatchTimeout {
				if !handOff() {
					return
				}
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if !handOff() {
				return
			}
		case errors.Is(err, net.ErrClosed):
			handOff()
			return
		default:
			l.stats.Reject("datagrams", "read_error", 1)
			l.noteReject(fmt.Errorf("read: %w", err))
			if !collectors.Sleep(ctx, udpFirstPause) {
				handOff()
				return
			}
		}
	}
}

// datagram parses one datagram, hands its points to add batch by batch
// (a datagram holds at most 64 KiB of lines, but fields × tags can map
// them to much more, so the parser cuts batches at maxBatchBytes), and
// counts it. It reports false when add did (the listener is stopping).
func (l *UDPListener) datagram(p *Parser, data []byte, add func([]tsdb.Point) bool) bool {
	l.stats.Connections.Add(1)
	l.stats.Bytes.Add(uint64(len(data)))
	po := l.po
	po.Now = l.opts.Now()
	p.Reset(data, po)
	for {
		pts := p.Next(math.MaxInt)
		if len(pts) == 0 {
			break
		}
		if !add(pts) {
			return false
		}
	}
	parseBad, longBad := p.Rejected()
	if parseBad > 0 {
		l.stats.Reject("lines", "parse", uint64(parseBad))
	}
	if longBad > 0 {
		l.stats.Reject("lines", "too_long", uint64(longBad))
	}
	p.StringsDropped(func(reason string, n int) { l.stats.Reject("samples", reason, uint64(n)) })
	if err := p.Err(); err != nil {
		l.noteReject(err)
	}
	return true
}
