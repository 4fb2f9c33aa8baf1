package graphite

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// evictMinIdle is how far behind MinRate a connection must be before a new
// connection may evict it. It spares connections just accepted, which have
// not had time to send, so that a flood of new connections cannot evict
// one another in a loop.
const evictMinIdle = time.Second

// slot is one open TCP connection, as the listener tracks it for the
// connection caps. Its goroutine reports what it receives with delivered;
// the accept loop reads idle when it looks for a connection to evict.
type slot struct {
	conn net.Conn
	src  netip.Addr // the sender's IP address, for graphite.max_connections_per_source
	// ctx ends when the connection is dropped (evicted, or ended) or Run's
	// context is cancelled, so that a wait for the budget ends with it.
	ctx    context.Context
	cancel context.CancelFunc
	// perByte is the idle time one delivered byte makes up for: 1/MinRate
	// seconds, or 0 when MinRate is 0 (then any byte ends the idle time).
	perByte time.Duration
	// paid is the time, in Unix nanoseconds, up to which the connection's
	// bytes have paid for its slot: its accept time, moved on by perByte for
	// every byte received and never past the time of that read. Written by
	// the connection's goroutine only.
	paid atomic.Int64
}

// newSlot returns the slot of c, accepted at now; its context is derived
// from ctx, Run's.
func (l *Listener) newSlot(ctx context.Context, c net.Conn, now time.Time) *slot {
	s := &slot{conn: c, src: remoteIP(c)}
	s.ctx, s.cancel = context.WithCancel(ctx)
	if l.cfg.MinRate > 0 {
		s.perByte = time.Second / time.Duration(l.cfg.MinRate)
	}
	s.paid.Store(now.UnixNano())
	return s
}

// remoteIP returns the IP address of c's peer, IPv4-mapped addresses
// unmapped, or the zero Addr for a peer that is not TCP.
func remoteIP(c net.Conn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// delivered records n bytes received at now.
func (s *slot) delivered(n int, now time.Time) {
	nowNs := now.UnixNano()
	paid := nowNs
	if s.perByte > 0 {
		paid = min(s.paid.Load()+int64(n)*int64(s.perByte), nowNs)
	}
	s.paid.Store(paid)
}

// excuse records that the connection waited d, up to now, for the budget:
// time the listener did not read, which does not count as idle.
func (s *slot) excuse(d time.Duration, now time.Time) {
	s.paid.Store(min(s.paid.Load()+int64(d), now.UnixNano()))
}

// idle returns how far behind MinRate the connection is at now: the time
// since it was accepted, less what its bytes made up for. A connection that
// never sends is idle since its accept; one that trickles a byte a second
// against a MinRate of 10 falls 0.9 s further behind every second.
func (s *slot) idle(now time.Time) time.Duration {
	return time.Duration(now.UnixNano() - s.paid.Load())
}

// admit registers a connection just accepted, under the caps: it returns
// nil, having closed c and counted why, when c's source is at
// graphite.max_connections_per_source, when every slot is taken by
// connections that keep up, or when the listener is shutting down (then
// stop is true). When every slot is taken it evicts the connection with the
// longest idle time to make room.
func (l *Listener) admit(ctx context.Context, c net.Conn) (s *slot, stop bool) {
	now := time.Now()
	s = l.newSlot(ctx, c, now)
	var victim *slot
	l.mu.Lock()
	switch {
	case l.closing:
		l.mu.Unlock()
		c.Close()
		s.cancel()
		return nil, true
	case l.cfg.MaxConnectionsPerSource > 0 && l.perSource[s.src] >= l.cfg.MaxConnectionsPerSource:
		l.mu.Unlock()
		l.stats.Reject("connections", "too_many_from_source", 1) // counted before the sender can see the close
		c.Close()
		s.cancel()
		return nil, false
	case len(l.conns) >= l.cfg.MaxConnections:
		if victim = l.longestIdleLocked(now); victim == nil {
			l.mu.Unlock()
			l.stats.Reject("connections", "too_many_connections", 1)
			c.Close()
			s.cancel()
			return nil, false
		}
		l.dropLocked(victim)
	}
	l.conns[s] = struct{}{}
	l.perSource[s.src]++
	l.active.Add(1)
	l.mu.Unlock()
	if victim != nil {
		victim.conn.Close() // its goroutine ends, writing what it had parsed
		l.stats.Reject("connections", "evicted", 1)
	}
	return s, false
}

// longestIdleLocked returns the open connection furthest behind MinRate,
// or nil when none is at least evictMinIdle behind. l.mu must be held. It
// looks at every connection: with the default cap of 1000 that is a few
// microseconds, paid only when every slot is taken.
func (l *Listener) longestIdleLocked(now time.Time) *slot {
	var victim *slot
	most := l.evictMinIdle - 1
	for s := range l.conns {
		if d := s.idle(now); d > most {
			victim, most = s, d
		}
	}
	return victim
}

// dropLocked removes s from the open connections. l.mu must be held.
func (l *Listener) dropLocked(s *slot) {
	if _, ok := l.conns[s]; !ok {
		return
	}
	delete(l.conns, s)
	s.cancel() // ends a wait for the budget
	if l.perSource[s.src]--; l.perSource[s.src] <= 0 {
		delete(l.perSource, s.src)
	}
	l.active.Add(-1)
}

// forget closes s's connection and drops it from the open connections,
// unless an eviction already did.
func (l *Listener) forget(s *slot) {
	s.conn.Close()
	l.mu.Lock()
	l.dropLocked(s)
	l.mu.Unlock()
}

// midLine measures how fast a connection delivers while it is in the middle
// of a line, for graphite.min_rate. Real senders write whole lines, so a
// line is incomplete only for the time its last bytes take to arrive; a
// sender that trickles keeps one incomplete all along. Silence between whole
// lines is not measured: graphite.idle_timeout deals with it.
type midLine struct {
	since time.Time // start of the current window; zero while no line is incomplete
	bytes int       // bytes received since then
}

// note records a read of n bytes at now, after which the connection is
// (in) or is not in the middle of a line.
func (m *midLine) note(n int, in bool, now time.Time) {
	switch {
	case !in:
		m.since = time.Time{}
	case m.since.IsZero():
		m.since, m.bytes = now, 0
	default:
		m.bytes += n
	}
}

// restart starts the current window again at now, if a line is
// incomplete: the time before was spent waiting for the budget, not
// receiving.
func (m *midLine) restart(now time.Time) {
	if !m.since.IsZero() {
		m.since, m.bytes = now, 0
	}
}

// due returns when the current window ends, if a line is incomplete.
func (m *midLine) due(window time.Duration) (time.Time, bool) {
	return m.since.Add(window), !m.since.IsZero()
}

// slow reports whether a window ended by now with fewer than rate × window
// bytes received. A window that ended with enough starts the next one.
func (m *midLine) slow(now time.Time, rate int, window time.Duration) bool {
	if rate <= 0 || m.since.IsZero() || now.Sub(m.since) < window {
		return false
	}
	if float64(m.bytes) < float64(rate)*window.Seconds() {
		return true
	}
	m.since, m.bytes = now, 0
	return false
}
