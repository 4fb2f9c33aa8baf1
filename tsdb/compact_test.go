package tsdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretHost is a label value only the series deleted in these tests has,
// so a grep of a day file's bytes tells whether anything of it is left.
const secretHost = "secret-host-7f3a9c"

// compactFixture writes 3 hours at 10 s for 20 cpu series and one with
// host=secretHost into one day, flushing three times so that every epoch
// has several flush buckets: the second pass rewrites some samples with new
// values (the newer flush wins) and adds others between them, the third
// adds late samples to the first epoch only.
func compactFixture(t testing.TB) (Config, *testClock, *DB) {
	t.Helper()
	base := t0.Add(-4 * time.Hour) // 18:00: the whole fixture is in one UTC day
	clock := newTestClock(t0.Add(3 * time.Hour))
	cfg := testConfig(t.TempDir())
	db, err := Open(cfg, Options{Now: clock.Now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// 20 kept series, and 40 to delete that all name secretHost.
	type series struct{ host, core string }
	var all []series
	for h := range 20 {
		all = append(all, series{"h" + strconv.Itoa(h), "total"})
	}
	for c := range 40 {
		all = append(all, series{secretHost, "c" + strconv.Itoa(c)})
	}
	write := func(from, to, step time.Duration, v func(ts int64, i int) float64) {
		t.Helper()
		var pts []Point
		for d := from; d < to; d += step {
			ts := base.Add(d).UnixMilli()
			for i, s := range all {
				pts = append(pts, pt(ts, v(ts, i), "__name__", "cpu", "host", s.host, "core", s.core))
			}
		}
		if err := db.Write(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Values noisy enough that chunks are not trivially small.
	noisy := func(ts int64, i int) float64 { return float64((ts/1000*7919+int64(i)*104729)%100003) / 8 }
	write(0, 3*time.Hour, 10*time.Second, noisy)
	write(0, 3*time.Hour, 20*time.Second, func(ts int64, i int) float64 { return noisy(ts, i) + 0.5 })
	write(5*time.Second, time.Hour, 30*time.Second, func(ts int64, i int) float64 { return -noisy(ts, i) })
	return cfg, clock, db
}

var allSeries = MustNewMatcher(MatchRegexp, "__name__", ".+")

// exportAll reads every sample of every series.
func exportAll(t testing.TB, db *DB) map[string][]Sample {
	t.Helper()
	ss, err := db.Select(context.Background(), MinTime, MaxTime, allSeries)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	out := make(map[string][]Sample)
	for ss.Next() {
		s := ss.At()
		it := s.Iterator()
		out[s.Labels.String()] = it.Samples(nil)
		if err := it.Err(); err != nil {
			t.Fatalf("iterate %s: %v", s.Labels, err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("select: %v", err)
	}
	return out
}

// sameExport fails the test at the first difference between two exports.
func sameExport(t testing.TB, stage string, want, got map[string][]Sample) {
	t.Helper()
	if err := diffExport(want, got); err != nil {
		t.Fatalf("%s: %v", stage, err)
	}
}

// diffExport describes the first difference between two exports.
func diffExport(want, got map[string][]Sample) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d series, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !sameSamples(w, g) {
			return fmt.Errorf("series %s: %d samples, want %d (first difference at %d)", k, len(g), len(w), firstDiff(w, g))
		}
	}
	return nil
}

// exportOf reads every sample of the series matching ms; an error reading
// is returned as a series named "error" holding nothing.
func exportOf(db *DB, ms ...*Matcher) map[string][]Sample {
	out := make(map[string][]Sample)
	ss, err := db.Select(context.Background(), MinTime, MaxTime, ms...)
	if err != nil {
		return map[string][]Sample{"error: " + err.Error(): nil}
	}
	for ss.Next() {
		s := ss.At()
		it := s.Iterator()
		out[s.Labels.String()] = it.Samples(nil)
		if err := it.Err(); err != nil {
			return map[string][]Sample{"error: " + err.Error(): nil}
		}
	}
	if err := ss.Err(); err != nil {
		return map[string][]Sample{"error: " + err.Error(): nil}
	}
	return out
}

// flushBuckets returns the number of complete flush buckets of each epoch
// of the only day file.
func flushBuckets(t testing.TB, db *DB) map[int64]int {
	t.Helper()
	parts := db.parts.sorted()
	if len(parts) != 1 {
		t.Fatalf("%d day files, want 1", len(parts))
	}
	p := parts[0]
	p.mu.RLock()
	metas, _, err := p.readMetas()
	p.mu.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int64]int)
	for name := range metas {
		start, _, _ := parseBucketName([]byte(name))
		out[start]++
	}
	return out
}

func dayFile(t testing.TB, db *DB) (string, []byte) {
	t.Helper()
	p := db.parts.sorted()[0].path
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestDB_Compact_MergesFlushBuckets(t *testing.T) {
	_, _, db := compactFixture(t)
	defer db.Close()
	ctx := context.Background()
	before := flushBuckets(t, db)
	if len(before) != 3 || before[epochOf(t0.Add(-4*time.Hour).UnixMilli())] != 3 {
		t.Fatalf("fixture: buckets by epoch %v, want 3 epochs, the first in 3 buckets", before)
	}
	want := exportAll(t, db)

	// Reads and ingest go on during the compaction.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	reads := 0
	wg.Go(func() {
		for ; ; reads++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := diffExport(want, exportOf(db, eq("__name__", "cpu"))); err != nil {
				t.Errorf("read %d during compaction: %v", reads, err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := range 200 {
			ts := t0.Add(3*time.Hour-time.Minute).UnixMilli() + int64(i)
			if err := db.Write(ctx, []Point{pt(ts, 1, "__name__", "mem", "host", "x")}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	st, err := db.Compact(ctx)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reads during the compaction", reads)
	if st.Days != 1 || st.BucketsBefore != 7 || st.BucketsAfter != 3 {
		t.Fatalf("compact: %+v, want 1 day, 7 buckets merged into 3", st)
	}
	for start, n := range flushBuckets(t, db) {
		if n != 1 {
			t.Fatalf("epoch %d in %d buckets after compaction", start, n)
		}
	}
	got := readAll(t, db, MinTime, MaxTime, eq("__name__", "cpu"))
	sameExport(t, "after compaction", want, got)
	if st, err := db.Compact(ctx); err != nil || st.Days != 0 {
		t.Fatalf("second compaction: %+v %v, want nothing to do", st, err)
	}
}

func TestDB_Compact_DropsDeletedData(t *testing.T) {
	cfg, clock, db := compactFixture(t)
	ctx := context.Background()
	if n, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil || n != 40 {
		t.Fatalf("delete: %d %v", n, err)
	}
	want := exportAll(t, db)
	if len(want) != 20 {
		t.Fatalf("deleted series still read: %d series", len(want))
	}
	path, raw := dayFile(t, db)
	if !bytes.Contains(raw, []byte(secretHost)) {
		t.Fatalf("fixture: %s does not name %s before compaction", path, secretHost)
	}
	st, err := db.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, raw2 := dayFile(t, db)
	t.Logf("day file %d -> %d bytes (%+v)", len(raw), len(raw2), st)
	if len(raw2) >= len(raw) || st.BytesAfter >= st.BytesBefore {
		t.Fatalf("day file %d -> %d bytes: not smaller", len(raw), len(raw2))
	}
	if bytes.Contains(raw2, []byte(secretHost)) {
		t.Fatalf("%s still names %s after compaction", path, secretHost)
	}
	if st.SamplesDropped == 0 || st.TombstonesDropped != 1 || db.Tombstones() != 0 {
		t.Fatalf("compact: %+v, %d tombstones left; want deleted samples dropped and the tombstone with them", st, db.Tombstones())
	}
	sameExport(t, "after compaction", want, exportAll(t, db))
	var metrics strings.Builder
	if err := db.WriteMetrics(ctx, &metrics); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"outpost_tsdb_compactions_total 1", "outpost_tsdb_tombstones 0", "outpost_tsdb_tombstones_dropped_total 1"} {
		if !strings.Contains(metrics.String(), "\n"+line+"\n") {
			t.Errorf("metrics lack %q", line)
		}
	}
	if !strings.Contains(metrics.String(), "outpost_tsdb_compaction_reclaimed_bytes_total ") ||
		strings.Contains(metrics.String(), "outpost_tsdb_compaction_reclaimed_bytes_total 0\n") {
		t.Errorf("no reclaimed bytes in metrics")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, cfg, clock)
	defer db.Close()
	sameExport(t, "after restart", want, exportAll(t, db))
	if db.Tombstones() != 0 {
		t.Fatalf("%d tombstones after restart", db.Tombstones())
	}
}

func TestDB_Compact_IndexLostKeepsDeletes(t *testing.T) {
	cfg, clock, db := compactFixture(t)
	ctx := context.Background()
	if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil {
		t.Fatal(err)
	}
	want := exportAll(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cfg.Path + "/index.db"); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, cfg, clock)
	if db.Tombstones() != 1 {
		t.Fatalf("rebuilt index: %d tombstones, want the one the day file holds", db.Tombstones())
	}
	sameExport(t, "index rebuilt", want, exportAll(t, db))
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	sameExport(t, "compacted", want, exportAll(t, db))
	db.Close()
	if err := os.Remove(cfg.Path + "/index.db"); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, cfg, clock)
	defer db.Close()
	if db.Tombstones() != 0 {
		t.Fatalf("index rebuilt after compaction: %d tombstones, want none", db.Tombstones())
	}
	sameExport(t, "compacted, index rebuilt", want, exportAll(t, db))
}

func TestDB_Delete_BeforeFlush_NothingWritten(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	cfg := testConfig(t.TempDir())
	db := openTestDB(t, cfg, clock)
	defer db.Close()
	ctx := context.Background()
	var pts []Point
	for i := range 360 {
		ts := t0.UnixMilli() + int64(i)*10_000
		pts = append(pts, pt(ts, 1, "__name__", "cpu", "host", secretHost), pt(ts, 2, "__name__", "cpu", "host", "kept"))
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The flush left the deleted samples out, so the tombstone goes
	// without a rewrite.
	st, err := db.Compact(ctx)
	if err != nil || st.Days != 0 || st.TombstonesDropped != 1 {
		t.Fatalf("compact: %+v %v, want no rewrite and the tombstone dropped", st, err)
	}
	got := exportAll(t, db)
	if len(got) != 1 || len(got[`cpu{host="kept"}`]) != 360 {
		t.Fatalf("after delete and flush: %d series", len(got))
	}
	if _, raw := dayFile(t, db); bytes.Contains(raw, []byte(secretHost)) {
		t.Fatalf("the flush wrote the labels of a series with no sample left")
	}
}

func TestDB_Compact_FailureBetweenSteps(t *testing.T) {
	for _, step := range []string{"epoch", "written", "renamed"} {
		t.Run(step, func(t *testing.T) {
			cfg, clock, db := compactFixture(t)
			ctx := context.Background()
			if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil {
				t.Fatal(err)
			}
			want := exportAll(t, db)
			injected := errors.New("injected failure")
			db.testHook = func(s string) error {
				if s == step {
					return injected
				}
				return nil
			}
			if _, err := db.Compact(ctx); !errors.Is(err, injected) {
				t.Fatalf("compact: %v, want the injected failure", err)
			}
			sameExport(t, "after the failure", want, exportAll(t, db))
			db.Close()
			db = openTestDB(t, cfg, clock)
			defer db.Close()
			sameExport(t, "after restart", want, exportAll(t, db))
			if _, err := db.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			sameExport(t, "compacted", want, exportAll(t, db))
			if _, raw := dayFile(t, db); bytes.Contains(raw, []byte(secretHost)) {
				t.Fatal("deleted series still in the day file")
			}
		})
	}
}

func TestDB_Maintain_Compacts(t *testing.T) {
	_, _, db := compactFixture(t)
	defer db.Close()
	want := exportAll(t, db)
	if err := db.maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
	for start, n := range flushBuckets(t, db) {
		if n != 1 {
			t.Fatalf("epoch %d in %d buckets after the background compaction", start, n)
		}
	}
	sameExport(t, "after the background compaction", want, exportAll(t, db))
}

// TestDB_Delete_HeadOnly_CrashAndIndexLost deletes a series that is only
// in the head and the WAL, then takes a crash image and loses index.db in
// it: the tombstone written to the (new) day file of the head's day keeps
// the replayed samples hidden, and the flush that follows leaves them out.
func TestDB_Delete_HeadOnly_CrashAndIndexLost(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	ctx := context.Background()
	var pts []Point
	for i := range 360 {
		ts := t0.UnixMilli() + int64(i)*10_000
		pts = append(pts, pt(ts, 1, "__name__", "cpu", "host", secretHost), pt(ts, 2, "__name__", "cpu", "host", "kept"))
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", secretHost)}); err != nil {
		t.Fatal(err)
	}
	want := exportAll(t, db)
	crash := copyDir(t, db.cfg.Path) // every acknowledged write and the delete are synced
	db.Close()
	if err := os.Remove(filepath.Join(crash, "index.db")); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, testConfig(crash), clock)
	defer db.Close()
	if db.Tombstones() != 1 {
		t.Fatalf("index.db rebuilt: %d tombstones, want the one of the day file", db.Tombstones())
	}
	sameExport(t, "crash image, index.db lost", want, exportAll(t, db))
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	sameExport(t, "flushed and compacted", want, exportAll(t, db))
	if db.Tombstones() != 0 {
		t.Fatalf("%d tombstones left after the flush dropped the deleted samples", db.Tombstones())
	}
}
