package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// rssWatcher samples a process' resident set (VmRSS of /proc/PID/status)
// every 100 ms, and at every mark, and keeps the peak since the last mark.
type rssWatcher struct {
	path string
	peak atomic.Int64 // bytes
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchRSS(t *testing.T, pid int) *rssWatcher {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/status", pid)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no %s: %v", path, err)
	}
	w := &rssWatcher{path: path, stop: make(chan struct{})}
	w.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			w.sample()
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	})
	t.Cleanup(w.close)
	return w
}

// sample reads the resident set now and raises the peak to it.
func (w *rssWatcher) sample() {
	n := procStatusBytes(w.path, "VmRSS:")
	for {
		p := w.peak.Load()
		if n <= p || w.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// mark returns the peak since the previous mark, this moment included, and
// starts a new one from this moment.
func (w *rssWatcher) mark() int64 {
	w.sample()
	p := w.peak.Swap(0)
	w.sample()
	return p
}

func (w *rssWatcher) close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

// procStatusBytes reads one "Key:  N kB" line of /proc/PID/status.
func procStatusBytes(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
