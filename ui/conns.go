package ui

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// overloadAnswer is what a connection past http.max_connections gets when
// no idle connection can make room: a complete HTTP answer, so that the
// client (Telegraf, curl, a browser) sees "later" instead of a reset.
const overloadAnswer = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 52\r\n\r\n" +
	"too many connections (http.max_connections reached)\n"

// connLimiter caps the server's open connections. At the cap a new
// connection first takes the place of the longest-idle keep-alive
// connection (closing an idle connection loses nothing: the client opens a
// new one for its next request); when every connection is busy, it is
// answered 503 with Retry-After and closed. A connection that sends its
// headers slowly holds a slot for at most http.read_header_timeout, and
// one that sends its body slowly for at most http.read_timeout.
type connLimiter struct {
	net.Listener
	max      int
	log      *slog.Logger
	refused  atomic.Uint64
	lastWarn atomic.Int64 // unix seconds of the last warning logged

	mu    sync.Mutex
	conns map[net.Conn]*connInfo // by the conn Accept returned
}

// connInfo is what the limiter knows of one connection.
type connInfo struct {
	idle      bool
	idleSince time.Time
}

func newConnLimiter(ln net.Listener, max int, log *slog.Logger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, log: log, conns: make(map[net.Conn]*connInfo)}
}

// Accept returns the next connection within the cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if len(l.conns) >= l.max {
			if victim := l.longestIdle(); victim != nil {
				delete(l.conns, victim)
				l.mu.Unlock()
				_ = victim.Close() // http.Server forgets a closed idle connection
				l.mu.Lock()
			}
		}
		if len(l.conns) >= l.max {
			l.mu.Unlock()
			l.refuse(c)
			continue
		}
		l.conns[c] = &connInfo{}
		l.mu.Unlock()
		return c, nil
	}
}

// longestIdle returns the connection idle for longest, or nil. l.mu is held.
func (l *connLimiter) longestIdle() net.Conn {
	var victim net.Conn
	var since time.Time
	for c, ci := range l.conns {
		if ci.idle && (victim == nil || ci.idleSince.Before(since)) {
			victim, since = c, ci.idleSince
		}
	}
	return victim
}

// refuse answers c 503 and closes it, without waiting on a slow client.
func (l *connLimiter) refuse(c net.Conn) {
	n := l.refused.Add(1)
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte(overloadAnswer)) // best effort: the client may be gone
	_ = c.Close()
	now := time.Now().Unix()
	if last := l.lastWarn.Load(); now-last >= 10 && l.lastWarn.CompareAndSwap(last, now) {
		l.log.Warn("http connections refused: http.max_connections reached and none idle",
			"max_connections", l.max, "refused_total", n)
	}
}

// connState follows http.Server's view of each connection (its ConnState
// hook): idle keep-alive connections may be closed to make room.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ci, ok := l.conns[c]
	if !ok {
		return
	}
	switch st {
	case http.StateIdle:
		ci.idle, ci.idleSince = true, time.Now()
	case http.StateActive, http.StateNew:
		ci.idle = false
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	}
}

// open returns the number of connections held.
func (l *connLimiter) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}
