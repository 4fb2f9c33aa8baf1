package host

import (
	"fmt"
	"sync"
	"time"
)

// defaultStatfsTimeout bounds the wait for one statfs(2).
const defaultStatfsTimeout = 5 * time.Second

// boundedStatfs calls a statfs function without letting a mount that does
// not answer stall the collection. statfs(2) of a hard NFS mount whose
// server is gone blocks in the kernel until the server is back, and
// nothing can cancel it (Telegraf's disk input hangs there). So each call
// runs on its own goroutine: after timeout the collection goes on without
// that mount, and the mount point is not asked again until the blocked
// call has returned, so a dead server holds one goroutine per mount point,
// not one per collection. That goroutine is the one this package does not
// wait for: it ends when the kernel lets it.
type boundedStatfs struct {
	statfs  func(string) (FSUsage, error)
	timeout time.Duration

	mu      sync.Mutex
	blocked map[string]bool // mount points whose call has not returned
}

// errStatfsBlocked says a mount point's earlier statfs still blocks.
type errStatfsBlocked struct{ timeout time.Duration }

func (e errStatfsBlocked) Error() string {
	return fmt.Sprintf("no answer within %s (a network file system whose server is gone?)", e.timeout)
}

// call returns the usage of the file system at path, or an
// errStatfsBlocked when the call takes longer than the timeout or an
// earlier one has not returned yet.
func (s *boundedStatfs) call(path string) (FSUsage, error) {
	s.mu.Lock()
	if s.blocked[path] {
		s.mu.Unlock()
		return FSUsage{}, errStatfsBlocked{s.timeout}
	}
	if s.blocked == nil {
		s.blocked = make(map[string]bool)
	}
	s.blocked[path] = true
	s.mu.Unlock()
	type result struct {
		u   FSUsage
		err error
	}
	ch := make(chan result, 1) // buffered: an abandoned call still sends and ends
	go func() {
		u, err := s.statfs(path)
		s.mu.Lock()
		delete(s.blocked, path)
		s.mu.Unlock()
		ch <- result{u, err}
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.u, r.err
	case <-t.C:
		return FSUsage{}, errStatfsBlocked{s.timeout}
	}
}
