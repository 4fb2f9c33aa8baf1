package tsdb

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestDB_Compact_KilledChild is run by TestDB_Compact_Kill9 in a child
// process: it compacts the store named in its environment and kills
// itself with SIGKILL at the step named there. Run on its own it skips.
func TestDB_Compact_KilledChild(t *testing.T) {
	dir := os.Getenv("OUTPOST_TEST_COMPACT_DIR")
	if dir == "" {
		t.Skip("run by TestDB_Compact_Kill9")
	}
	now, err := strconv.ParseInt(os.Getenv("OUTPOST_TEST_COMPACT_NOW"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	step := os.Getenv("OUTPOST_TEST_COMPACT_KILL_AT")
	db, err := Open(testConfig(dir), Options{Now: newTestClock(time.UnixMilli(now)).Now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	db.testHook = func(s string) error {
		if s == step {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
		return nil
	}
	_, err = db.Compact(context.Background())
	t.Fatalf("compaction ended (%v) without reaching step %q", err, step)
}

// TestDB_Compact_Kill9 kills a process compacting a day file at each step
// (the new file half written, complete, renamed into place): the store
// then reads exactly what it read before, and the next compaction
// finishes the job.
func TestDB_Compact_Kill9(t *testing.T) {
	for _, step := range []string{"epoch", "written", "renamed"} {
		t.Run(step, func(t *testing.T) {
			cfg, clock, db := compactFixture(t)
			ctx := context.Background()
			if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil {
				t.Fatal(err)
			}
			want := exportAll(t, db)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestDB_Compact_KilledChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "OUTPOST_TEST_COMPACT_DIR="+cfg.Path,
				"OUTPOST_TEST_COMPACT_NOW="+strconv.FormatInt(clock.Now().UnixMilli(), 10), "OUTPOST_TEST_COMPACT_KILL_AT="+step)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("child: %v, want it killed: %s", err, out)
			}
			if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child: %v, want SIGKILL: %s", err, out)
			}
			tmps, _ := filepath.Glob(filepath.Join(cfg.Path, "parts", "*"+compactSuffix))
			if step != "renamed" && len(tmps) != 1 {
				t.Fatalf("killed at %s: unfinished files %v, want the half-written one", step, tmps)
			}
			db = openTestDB(t, cfg, clock)
			defer db.Close()
			sameExport(t, "after kill -9", want, exportAll(t, db))
			if tmps, _ := filepath.Glob(filepath.Join(cfg.Path, "parts", "*"+compactSuffix)); len(tmps) != 0 {
				t.Fatalf("open left %v", tmps)
			}
			st, err := db.Compact(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if step == "renamed" && st.Days != 0 {
				t.Fatalf("killed after the rename: %+v, want nothing left to compact", st)
			}
			sameExport(t, "compacted after kill -9", want, exportAll(t, db))
			if _, raw := dayFile(t, db); bytes.Contains(raw, []byte(secretHost)) {
				t.Fatal("deleted series still in the day file")
			}
			if db.Tombstones() != 0 {
				t.Fatalf("%d tombstones left", db.Tombstones())
			}
		})
	}
}
