package syslog

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"outpost/collectors"
)

// acceptLoop accepts TCP connections until the listener is closed. Other
// errors (such as running out of file descriptors) are retried with a
// growing pause.
func (l *Listener) acceptLoop(ctx context.Context) {
	var pause time.Duration
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			l.noteExample("", err)
			if !collectors.Sleep(ctx, pause) {
				return
			}
			continue
		}
		pause = 0
		if !l.admit(c) {
			continue
		}
		l.stats.Connections.Add(1)
		l.wg.Go(func() {
			defer l.forget(c)
			l.serveConn(ctx, c)
		})
	}
}

// admit registers c under events.syslog_max_connections; over it, or at
// shutdown, it closes c (counting the refusal) and returns false.
func (l *Listener) admit(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closing:
	case len(l.conns) >= l.cfg.MaxConnections:
		l.stats.Reject("connections", "too_many_connections", 1)
	default:
		l.conns[c] = struct{}{}
		return true
	}
	c.Close()
	return false
}

// forget closes c and drops it from the open connections.
func (l *Listener) forget(c net.Conn) {
	c.Close()
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
}

// serveConn reads frames from c until it ends or ctx is cancelled. A
// full queue makes it wait, so the sender is slowed down, not dropped.
func (l *Listener) serveConn(ctx context.Context, c net.Conn) {
	peer := peerIP(c.RemoteAddr())
	fr := NewFramer(countingReader{c, &l.stats.Bytes}, l.cfg.MaxLineBytes)
	for ctx.Err() == nil {
		frame, err := fr.Next()
		var pe *ParseError
		switch {
		case err == nil:
			l.line(ctx, frame, peer, true)
		case errors.As(err, &pe):
			l.reject(pe.Reason, err, peer)
		default: // the end of the connection, or its close at shutdown
			return
		}
	}
}

// udpBufSize holds the largest UDP datagram.
const udpBufSize = 64 << 10

// serveUDP reads datagrams until the socket is closed: each is one
// message (RFC 5426). A datagram over events.syslog_max_line_bytes, or
// one that finds the queue full, is dropped and counted: UDP senders
// cannot be slowed down.
func (l *Listener) serveUDP(ctx context.Context) {
	buf := make([]byte, udpBufSize+1)
	for {
		n, from, err := l.udp.ReadFrom(buf)
		if n > 0 {
			l.stats.Bytes.Add(uint64(n))
			l.stats.Connections.Add(1)
			peer := peerIP(from)
			if n > l.cfg.MaxLineBytes {
				l.reject(ReasonTooLong, parseErr(ReasonTooLong, 0, "datagram of %d bytes is over %d", n, l.cfg.MaxLineBytes), peer)
			} else {
				l.line(ctx, buf[:n], peer, false)
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, net.ErrClosed):
			return
		default:
			l.noteExample("", err)
			if !collectors.Sleep(ctx, 10*time.Millisecond) {
				return
			}
		}
	}
}

// line parses one message and queues its event; wait says whether to
// wait for room in the queue (TCP) or drop the line when it is full (UDP).
func (l *Listener) line(ctx context.Context, raw []byte, peer string, wait bool) {
	now := l.opts.Now()
	m, err := Parse(raw, now, l.opts.Location)
	if err != nil {
		var pe *ParseError
		reason := "parse"
		if errors.As(err, &pe) {
			reason = pe.Reason
		}
		l.reject(reason, err, peer)
		return
	}
	ev, err := toEvent(&m, raw, arrival{at: now, peer: peer, seq: l.seq.Add(1)}, l.st.CheckTime)
	if err != nil {
		l.reject("encode", err, peer)
		return
	}
	q := queued{ev: ev, size: int64(len(ev.Body) + len(ev.ID))}
	if wait {
		if l.queued.Acquire(ctx, q.size) != nil {
			return // shutdown
		}
		select {
		case l.queue <- q:
		case <-ctx.Done():
			l.queued.Release(q.size)
		}
		return
	}
	if !l.queued.TryAcquire(q.size) {
		l.stats.Reject("lines", "queue_full", 1)
		return
	}
	select {
	case l.queue <- q:
	default:
		l.queued.Release(q.size)
		l.stats.Reject("lines", "queue_full", 1)
	}
}

// peerIP returns the IP address of a (a *net.TCPAddr or *net.UDPAddr),
// IPv4-mapped addresses unmapped.
func peerIP(a net.Addr) string {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap().String()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap().String()
	case nil:
		return ""
	}
	return a.String()
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(uint64(k))
	return k, err
}
