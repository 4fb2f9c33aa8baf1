package wal

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"
)

// seqRecord is record n of goroutine g, with padding so batches cross
// segment boundaries.
func seqRecord(g, n int) Record {
	d := make([]byte, 8+(n*13)%200)
	binary.LittleEndian.PutUint32(d[0:], uint32(g))
	binary.LittleEndian.PutUint32(d[4:], uint32(n))
	for i := 8; i < len(d); i++ {
		d[i] = byte(g + n + i)
	}
	return Record{Type: 3, Data: d}
}

// checkSeq parses a seqRecord and checks its padding.
func checkSeq(t testing.TB, rec Record) (g, n int) {
	t.Helper()
	if rec.Type != 3 || len(rec.Data) < 8 {
		t.Fatalf("unexpected record type %d len %d", rec.Type, len(rec.Data))
	}
	g = int(binary.LittleEndian.Uint32(rec.Data[0:]))
	n = int(binary.LittleEndian.Uint32(rec.Data[4:]))
	want := seqRecord(g, n)
	if string(want.Data) != string(rec.Data) {
		t.Fatalf("record %d/%d: data differs from what was logged", g, n)
	}
	return g, n
}

// checkAcked replays dir and checks that every acknowledged record of every
// goroutine is present exactly once, in per-goroutine order. acked[g] is the
// number of records goroutine g had acknowledged, in order.
func checkAcked(t testing.TB, dir string, acked []int) {
	t.Helper()
	next := make([]int, len(acked))
	for _, e := range reopenReplay(t, dir, Options{}) {
		g, n := checkSeq(t, e.rec)
		if g >= len(acked) {
			t.Fatalf("record of unknown goroutine %d", g)
		}
		if n != next[g] {
			t.Fatalf("goroutine %d: replayed record %d, want %d (order or duplicate)", g, n, next[g])
		}
		next[g]++
	}
	for g := range acked {
		if next[g] < acked[g] {
			t.Fatalf("goroutine %d: replayed %d records, %d were acknowledged", g, next[g], acked[g])
		}
	}
}

func TestWAL_Log_Concurrent(t *testing.T) {
	const goroutines, perG = 16, 300
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{SegmentSize: 32 << 10, Compress: true})
	var wg sync.WaitGroup
	acked := make([]int, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for n := range perG {
				if _, err := w.Log(context.Background(), seqRecord(g, n)); err != nil {
					t.Errorf("goroutine %d record %d: %v", g, n, err)
					return
				}
				acked[g]++
			}
		})
	}
	wg.Wait()
	syncs := w.syncs.Load()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checkAcked(t, dir, acked)
	if total := goroutines * perG; syncs >= int64(total) {
		t.Errorf("%d fdatasyncs for %d records: no group commit", syncs, total)
	} else {
		t.Logf("%d records in %d fdatasyncs", total, syncs)
	}
	if segs := len(segmentSizes(t, dir)); segs < 3 {
		t.Errorf("records span %d segments, want several", segs)
	}
}

// blockedWAL opens a WAL whose writer stops before each commit until
// release is closed, and reports each stop on entered.
func blockedWAL(t *testing.T, dir string, opts Options) (w *WAL, entered <-chan struct{}, release func()) {
	t.Helper()
	ent := make(chan struct{}, 100)
	rel := make(chan struct{})
	w, err := openWAL(dir, opts, hooks{beforeCommit: func() {
		ent <- struct{}{}
		<-rel
	}})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	t.Cleanup(func() { release(); _ = w.Close() })
	return w, ent, release
}

// waitPending waits until the queue holds at least n bytes.
func waitPending(t *testing.T, w *WAL, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		p := len(w.pend)
		w.mu.Unlock()
		if p >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d bytes, want %d", p, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWAL_Log_ContextWhileQueueFull(t *testing.T) {
	dir := t.TempDir()
	w, entered, release := blockedWAL(t, dir, Options{MaxPendingBytes: 1024})
	results := make(chan error, 2)
	go func() {
		_, err := w.Log(context.Background(), Record{Type: 1, Data: make([]byte, 100)})
		results <- err
	}()
	<-entered // the writer holds the first call and is stuck before writing it
	go func() {
		_, err := w.Log(context.Background(), Record{Type: 2, Data: make([]byte, 1000)})
		results <- err
	}()
	waitPending(t, w, 1000) // the queue is now full

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := w.Log(ctx, Record{Type: 3, Data: make([]byte, 100)})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Log = %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Fatalf("Log returned after %v, before the deadline: it did not wait", d)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(20 * time.Millisecond); cancel() }()
		if _, err := w.Log(ctx, Record{Type: 4, Data: make([]byte, 100)}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Log = %v, want Canceled", err)
		}
	})
	release()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("queued Log: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var types []byte
	for _, e := range reopenReplay(t, dir, Options{}) {
		types = append(types, e.rec.Type)
	}
	if string(types) != "\x01\x02" {
		t.Fatalf("replayed types %v, want [1 2] (the cancelled calls must not be written)", types)
	}
}

func TestWAL_Close_BlockedLogs(t *testing.T) {
	dir := t.TempDir()
	w, entered, release := blockedWAL(t, dir, Options{MaxPendingBytes: 1024})
	results := make(chan error, 3)
	logAsync := func(typ byte, n int) {
		go func() {
			_, err := w.Log(context.Background(), Record{Type: typ, Data: make([]byte, n)})
			results <- err
		}()
	}
	logAsync(1, 100)
	<-entered
	logAsync(2, 1000)
	waitPending(t, w, 1000)
	logAsync(3, 100) // blocks on the full queue
	time.Sleep(20 * time.Millisecond)

	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	blockedErr := <-results // Close wakes the blocked call with ErrClosed
	if !errors.Is(blockedErr, ErrClosed) {
		t.Fatalf("blocked Log = %v, want ErrClosed", blockedErr)
	}
	release()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatalf("queued Log = %v, want it committed by Close", err)
		}
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs")
	}
	if got := reopenReplay(t, dir, Options{}); len(got) != 2 {
		t.Fatalf("replayed %d records, want the 2 queued before Close", len(got))
	}
}

func TestWAL_Close_InFlight(t *testing.T) {
	const goroutines = 8
	dir := t.TempDir()
	w, err := Open(dir, Options{SegmentSize: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	acked := make([]int, goroutines)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for n := 0; ; n++ {
				_, err := w.Log(context.Background(), seqRecord(g, n))
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("goroutine %d: Log = %v, want nil or ErrClosed", g, err)
					}
					return
				}
				acked[g]++
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	for w.syncs.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Logs hang after Close")
	}
	checkAcked(t, dir, acked)
}
