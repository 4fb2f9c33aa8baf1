package graphite

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"time"
)

// serveUDP reads datagrams until the socket is closed. Each datagram is
// parsed whole: its lines, the last one with or without "\n". Points of
// successive datagrams share one batch, written when full or BatchTimeout
// after its first point, and at shutdown. Each datagram counts as a
// connection in the statistics.
func (l *Listener) serveUDP(ctx context.Context) {
	s := l.newStream(ctx, "udp")
	defer s.flush()
	buf := make([]byte, udpBufSize)
	for {
		deadline := time.Time{}
		if due, ok := s.flushDue(); ok {
			deadline = later(due, time.Now().Add(minFlushPause))
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
			s.flush()
		case errors.Is(err, net.ErrClosed):
			return
		default:
			l.noteError("read udp", err)
			if !sleep(ctx, minFlushPause) {
				return
			}
		}
	}
}

// datagram parses the lines of one datagram.
func (l *Listener) datagram(s *stream, b []byte, now int64) {
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
