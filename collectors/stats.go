package collectors

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Stats counts what the listeners of one protocol took in and turned away.
// The counters are atomic; Reject takes a short lock, as rejections are the
// rare path. The zero value is not usable; use NewStats.
type Stats struct {
	// Protocol names the listener family in the statistics' protocol label,
	// e.g. "graphite", "collectd", "influx".
	Protocol string

	Samples     atomic.Uint64 // samples written
	Bytes       atomic.Uint64 // payload bytes received
	Connections atomic.Uint64 // connections (or datagrams) accepted

	mu       sync.Mutex                // guards rejected's map (not its counters)
	rejected map[string]*atomic.Uint64 // by "what:reason", e.g. "lines:parse"
}

// NewStats returns the counters for one protocol, e.g. "graphite".
func NewStats(protocol string) *Stats {
	return &Stats{Protocol: protocol, rejected: make(map[string]*atomic.Uint64)}
}

// Reject counts n items of kind what ("samples", "lines", "packets",
// "connections") turned away for reason (a short snake_case word). It is
// safe for concurrent use.
func (s *Stats) Reject(what, reason string, n uint64) {
	key := what + ":" + reason
	s.mu.Lock()
	c := s.rejected[key]
	if c == nil {
		c = new(atomic.Uint64)
		s.rejected[key] = c
	}
	s.mu.Unlock()
	c.Add(n)
}

// Rejection is one count of Stats.Rejections.
type Rejection struct {
	What, Reason string
	N            uint64
}

// Rejections returns every rejection count, sorted by what and reason.
func (s *Stats) Rejections() []Rejection {
	s.mu.Lock()
	out := make([]Rejection, 0, len(s.rejected))
	for k, c := range s.rejected {
		what, reason, _ := strings.Cut(k, ":")
		out = append(out, Rejection{What: what, Reason: reason, N: c.Load()})
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Rejection) int {
		if c := strings.Compare(a.What, b.What); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	return out
}
