package wal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// diskFaults injects ENOSPC into chosen file operations while full is set,
// and into the recovery probe too, as a full disk would.
type diskFaults struct {
	mu   sync.Mutex
	full bool
	ops  map[string]bool // the operations that fail while full
}

func (d *diskFaults) fault(op string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.full && (d.ops[op] || op == "probe") {
		return fmt.Errorf("%s: %w", op, syscall.ENOSPC)
	}
	return nil
}

func (d *diskFaults) set(full bool) {
	d.mu.Lock()
	d.full = full
	d.mu.Unlock()
}

// waitAppending waits until w appends again.
func waitAppending(t *testing.T, w *WAL, within time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	for w.Err() != nil {
		if time.Since(began) > within {
			t.Fatalf("WAL still cannot append %v after the disk had room: %v", within, w.Err())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(began)
}

// TestWAL_Log_FullDiskRecovers fills the "disk" under each operation that can
// fail, checks that the WAL refuses writes at once while it cannot append,
// then frees it and checks that the WAL resumes by itself in a new segment
// with exactly the acknowledged records.
func TestWAL_Log_FullDiskRecovers(t *testing.T) {
	for _, op := range []string{"write", "sync", "create"} {
		t.Run(op, func(t *testing.T) {
			dir := t.TempDir()
			faults := &diskFaults{ops: map[string]bool{op: true}}
			logger, logs := testLogger()
			w, err := openWAL(dir, Options{Logger: logger}, hooks{fault: faults.fault})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = w.Close() })
			first := mustLog(t, w, Record{Type: 1, Data: []byte("acknowledged before")})
			faults.set(true)
			var failed error
			if op == "create" { // only a new segment needs a create
				_, failed = w.Cut()
			} else {
				_, failed = w.Log(context.Background(), Record{Type: 1, Data: []byte("failed: never acknowledged")})
			}
			var ae *AppendError
			if !errors.Is(failed, ErrWriteFailed) || !errors.Is(failed, syscall.ENOSPC) || !errors.As(failed, &ae) {
				t.Fatalf("call on a full disk = %v, want an *AppendError wrapping ErrWriteFailed and ENOSPC", failed)
			}
			began := time.Now()
			if _, err := w.Log(context.Background(), Record{Type: 1, Data: []byte("refused")}); !errors.Is(err, ErrWriteFailed) {
				t.Fatalf("Log while failing = %v, want ErrWriteFailed", err)
			}
			if d := time.Since(began); d > 100*time.Millisecond {
				t.Errorf("Log while failing took %v, want an immediate refusal", d)
			}
			if err := w.Err(); !errors.As(err, &ae) || ae.Since.After(time.Now()) {
				t.Fatalf("Err = %v, want the *AppendError", err)
			}
			time.Sleep(700 * time.Millisecond) // several recovery attempts fail
			if w.Err() == nil {
				t.Fatal("WAL appends again while the disk is still full")
			}
			faults.set(false)
			took := waitAppending(t, w, 2*retryMax)
			t.Logf("appending %v after the disk had room", took.Round(time.Millisecond))
			seg := mustLog(t, w, Record{Type: 1, Data: []byte("acknowledged after")})
			if seg <= first {
				t.Errorf("record after recovery in segment %d, want past %d", seg, first)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := reopenReplay(t, dir, Options{})
			var data []string
			for _, e := range got {
				data = append(data, string(e.rec.Data))
			}
			if strings.Join(data, "|") != "acknowledged before|acknowledged after" {
				t.Errorf("replayed %q, want exactly the acknowledged records", data)
			}
			if size := segmentSizes(t, dir)[first]; size != int64(segmentHeaderSize+headerSize+len("acknowledged before")) {
				t.Errorf("failed segment has %d bytes, want its unsynced tail dropped", size)
			}
			s := logs.String()
			if n := strings.Count(s, "level=ERROR"); n != 1 || !strings.Contains(s, "wal cannot append") {
				t.Errorf("want one ERROR for the outage (the retries are rate-limited), got %d:\n%s", n, s)
			}
			if !strings.Contains(s, `msg="wal appends again"`) {
				t.Errorf("recovery not logged:\n%s", s)
			}
		})
	}
}

// TestWAL_Log_BadFileRecovers breaks the segment under the writer, as a
// failing disk would: the next write fails with EBADF, and the WAL goes on in
// a new segment by itself.
func TestWAL_Log_BadFileRecovers(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{})
	mustLog(t, w, Record{Data: []byte("durable")})
	if err := w.f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Log(context.Background(), Record{Data: []byte("lost")}); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("Log = %v, want ErrWriteFailed", err)
	}
	waitAppending(t, w, 2*retryMax)
	mustLog(t, w, Record{Data: []byte("after")})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := reopenReplay(t, dir, Options{})
	if len(got) != 2 || string(got[0].rec.Data) != "durable" || string(got[1].rec.Data) != "after" {
		t.Fatalf("replayed %+v, want the two acknowledged records", got)
	}
}

// TestWAL_Close_WhileFailing closes a WAL that cannot append: Close succeeds
// (nothing acknowledged is lost) and leaves only acknowledged records.
func TestWAL_Close_WhileFailing(t *testing.T) {
	dir := t.TempDir()
	faults := &diskFaults{ops: map[string]bool{"write": true}}
	w, err := openWAL(dir, Options{}, hooks{fault: faults.fault})
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, w, Record{Data: []byte("durable")})
	faults.set(true)
	if _, err := w.Log(context.Background(), Record{Data: bytesOf(4096)}); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("Log = %v, want ErrWriteFailed", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close while failing = %v, want nil", err)
	}
	got := reopenReplay(t, dir, Options{})
	if len(got) != 1 || string(got[0].rec.Data) != "durable" {
		t.Fatalf("replayed %+v, want only the acknowledged record", got)
	}
	if sizes := segmentSizes(t, dir); sizes[1] != int64(segmentHeaderSize+headerSize+len("durable")) {
		t.Errorf("segment sizes %v: the unsynced tail was not dropped", sizes)
	}
}

func bytesOf(n int) []byte { return []byte(strings.Repeat("x", n)) }
