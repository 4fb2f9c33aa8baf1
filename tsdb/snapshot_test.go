package tsdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDB_Snapshot_DuringWritesAndFlushes snapshots while writers append
// and flushes run, restores the copy and opens it: each series holds a
// prefix of what was written, at least everything acknowledged before
// Snapshot was called, and the flushed old day as it was.
func TestDB_Snapshot_DuringWritesAndFlushes(t *testing.T) {
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	db := openTestDB(t, testConfig(dir), clock)
	defer db.Close()
	ctx := context.Background()
	old := clock.Now().Add(-48 * time.Hour).UnixMilli()
	for i := range 100 {
		if err := db.Write(ctx, []Point{pt(old+int64(i)*1000, float64(i), "__name__", "old")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	base := clock.Now().Add(-3 * time.Hour).UnixMilli()
	const writers = 4
	var acked [writers]atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := int64(0); !stop.Load(); i++ {
				p := pt(base+i*1000, float64(i), "__name__", "m", "w", strconv.Itoa(w))
				if err := db.Write(ctx, []Point{p}); err != nil {
					t.Error(err)
					return
				}
				acked[w].Store(i + 1)
			}
		})
	}
	wg.Go(func() {
		for !stop.Load() {
			if err := db.Flush(ctx); err != nil {
				t.Error(err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	time.Sleep(100 * time.Millisecond)
	var before [writers]int64
	for w := range writers {
		before[w] = acked[w].Load()
	}
	name, err := db.Snapshot(ctx, SnapshotOptions{})
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	files, err := Restore(db.SnapshotPath(name), dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Errorf("restored %v: want index.db, a day file and WAL segments", files)
	}
	cp := openTestDB(t, testConfig(dst), clock)
	defer cp.Close()
	if got, want := readAll(t, cp, minTime, maxTime, eq("__name__", "old")), readAll(t, db, minTime, maxTime, eq("__name__", "old")); len(got) != 1 || len(got["old{}"]) != 100 || !sameSamples(got["old{}"], want["old{}"]) {
		t.Errorf("old day: got %v, want %v", got, want)
	}
	got := readAll(t, cp, minTime, maxTime, eq("__name__", "m"))
	for w := range writers {
		key := `m{w="` + strconv.Itoa(w) + `"}`
		s := got[key]
		if int64(len(s)) < before[w] {
			t.Errorf("%s: %d samples in the snapshot, %d acknowledged before it", key, len(s), before[w])
		}
		for i, x := range s {
			if x.T != base+int64(i)*1000 || x.V != float64(i) {
				t.Fatalf("%s: sample %d is %+v: not a prefix", key, i, x)
			}
		}
	}
}

func TestRestore_Refusals(t *testing.T) {
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	if err := db.Write(context.Background(), []Point{pt(clock.Now().UnixMilli(), 1, "__name__", "m")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	name, err := db.Snapshot(context.Background(), SnapshotOptions{SkipHead: true})
	if err != nil {
		t.Fatal(err)
	}
	src := db.SnapshotPath(name)

	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "x"), nil, 0o644)
	if _, err := Restore(src, busy, nil); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("restore into a non-empty dir: %v, want ErrNotEmpty", err)
	}

	dst := filepath.Join(t.TempDir(), "d")
	if _, err := Restore(src, dst, map[string]string{"index.db": strings.Repeat("0", 64)}); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("restore with a wrong manifest: %v, want a checksum error", err)
	}
	if ents, _ := os.ReadDir(dst); len(ents) != 0 {
		t.Errorf("a failed restore left %d entries", len(ents))
	}

	// A damaged bbolt file is found before the restore reports success.
	os.WriteFile(filepath.Join(src, "index.db"), []byte(strings.Repeat("garbage!", 1024)), 0o644)
	if _, err := Restore(src, dst, nil); err == nil || !strings.Contains(err.Error(), "index.db") {
		t.Errorf("restore of a damaged index.db: %v, want an error naming it", err)
	}
}
