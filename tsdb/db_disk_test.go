package tsdb

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size (as mount's size= takes it) on a new
// temporary directory, or skips the test when it cannot (not root, no mount).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes a file in dir until the file system is full and returns
// its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{1}, 64<<10)
	for n := len(buf); n >= 4096; {
		if _, err := f.Write(buf[:n]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill disk: %v", err)
			}
			n /= 2 // down to one tmpfs page
		}
	}
	return p
}

// syncBuffer is a log destination safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitHealthy waits until db.Health is nil and returns how long it took.
func waitHealthy(t *testing.T, db *DB, within time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	for {
		err := db.Health()
		if err == nil {
			return time.Since(began)
		}
		if time.Since(began) > within {
			t.Fatalf("store unhealthy %v after the disk had room: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDB_Write_DiskFull fills the disk under the store: a pending flush and
// then writes fail, writes with ErrUnavailable and at once, Health says why;
// freeing space makes the store resume by itself with every acknowledged
// sample; closing on a full disk succeeds and the next start has them all.
func TestDB_Write_DiskFull(t *testing.T) {
	dir := mountTmpfs(t, "16m")
	logs := &syncBuffer{}
	clock := newTestClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	opts := Options{Now: clock.Now, MaintainEvery: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	cfg := testConfig(filepath.Join(dir, "data"))
	db, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old := clock.Now().Add(-2 * time.Hour).UnixMilli() // an epoch the loop seals once idle
	var acked []Point
	write := func(pts ...Point) error {
		err := db.Write(ctx, pts)
		if err == nil {
			acked = append(acked, pts...)
		}
		return err
	}
	for i := range 100 {
		if err := write(pt(old+int64(i)*1000, float64(i), "__name__", "disk", "phase", "before")); err != nil {
			t.Fatal(err)
		}
	}
	filler := fillDisk(t, dir)
	clock.Advance(2 * time.Minute) // the old epoch is idle: the next maintain flushes it, and fails
	deadline := time.Now().Add(10 * time.Second)
	for db.flushes.outage() == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := db.Health(); err == nil || !strings.Contains(err.Error(), "flushing to day files fails: no space left on device (since ") {
		t.Fatalf("Health with a flush failing = %v", err)
	}

	now := clock.Now().UnixMilli()
	var werr error
	for i := 0; werr == nil; i++ { // the WAL may still fit a few records
		werr = write(pt(now+int64(i), float64(i), "__name__", "disk", "phase", "full"))
		if i > 10000 {
			t.Fatal("writes still succeed on a full disk")
		}
	}
	if !errors.Is(werr, ErrUnavailable) || !errors.Is(werr, syscall.ENOSPC) {
		t.Fatalf("Write on a full disk = %v, want ErrUnavailable wrapping ENOSPC", werr)
	}
	began := time.Now()
	err = db.Write(ctx, []Point{pt(now+20000, 1, "__name__", "disk", "phase", "refused")})
	if !errors.Is(err, ErrUnavailable) || time.Since(began) > 100*time.Millisecond {
		t.Fatalf("Write while unavailable = %v after %v, want ErrUnavailable at once", err, time.Since(began))
	}
	herr := db.Health()
	if herr == nil || !errors.Is(herr, ErrUnavailable) ||
		!strings.Contains(herr.Error(), "write-ahead log cannot append: no space left on device (since ") {
		t.Fatalf("Health on a full disk = %v", herr)
	}
	t.Logf("Health on a full disk: %v", herr)
	time.Sleep(3 * time.Second) // retries fail meanwhile, quietly

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	took := waitHealthy(t, db, 30*time.Second)
	t.Logf("healthy %v after space was freed", took.Round(time.Millisecond))
	if err := write(pt(now+30000, 2, "__name__", "disk", "phase", "after")); err != nil {
		t.Fatalf("Write after recovery: %v", err)
	}
	checkAcked(t, db, acked)
	s := logs.String()
	if n := strings.Count(s, "level=ERROR"); n != 2 {
		t.Errorf("%d ERROR lines for two outages (WAL, flush) of a few seconds, want 2 (retries rate-limited):\n%s", n, s)
	}
	for _, want := range []string{"wal appends again", "flushing to day files works again"} {
		if !strings.Contains(s, want) {
			t.Errorf("log lacks %q:\n%s", want, s)
		}
	}

	// Closing on a full disk: nothing can be flushed, the WAL holds it all.
	if err := write(pt(now+40000, 3, "__name__", "disk", "phase", "closing")); err != nil {
		t.Fatal(err)
	}
	filler = fillDisk(t, dir)
	err = nil
	for i := 0; !errors.Is(err, ErrUnavailable); i++ {
		err = write(pt(now+50000+int64(i), 4, "__name__", "disk", "phase", "closing"))
		if i > 10000 {
			t.Fatal("writes still succeed on a full disk")
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close on a full disk = %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "closing with samples not flushed to day files") {
		t.Errorf("Close did not say what it could not flush:\n%s", logs.String())
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db, err = Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAcked(t, db, acked)
}

// checkAcked checks that every point of acked reads back from db.
func checkAcked(t *testing.T, db *DB, acked []Point) {
	t.Helper()
	got := readAll(t, db, minTime, maxTime, eq("__name__", "disk"))
	n := 0
	for _, p := range acked {
		found := false
		for _, s := range got[p.Labels.String()] {
			if s.T == p.T && s.V == p.V {
				found = true
				break
			}
		}
		if !found {
			if n < 5 {
				t.Errorf("acknowledged sample lost: %s @%d", p.Labels, p.T)
			}
			n++
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d acknowledged samples lost", n, len(acked))
	}
	t.Logf("%d acknowledged samples read back", len(acked))
}
