package tsdb

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// deleteTestData writes 720 samples (2 h at 10 s) for hosts a and b of
// cpu and returns their timestamps.
func deleteTestData(t testing.TB, db *DB) []int64 {
	t.Helper()
	var ts []int64
	var pts []Point
	for i := range 720 {
		x := t0.UnixMilli() + int64(i)*10_000
		ts = append(ts, x)
		pts = append(pts, pt(x, float64(i), "__name__", "cpu", "host", "a"), pt(x, float64(i), "__name__", "cpu", "host", "b"))
	}
	if err := db.Write(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	return ts
}

// batchTimes reads the samples of the series matching ms through
// NextBatch, by series.
func batchTimes(t *testing.T, db *DB, mint, maxt int64, ms ...*Matcher) map[string][]int64 {
	t.Helper()
	ss, err := db.Select(context.Background(), mint, maxt, ms...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]int64{}
	for ss.Next() {
		s := ss.At()
		it := s.Iterator()
		for {
			ts, _, ok := it.NextBatch()
			if !ok {
				break
			}
			out[s.Labels.String()] = append(out[s.Labels.String()], ts...)
		}
	}
	return out
}

func TestDelete_PartialRange_PersistsAndReplays(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	cfg := testConfig(t.TempDir())
	db := openTestDB(t, cfg, clock)
	ctx := context.Background()
	ts := deleteTestData(t, db)
	n, err := db.DeleteSeries(ctx, ts[100], ts[199], []*Matcher{eq("host", "a")})
	if err != nil || n != 1 {
		t.Fatalf("delete: %d series, %v", n, err)
	}
	check := func(stage string) {
		t.Helper()
		got := readAll(t, db, MinTime, MaxTime, eq("__name__", "cpu"))
		if a, b := got[`cpu{host="a"}`], got[`cpu{host="b"}`]; len(a) != 620 || len(b) != 720 {
			t.Fatalf("%s: host a %d samples (want 620), b %d (want 720)", stage, len(a), len(b))
		}
		for _, s := range got[`cpu{host="a"}`] {
			if s.T >= ts[100] && s.T <= ts[199] {
				t.Fatalf("%s: deleted sample %v read", stage, s)
			}
		}
		bt := batchTimes(t, db, ts[50], ts[249], eq("host", "a"))
		if a := bt[`cpu{host="a"}`]; len(a) != 100 || slices.Contains(a, ts[150]) {
			t.Fatalf("%s: NextBatch read %d samples of host a in [50, 249], want 100", stage, len(a))
		}
		// SeekTo into the deleted range lands after it.
		ss, _ := db.Select(ctx, MinTime, MaxTime, eq("host", "a"))
		if !ss.Next() {
			t.Fatalf("%s: host a not selected", stage)
		}
		it := ss.At().Iterator()
		if !it.SeekTo(ts[150]) {
			t.Fatalf("%s: SeekTo found nothing", stage)
		}
		if x, _ := it.At(); x != ts[200] {
			t.Fatalf("%s: SeekTo(ts[150]) at %d, want ts[200]=%d", stage, x, ts[200])
		}
		// Within the deleted range host a has no data: not listed.
		series, err := db.Series(ctx, ts[100], ts[199], eq("__name__", "cpu"))
		if err != nil || len(series) != 1 || series[0].Get("host") != "b" {
			t.Fatalf("%s: series in the deleted range: %v, %v", stage, series, err)
		}
		vals, _ := db.LabelValues(ctx, "host", ts[120], ts[130])
		if !slices.Equal(vals, []string{"b"}) {
			t.Fatalf("%s: label values in the deleted range: %v", stage, vals)
		}
		if got := readAll(t, db, ts[100], ts[199], eq("host", "a")); len(got) != 0 {
			t.Fatalf("%s: select in the deleted range: %v", stage, got)
		}
		vals, _ = db.LabelValues(ctx, "host", ts[120], ts[200])
		if !slices.Equal(vals, []string{"a", "b"}) {
			t.Fatalf("%s: label values past the deleted range: %v", stage, vals)
		}
	}
	check("head")
	if err := db.Close(); err != nil { // the head is replayed from the WAL
		t.Fatal(err)
	}
	db = openTestDB(t, cfg, clock)
	check("replayed")
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, cfg, clock)
	defer db.Close()
	check("reopened")
	if db.Tombstones() != 1 {
		t.Fatalf("tombstones after reopen: %d", db.Tombstones())
	}
}

// A delete covers the data that existed when it ran: later samples with
// newer timestamps are visible, those inside the deleted range are not.
func TestDelete_WriteAfterDelete(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	ts := deleteTestData(t, db)
	if _, err := db.DeleteSeries(ctx, MinTime, MaxTime, []*Matcher{eq("host", "a")}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, db, MinTime, MaxTime, eq("host", "a")); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}
	now := clock.Now().UnixMilli()
	clock.Advance(time.Minute)
	if err := db.Write(ctx, []Point{pt(ts[5], 1, "__name__", "cpu", "host", "a"), pt(now+1000, 2, "__name__", "cpu", "host", "a")}); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db, MinTime, MaxTime, eq("host", "a"))
	if s := got[`cpu{host="a"}`]; len(s) != 1 || s[0].T != now+1000 {
		t.Fatalf("after write: %v, want only the sample at %d", got, now+1000)
	}
}

func TestDelete_NoMatchNoTombstone(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	deleteTestData(t, db)
	if n, err := db.DeleteSeries(context.Background(), MinTime, MaxTime, []*Matcher{eq("host", "zz")}); n != 0 || err != nil || db.Tombstones() != 0 {
		t.Fatalf("delete of nothing: %d, %v, %d tombstones", n, err, db.Tombstones())
	}
}

func TestDelete_HeadStats(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ts := deleteTestData(t, db)
	hs := db.HeadStats()
	if hs.Series != 2 || hs.Chunks < 2 || hs.MinTime != ts[0] || hs.MaxTime != ts[len(ts)-1] {
		t.Fatalf("head stats %+v, want 2 series, min %d max %d", hs, ts[0], ts[len(ts)-1])
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if hs := db.HeadStats(); hs != (HeadStats{}) {
		t.Fatalf("head stats after flush: %+v", hs)
	}
}

// BenchmarkDelete_SelectWithTombstones reads 200 series, half of them
// named by each of N tombstones.
func BenchmarkDelete_SelectWithTombstones(b *testing.B) {
	for _, n := range []int{0, 10, 1000} {
		b.Run(fmt.Sprintf("tombstones=%d", n), func(b *testing.B) {
			clock := newTestClock(t0.Add(3 * time.Hour))
			db, err := Open(testConfig(b.TempDir()), Options{Now: clock.Now, MaintainEvery: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			var pts []Point
			for s := range 200 {
				for i := range 360 {
					pts = append(pts, pt(t0.UnixMilli()+int64(i)*10_000, float64(i), "__name__", "cpu", "host", fmt.Sprint(s), "odd", fmt.Sprint(s%2)))
				}
			}
			if err := db.Write(ctx, pts); err != nil {
				b.Fatal(err)
			}
			for i := range n {
				x := t0.UnixMilli() + int64(i%360)*10_000
				if _, err := db.DeleteSeries(ctx, x, x, []*Matcher{eq("odd", "1")}); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for range b.N {
				ss, err := db.Select(ctx, MinTime, MaxTime, eq("__name__", "cpu"))
				if err != nil {
					b.Fatal(err)
				}
				var it *Iterator
				for ss.Next() {
					it = ss.At().ReuseIterator(it)
					for it.Next() {
					}
				}
			}
		})
	}
}

// FuzzDecodeTombstone checks that any tombstone value decodes or fails
// cleanly, and that what decodes encodes back to the same tombstone.
func FuzzDecodeTombstone(f *testing.F) {
	for _, t := range []tombstone{
		{ids: roaringOf(1, 2, 3), mint: MinTime, maxt: 1700000000000},
		{ids: roaringOf(), mint: 0, maxt: 0},
		{ids: roaringOf(1 << 31), mint: -5, maxt: MaxTime},
	} {
		v, err := encodeTombstone(t)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, v []byte) {
		ts, err := decodeTombstone(v)
		if err != nil {
			return
		}
		w, err := encodeTombstone(ts)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeTombstone(w)
		if err != nil || back.mint != ts.mint || back.maxt != ts.maxt || !back.ids.Equals(ts.ids) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func roaringOf(ids ...uint32) *roaring.Bitmap { return roaring.BitmapOf(ids...) }
