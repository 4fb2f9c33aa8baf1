package tsdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// walDamageFixture is a store directory whose WAL holds walBatches Write
// calls of walSeries samples each, in two segments (batches before
// walCutAt in segment 1), and no day file.
const (
	walBatches = 30
	walSeries  = 10
	walCutAt   = 15
)

// newWALDamageFixture writes the fixture and returns its directory, a
// copy taken while the store was open (as a crash would leave it), and the
// data clock.
func newWALDamageFixture(t *testing.T) (string, *testClock) {
	t.Helper()
	clock := newTestClock(time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC))
	live := t.TempDir()
	db := openTestDB(t, testConfig(live), clock)
	defer db.Close()
	base := clock.Now().Add(-20 * time.Minute).UnixMilli()
	for b := range walBatches {
		if b == walCutAt {
			if _, err := db.wal.Cut(); err != nil {
				t.Fatal(err)
			}
		}
		var pts []Point
		for s := range walSeries {
			pts = append(pts, pt(base+int64(b)*1000, float64(b), "__name__", "waldmg", "s", fmt.Sprint(s)))
		}
		if err := db.Write(t.Context(), pts); err != nil {
			t.Fatal(err)
		}
	}
	crashed := t.TempDir()
	copyTree(t, live, crashed)
	return crashed, clock
}

// copyTree copies the regular files under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		defer out.Close()
		_, err = io.Copy(out, in)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// walFrames returns the offset and length of every record of a segment.
func walFrames(t *testing.T, p string) (data []byte, offs, lens []int) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	start := 0 // a segment of format version 1 starts with a 28-byte header
	if len(data) >= 28 && string(data[:4]) == "OWAL" {
		start = 28
	}
	for off := start; off+9 <= len(data); {
		n := 9 + int(binary.LittleEndian.Uint32(data[off:]))
		offs, lens = append(offs, off), append(lens, n)
		off += n
	}
	return data, offs, lens
}

// missingBatches opens dir and returns the batches whose samples are gone
// (a batch is all there or all gone, since it is one WAL record), and the log.
func missingBatches(t *testing.T, dir string, clock *testClock) ([]int, string) {
	t.Helper()
	logs := &syncBuffer{}
	db, err := Open(testConfig(dir), Options{Now: clock.Now, MaintainEvery: time.Hour,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatalf("open a store with a damaged WAL: %v", err)
	}
	defer db.Close()
	got := readAll(t, db, minTime, maxTime, eq("__name__", "waldmg"))
	count := make(map[float64]int)
	for _, ss := range got {
		for _, s := range ss {
			count[s.V]++
		}
	}
	var missing []int
	for b := range walBatches {
		switch count[float64(b)] {
		case walSeries:
		case 0:
			missing = append(missing, b)
		default:
			t.Fatalf("batch %d: %d of %d samples", b, count[float64(b)], walSeries)
		}
	}
	return missing, logs.String()
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestDB_Open_DamagedWAL damages the WAL of a store left as by a crash and
// checks what each kind of damage costs: only the batches the damage
// destroyed, logged, and the store starts.
func TestDB_Open_DamagedWAL(t *testing.T) {
	// Segment 1 holds the series record, then batches 0..14; segment 2
	// batches 15..29. Record i of a segment is batch i-1 in segment 1 (the
	// series record comes first) and batch 15+i in segment 2.
	f := func(name string, damage func(t *testing.T, walDir string), wantLost []int, wantLog ...string) {
		t.Run(name, func(t *testing.T) {
			dir, clock := newWALDamageFixture(t)
			damage(t, filepath.Join(dir, "wal"))
			lost, log := missingBatches(t, dir, clock)
			if !slices.Equal(lost, wantLost) {
				t.Errorf("lost batches %v, want %v", lost, wantLost)
			}
			for _, w := range wantLog {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q:\n%s", w, log)
				}
			}
			t.Logf("lost %d of %d batches", len(lost), walBatches)
		})
	}
	seg := func(walDir string, n int) string { return filepath.Join(walDir, fmt.Sprintf("%08d.seg", n)) }
	flip := func(n, rec, at int) func(*testing.T, string) {
		return func(t *testing.T, walDir string) {
			data, offs, lens := walFrames(t, seg(walDir, n))
			data[offs[rec]+min(at, lens[rec]-1)] ^= 0x10
			if err := os.WriteFile(seg(walDir, n), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cut := func(n, rec, at int) func(*testing.T, string) {
		return func(t *testing.T, walDir string) {
			_, offs, _ := walFrames(t, seg(walDir, n))
			if err := os.Truncate(seg(walDir, n), int64(offs[rec]+at)); err != nil {
				t.Fatal(err)
			}
		}
	}
	const mid = 20 // a byte in a record's payload
	f("last segment, flipped byte mid-segment", flip(2, 7, mid), []int{22}, "level=ERROR", "damaged wal records skipped", "segment=2")
	f("last segment, flipped length byte", flip(2, 7, 1), []int{22}, "level=ERROR", "damaged wal records skipped")
	f("last segment, flipped CRC byte", flip(2, 7, 5), []int{22}, "level=ERROR")
	f("last segment, flipped byte in the last record", flip(2, 14, mid), []int{29}, "torn wal tail")
	f("last segment cut mid-record", cut(2, 7, mid), seq(22, 30), "torn wal tail")
	f("last segment cut to 0", cut(2, 0, 0), seq(15, 30))
	f("middle segment, flipped byte", flip(1, 5, mid), []int{4}, "level=ERROR", "segment=1")
	f("middle segment cut mid-record", cut(1, 5, mid), seq(4, 15), "level=ERROR", "segment=1")
	f("middle segment cut at a record boundary", cut(1, 5, 0), seq(4, 15), "level=ERROR", "wal segment cut short", "segment=1")
	f("middle segment deleted", func(t *testing.T, walDir string) {
		// A third segment makes segment 2 a middle one.
		if err := os.WriteFile(seg(walDir, 3), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(seg(walDir, 2)); err != nil {
			t.Fatal(err)
		}
	}, seq(15, 30), "level=ERROR", `wal segment missing: its records are lost" missing=00000002.seg`)
	f("series record damaged", flip(1, 0, mid), seq(0, 30), "level=ERROR", "WAL samples of unknown series skipped")
}
