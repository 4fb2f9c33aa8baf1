package wal

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// Retry policy of an outage (see "Running out of space" in the package
// documentation).
const (
	// retryMin is the wait before the first recovery attempt.
	retryMin = 100 * time.Millisecond
	// retryMax caps the wait between attempts, so that the WAL appends
	// again within about this long of the disk having room.
	retryMax = 5 * time.Second
	// retryLogEvery spaces the log lines of an outage that goes on.
	retryLogEvery = time.Minute
	// probeName is the file a recovery attempt writes to test the file
	// system; it never looks like a segment.
	probeName = "probe.tmp"
	// probeSize is what a recovery attempt writes and syncs before the WAL
	// takes writes again.
	probeSize = 1 << 20
)

// retryState is the writer's record of an outage. It is owned by the writer
// goroutine, and by Close after the writer has stopped.
type retryState struct {
	failing  bool          // the WAL cannot append; a recovery attempt is due
	delay    time.Duration // wait before the next attempt
	attempts int           // failed recovery attempts so far
	logged   time.Time     // when the outage was last logged
}

// fail records that appending failed with cause and returns the error that
// every Log and Cut gets until recover succeeds. The first failure of an
// outage is logged at ERROR (Log callers get the error too, but they are
// clients; the operator needs one line saying the WAL stopped); recover logs
// the rest, at most once a minute.
func (w *WAL) fail(cause error) error {
	now := time.Now()
	w.mu.Lock()
	since := now
	if w.err != nil {
		since = w.err.Since
	}
	w.err = &AppendError{Since: since, Err: cause}
	err := w.err
	w.mu.Unlock()
	if !w.retry.failing {
		w.retry = retryState{failing: true, delay: retryMin, logged: now}
		w.opts.Logger.Error("wal cannot append: refusing writes and retrying in the background",
			logKeySegment, w.cur, logKeyErr, cause)
	}
	return err
}

// recover makes one attempt to end an outage: it drops the failed segment's
// unsynced tail, checks with a probe that the file system takes a write and
// an fdatasync again, and starts a new segment. It reports whether the WAL
// appends again; if not, retry.delay is the wait before the next attempt.
func (w *WAL) recover() bool {
	if w.f != nil {
		w.dropUnsynced()
	}
	var f *os.File
	next := w.nextSegment()
	err := w.probe()
	if err == nil {
		// The failed segment ends at its last fdatasync, unless dropUnsynced
		// could not cut it there (Replay then finds it longer).
		f, err = w.newSegment(segmentHeader{seg: next, prevSeg: w.cur, prevSize: w.synced})
	}
	if err != nil {
		_ = w.fail(err)
		w.retry.attempts++
		w.retry.delay = min(2*w.retry.delay, retryMax)
		if now := time.Now(); now.Sub(w.retry.logged) >= retryLogEvery {
			w.retry.logged = now
			w.opts.Logger.Error("wal still cannot append", logKeyAttempts, w.retry.attempts,
				logKeyDownFor, w.downFor(), logKeyErr, err)
		}
		return false
	}
	down := w.downFor()
	w.setSegment(f, next)
	w.mu.Lock()
	w.err = nil
	w.mu.Unlock()
	w.opts.Logger.Info("wal appends again", logKeySegment, next, logKeyAttempts, w.retry.attempts+1,
		logKeyDownFor, down)
	w.retry = retryState{}
	return true
}

// downFor returns how long the current outage has lasted.
func (w *WAL) downFor() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return 0
	}
	return time.Since(w.err.Since).Round(time.Millisecond)
}

// dropUnsynced cuts the current segment back to its last fdatasync'd size
// and closes it: the bytes past that belong to Log calls that failed. If
// the cut fails, Replay later finds those bytes as damage or, where they
// are whole records, returns records whose Log failed; both are harmless.
func (w *WAL) dropUnsynced() {
	if tail := w.segSize - w.synced; tail > 0 {
		err := w.f.Truncate(w.synced)
		if err == nil {
			err = fdatasync(w.f)
		}
		if err != nil {
			w.opts.Logger.Warn("wal could not drop the unsynced tail of a failed segment",
				logKeySegment, w.cur, logKeyOffset, w.synced, logKeyDropped, tail, logKeyErr, err)
		} else {
			w.size.Add(-tail)
			w.segSize = w.synced
		}
	}
	if err := w.f.Close(); err != nil {
		w.opts.Logger.Warn("close failed segment", logKeySegment, w.cur, logKeyErr, err)
	}
	w.f = nil
}

// probe writes probeSize bytes (incompressible, so that a compressing file
// system stores them too) to a scratch file, fdatasyncs and removes it.
func (w *WAL) probe() error {
	if err := w.inject("probe"); err != nil {
		return err
	}
	p := filepath.Join(w.dir, probeName)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("probe file system: %w", err)
	}
	buf := make([]byte, probeSize)
	_, _ = rand.NewChaCha8([32]byte{}).Read(buf) // never fails
	_, err = f.Write(buf)
	if err == nil {
		err = fdatasync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Remove(p); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("probe file system: %w", err)
	}
	return nil
}

// nextSegment returns the number of the segment recover creates: past the
// current one and past any file a failed roll may have left behind.
func (w *WAL) nextSegment() int {
	next := w.cur + 1
	if segs, err := listSegments(w.dir); err == nil && len(segs) > 0 {
		next = max(next, segs[len(segs)-1].n+1)
	}
	return next
}

// newSegment creates segment h.seg with header h and fsyncs the directory so
// that the new name survives a crash. On failure it removes what it created.
func (w *WAL) newSegment(h segmentHeader) (*os.File, error) {
	if err := w.inject("create"); err != nil {
		return nil, err
	}
	f, err := createSegment(w.dir, h)
	if err != nil {
		return nil, err
	}
	if err := syncDir(w.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("new segment %q: %w", f.Name(), err)
	}
	return f, nil
}

// setSegment makes f, segment n, which holds only its header (synced), the
// current segment.
func (w *WAL) setSegment(f *os.File, n int) {
	w.f, w.segSize, w.synced = f, segmentHeaderSize, segmentHeaderSize
	w.size.Add(segmentHeaderSize)
	w.mu.Lock()
	w.cur = n
	w.mu.Unlock()
}
