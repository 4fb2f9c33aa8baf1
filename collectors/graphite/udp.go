package graphite

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"time"

	"outpost/collectors"
)

// serveUDP reads datagrams until the socket is closed. Each datagram is
// parsed whole: its lines, the last one with or without "\n". Points of
// successive datagrams share one batch, written when full or BatchTimeout
// after its first point, and at shutdown. Each datagram counts as a
// connection in the statistics. What the batch holds of
// graphite.max_inflight_bytes is given back when it is written.
func (l *Listener) serveUDP(ctx context.Context) {
	s := l.newStream(ctx, "udp")
	defer func() {
		s.flush()
		s.dropBatch()
		s.acct.trim(0)
	}()
	buf := make([]byte, udpBufSize)
	for {
		if len(s.pts) > 0 && l.inflight.Contended() {
			s.flush() // TCP connections wait for the budget
		}
		deadline := time.Time{}
		if due, ok := s.flushDue(); ok {
			deadline = later(due, time.Now().Add(minFlushPause))
		}
		if at := time.Now().Add(holdCheck); s.acct.held > 0 && (deadline.IsZero() || at.Before(deadline)) {
			deadline = at
		}
		l.udp.SetReadDeadline(deadline)
		n, from, err := l.udp.ReadFrom(buf)
		if n > 0 {
			l.stats.Bytes.Add(uint64(n))
			l.stats.Connections.Add(1)
			if from != nil {
				s.remote = from.String()
			}
			s.lineNo = 0
			l.datagram(s, buf[:n], l.now().UnixMilli())
			if due, ok := s.flushDue(); ok && !time.Now().Before(due) {
				s.flush()
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			if due, ok := s.flushDue(); ok && !time.Now().Before(due) {
				s.flush()
			}
			if len(s.pts) == 0 {
				s.dropBatch() // idle: hold nothing of the budget
				s.acct.trim(0)
			}
		case errors.Is(err, net.ErrClosed):
			return
		default:
			l.noteError("read udp", err)
			if !collectors.Sleep(ctx, minFlushPause) {
				return
			}
		}
	}
}

// datagram parses the lines of one datagram. It is dropped whole, and
// counted (datagrams, "over_budget"), when the stream cannot hold a grant
// of graphite.max_inflight_bytes beyond its batch, even after writing it;
// a line that finds no room past that grant is dropped and counted (lines,
// "over_budget"). UDP senders cannot be slowed down: nothing waits.
func (l *Listener) datagram(s *stream, b []byte, now int64) {
	if !s.acct.reserve(nil, grantBytes, false) {
		s.flush()
		if !s.acct.reserve(nil, grantBytes, false) {
			l.stats.Reject("datagrams", "over_budget", 1)
			return
		}
	}
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte{'\n'})
		b = rest
		if len(bytes.TrimSuffix(line, []byte{'\r'})) > l.cfg.MaxLineBytes {
			l.stats.Reject("lines", "too_long", 1)
			continue
		}
		s.line(line, now)
	}
}
