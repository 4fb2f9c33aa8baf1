package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a settable clock for Options.Now.
type testClock struct{ ms atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ms.Store(t.UnixMilli())
	return c
}

func (c *testClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Path = dir
	cfg.EpochGrace = 0
	return cfg
}

func openTestDB(t *testing.T, cfg Config, clock *testClock) *DB {
	t.Helper()
	db, err := Open(cfg, Options{Now: clock.Now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

func pt(t int64, v float64, nv ...string) Point {
	return Point{Labels: FromStrings(nv...), T: t, V: v}
}

// readAll returns every sample of the series matching ms, by series string.
func readAll(t *testing.T, db *DB, mint, maxt int64, ms ...*Matcher) map[string][]Sample {
	t.Helper()
	ss, err := db.Select(context.Background(), mint, maxt, ms...)
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
	return out
}

func eq(name, value string) *Matcher { return MustNewMatcher(MatchEqual, name, value) }

func sameSamples(a, b []Sample) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].T != b[i].T || math.Float64bits(a[i].V) != math.Float64bits(b[i].V) {
			return false
		}
	}
	return true
}

var t0 = time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)

func TestDB_Write_ReadBack(t *testing.T) {
	clock := newTestClock(t0.Add(3 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	var want []Sample
	var pts []Point
	for i := range 720 { // 2 h at 10 s
		ts := t0.UnixMilli() + int64(i)*10_000
		pts = append(pts, pt(ts, float64(i)*1.5, "__name__", "cpu_usage", "host", "a"))
		pts = append(pts, pt(ts, 1, "__name__", "cpu_usage", "host", "b"))
		want = append(want, Sample{ts, float64(i) * 1.5})
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	check := func(stage string) {
		t.Helper()
		got := readAll(t, db, MinTime, MaxTime, eq("__name__", "cpu_usage"), eq("host", "a"))
		if len(got) != 1 || !sameSamples(got[`cpu_usage{host="a"}`], want) {
			t.Fatalf("%s: got %d series, %d samples; want 1 series, %d samples", stage, len(got), len(got[`cpu_usage{host="a"}`]), len(want))
		}
		// A bounded range returns only its samples.
		got = readAll(t, db, want[10].T, want[19].T, eq("host", "a"))
		if s := got[`cpu_usage{host="a"}`]; !sameSamples(s, want[10:20]) {
			t.Fatalf("%s: range read got %v", stage, s)
		}
	}
	check("head")
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openTestDB(t, testConfig(db.cfg.Path), clock)
	check("reopened")
}

func TestDB_Write_LateAndOutOfOrder(t *testing.T) {
	clock := newTestClock(t0.Add(12 * time.Hour))
	dir := t.TempDir()
	db := openTestDB(t, testConfig(dir), clock)
	defer func() { db.Close() }()
	ctx := context.Background()
	now := clock.Now().UnixMilli()
	s := []string{"__name__", "temp", "room", "lab"}
	// Newest first: the current hour, flushed; then samples six hours old,
	// out of order, written after.
	if err := db.Write(ctx, []Point{pt(now-1000, 20, s...), pt(now, 21, s...)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	old := now - 6*3600_000
	late := []Point{pt(old+30_000, 3, s...), pt(old, 1, s...), pt(old+10_000, 2, s...), pt(old+10_000, 2.5, s...)}
	if err := db.Write(ctx, late); err != nil {
		t.Fatal(err)
	}
	want := []Sample{{old, 1}, {old + 10_000, 2.5}, {old + 30_000, 3}, {now - 1000, 20}, {now, 21}}
	check := func(stage string) {
		t.Helper()
		got := readAll(t, db, MinTime, MaxTime, eq("room", "lab"))[`temp{room="lab"}`]
		if !sameSamples(got, want) {
			t.Fatalf("%s: got %v, want %v", stage, got, want)
		}
	}
	check("head")
	// A rewrite of an already flushed timestamp wins over the flushed value.
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Write(ctx, []Point{pt(now, 22, s...)}); err != nil {
		t.Fatal(err)
	}
	want[4].V = 22
	check("after rewrite")
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	check("flushed twice")
	db.Close()
	db = openTestDB(t, testConfig(dir), clock)
	check("reopened")
}

func TestDB_Flush_DayBoundary(t *testing.T) {
	// 22:00 to 02:00 UTC: two day files, four epochs.
	clock := newTestClock(t0.Add(5 * time.Hour))
	dir := t.TempDir()
	db := openTestDB(t, testConfig(dir), clock)
	defer func() { db.Close() }()
	ctx := context.Background()
	var want []Sample
	for i := range 4 * 360 {
		ts := t0.UnixMilli() + int64(i)*10_000
		want = append(want, Sample{ts, float64(i % 7)})
		if err := db.Write(ctx, []Point{pt(ts, float64(i%7), "__name__", "m")}); err != nil {
			t.Fatal(err)
		}
	}
	// The background rule: past grace and idle -> sealed.
	clock.Advance(time.Minute)
	if err := db.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	for _, day := range []string{"20260301.db", "20260302.db"} {
		if _, err := os.Stat(filepath.Join(dir, "parts", day)); err != nil {
			t.Errorf("partition %s: %v", day, err)
		}
	}
	if got := readAll(t, db, MinTime, MaxTime, eq("__name__", "m"))["m{}"]; !sameSamples(got, want) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	// Across the day boundary, bounded.
	mid := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixMilli()
	got := readAll(t, db, mid-20_000, mid+20_000, eq("__name__", "m"))["m{}"]
	if len(got) != 5 || got[0].T != mid-20_000 || got[4].T != mid+20_000 {
		t.Fatalf("boundary read: %v", got)
	}
}

func TestDB_Retention_DeletesDayFiles(t *testing.T) {
	clock := newTestClock(t0)
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Retention = 2 * 24 * time.Hour
	db := openTestDB(t, cfg, clock)
	defer db.Close()
	ctx := context.Background()
	day1 := t0.Add(-time.Hour).UnixMilli()
	if err := db.Write(ctx, []Point{pt(day1, 1, "__name__", "m", "d", "1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(48 * time.Hour)
	if err := db.Write(ctx, []Point{pt(clock.Now().UnixMilli(), 2, "__name__", "m", "d", "3")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	oldFile := filepath.Join(dir, "parts", "20260301.db")
	if _, err := os.Stat(oldFile); err != nil {
		t.Fatalf("day file before retention: %v", err)
	}
	clock.Advance(2 * time.Hour) // 20260301 ends 50 h before now: past the 48 h retention
	if err := db.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(oldFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("expired day file still there: %v", err)
	}
	got := readAll(t, db, MinTime, MaxTime, eq("__name__", "m"))
	if len(got) != 1 || len(got[`m{d="3"}`]) != 1 {
		t.Fatalf("after retention: %v", got)
	}
	// Writes older than retention are refused, naming the reason.
	err := db.Write(ctx, []Point{pt(day1, 1, "__name__", "m")})
	var pe *PartialWriteError
	if !errors.As(err, &pe) || !errors.Is(err, ErrOutOfBounds) || pe.Dropped != 1 {
		t.Fatalf("old write: %v", err)
	}
}

func TestDB_Write_CardinalityLimit(t *testing.T) {
	clock := newTestClock(t0)
	cfg := testConfig(t.TempDir())
	cfg.MaxSeries = 10
	db := openTestDB(t, cfg, clock)
	defer db.Close()
	ctx := context.Background()
	now := clock.Now().UnixMilli()
	var pts []Point
	for i := range 12 {
		pts = append(pts, pt(now, float64(i), "__name__", "m", "i", fmt.Sprint(i)))
	}
	err := db.Write(ctx, pts)
	var pe *PartialWriteError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooManySeries) || pe.Dropped != 2 {
		t.Fatalf("write over the limit: %v", err)
	}
	// Existing series keep working.
	if err := db.Write(ctx, []Point{pt(now+1000, 5, "__name__", "m", "i", "3")}); err != nil {
		t.Fatalf("existing series after limit: %v", err)
	}
	if n := len(readAll(t, db, MinTime, MaxTime, eq("__name__", "m"))); n != 10 {
		t.Fatalf("got %d series, want 10", n)
	}
}

func TestDB_Write_BadPoints(t *testing.T) {
	clock := newTestClock(t0)
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	now := clock.Now().UnixMilli()
	f := func(p Point, want error) {
		t.Helper()
		err := db.Write(context.Background(), []Point{p, pt(now, 1, "__name__", "ok")})
		var pe *PartialWriteError
		if !errors.As(err, &pe) || !errors.Is(err, want) || pe.Dropped != 1 {
			t.Fatalf("write %v: got %v, want %v", p.Labels, err, want)
		}
	}
	f(pt(now, 1, "a", "b"), ErrNoMetricName)
	f(Point{Labels: Labels{{"__name__", "m"}, {"", "x"}}, T: now}, ErrEmptyLabelName)
	f(Point{Labels: Labels{{"b", "1"}, {"a", "2"}, {"__name__", "m"}}, T: now}, ErrUnsortedLabels)
	f(pt(now+2*3600_000, 1, "__name__", "m"), ErrOutOfBounds)
	// An empty label value means the label is absent, as in Prometheus.
	if err := db.Write(context.Background(), []Point{pt(now+1, 2, "__name__", "ok", "a", "")}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, db, MinTime, MaxTime, eq("__name__", "ok"))["ok{}"]; len(got) != 2 {
		t.Fatalf("good point of the same writes: %v", got)
	}
}

func TestDB_Listing_BoundedByTime(t *testing.T) {
	clock := newTestClock(t0.Add(10 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	early, late := t0.UnixMilli(), t0.Add(8*time.Hour).UnixMilli()
	if err := db.Write(ctx, []Point{pt(early, 1, "__name__", "a", "host", "h1", "old", "x"), pt(late, 1, "__name__", "b", "host", "h2")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	names, err := db.LabelNames(ctx, late-1000, late+1000)
	if err != nil || fmt.Sprint(names) != "[__name__ host]" {
		t.Fatalf("label names in the late range: %v %v", names, err)
	}
	vals, err := db.LabelValues(ctx, "host", MinTime, MaxTime)
	if err != nil || fmt.Sprint(vals) != "[h1 h2]" {
		t.Fatalf("host values: %v %v", vals, err)
	}
	series, err := db.Series(ctx, early, early, eq("host", "h1"))
	if err != nil || len(series) != 1 || series[0].Get("old") != "x" {
		t.Fatalf("series: %v %v", series, err)
	}
}

// TestDB_Write_ShuffledCompacts writes one series' hour in random order, in
// small batches as concurrent senders deliver it, with some timestamps
// rewritten, and reads it back sorted with the last writes winning, before
// and after the late samples are merged into the chunk and flushed.
func TestDB_Write_ShuffledCompacts(t *testing.T) {
	clock := newTestClock(t0.Add(2 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	const n = 3600
	want := make([]Sample, n)
	order := make([]int, 0, n+n/10)
	for i := range n {
		want[i] = Sample{t0.UnixMilli() + int64(i)*1000, float64(i)}
		order = append(order, i)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	// Every tenth timestamp is written again later with a new value.
	for i := 0; i < n; i += 10 {
		order = append(order, -i-1)
	}
	for k := 0; k < len(order); k += 50 {
		var pts []Point
		for _, i := range order[k:min(k+50, len(order))] {
			v := float64(i)
			if i < 0 {
				i = -i - 1
				v = float64(i) + 0.5
				want[i].V = v
			}
			pts = append(pts, pt(want[i].T, v, "__name__", "shuffled"))
		}
		if err := db.Write(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
	s := db.head.lookup(1)
	s.mu.Lock()
	late := len(s.chunks[0].ooo)
	s.mu.Unlock()
	if late >= n/4 {
		t.Errorf("%d late samples buffered: not compacted", late)
	}
	for _, stage := range []string{"head", "flushed"} {
		got := readAll(t, db, MinTime, MaxTime, eq("__name__", "shuffled"))["shuffled{}"]
		if !sameSamples(got, want) {
			t.Fatalf("%s: got %d samples, want %d (first diff at %d)", stage, len(got), len(want), firstDiff(got, want))
		}
		if err := db.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func firstDiff(a, b []Sample) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestDB_Write_Key checks that points carrying a Key land in the series
// their labels name, whether the key is new, cached, or absent.
func TestDB_Write_Key(t *testing.T) {
	clock := newTestClock(t0)
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	now := clock.Now().UnixMilli()
	kp := func(ts int64, v float64, key string, nv ...string) Point {
		p := pt(ts, v, nv...)
		if key != "" {
			p.Key = []byte(key)
		}
		return p
	}
	for i, batch := range [][]Point{
		{kp(now, 1, "t\x00a", "__name__", "m", "h", "a"), kp(now, 2, "t\x00b", "__name__", "m", "h", "b")},
		{kp(now+1, 3, "t\x00a", "__name__", "m", "h", "a"), kp(now+1, 4, "", "__name__", "m", "h", "b")},
		{kp(now+2, 5, "t\x00b", "__name__", "m", "h", "b"), kp(now+2, 6, "t\x00a2", "__name__", "m", "h", "a")},
	} {
		if err := db.Write(ctx, batch); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	got := readAll(t, db, MinTime, MaxTime, eq("__name__", "m"))
	want := map[string][]Sample{
		`m{h="a"}`: {{now, 1}, {now + 1, 3}, {now + 2, 6}},
		`m{h="b"}`: {{now, 2}, {now + 1, 4}, {now + 2, 5}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d series, want 2: %v", len(got), got)
	}
	for k, w := range want {
		if !sameSamples(got[k], w) {
			t.Errorf("%s: got %v, want %v", k, got[k], w)
		}
	}
	if n := db.NumSeries(); n != 2 {
		t.Errorf("%d series created, want 2", n)
	}
}
