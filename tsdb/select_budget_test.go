package tsdb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// testBudget is a ReadBudget with a limit that records its peak.
type testBudget struct {
	limit, used, peak int64
}

var errTestBudget = errors.New("test budget spent")

func (b *testBudget) Reserve(n int64) error {
	if b.used+n > b.limit {
		return errTestBudget
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	return nil
}

func (b *testBudget) Release(n int64) {
	b.used -= n
	if b.used < 0 {
		panic(fmt.Sprintf("budget released %d more bytes than reserved", -b.used))
	}
}

// loadBatchDB writes series series of 30 samples over two epochs, flushes
// them to a day file, then writes a third epoch and a late sample of the
// first into the head: every series has chunks in both places.
func loadBatchDB(t *testing.T, series int) (*DB, int64) {
	t.Helper()
	db := openTestDB(t, testConfig(t.TempDir()), newTestClock(t0.Add(12*time.Hour)))
	t.Cleanup(func() { db.Close() })
	start := t0.UnixMilli()
	var pts []Point
	for s := range series {
		for i := range 30 {
			pts = append(pts, pt(start+int64(i)*240_000, float64(s*1000+i), "__name__", "m", "id", fmt.Sprintf("%05d", s)))
		}
	}
	if err := db.Write(t.Context(), pts); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	pts = pts[:0]
	for s := range series {
		id := fmt.Sprintf("%05d", s)
		pts = append(pts, pt(start+60_000, -1, "__name__", "m", "id", id)) // late, into the flushed epoch
		for i := range 10 {
			pts = append(pts, pt(start+2*3600_000+int64(i)*60_000, float64(s*1000+100+i), "__name__", "m", "id", id))
		}
	}
	if err := db.Write(t.Context(), pts); err != nil {
		t.Fatal(err)
	}
	return db, start
}

// collect reads ss with NextBatch, returning each series' string and
// samples in order, and the number of batches; check runs after each
// batch is read.
func collect(t *testing.T, ss *SeriesSet, check func()) (names []string, samples map[string][]Sample, batches int) {
	t.Helper()
	samples = make(map[string][]Sample)
	for b := ss.NextBatch(); b != nil; b = ss.NextBatch() {
		if check != nil {
			check()
		}
		batches++
		for _, s := range b {
			names = append(names, s.Labels.String())
			samples[s.Labels.String()] = s.Iterator().Samples(nil)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatalf("iterate: %v", err)
	}
	return names, samples, batches
}

func TestDB_SelectWith_Batches(t *testing.T) {
	const series = 300
	db, start := loadBatchDB(t, series)
	ctx := t.Context()
	mint, maxt := start+30_000, MaxTime
	ref, err := db.Select(ctx, mint, maxt, eq("__name__", "m"))
	if err != nil {
		t.Fatal(err)
	}
	wantNames, want, wantBatches := collect(t, ref, nil)
	if len(wantNames) != series || wantBatches != 1 {
		t.Fatalf("Select: %d series in %d batches, want %d in one", len(wantNames), wantBatches, series)
	}
	for _, name := range wantNames[:3] {
		if n := len(want[name]); n != 30+10 { // 29 in range, the late one, 10 in the head
			t.Fatalf("%s: %d samples, want 40", name, n)
		}
	}

	t.Run("small batches read the same", func(t *testing.T) {
		b := &testBudget{limit: 1 << 30}
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: b, BatchBytes: 16 << 10}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		if ss.Len() != series || b.used != 0 {
			t.Errorf("Len = %d, %d bytes reserved; want %d and nothing read yet", ss.Len(), b.used, series)
		}
		var held int64
		names, got, batches := collect(t, ss, func() {
			// The batch in use and the one read ahead share the batch size.
			held = max(held, ss.held+ss.aheadHeld)
			if b.used != ss.base+ss.held+ss.aheadHeld {
				t.Errorf("budget holds %d bytes, the set %d", b.used, ss.base+ss.held+ss.aheadHeld)
			}
		})
		if batches < 5 {
			t.Errorf("%d batches, want several of 16 KiB", batches)
		}
		if fmt.Sprint(names) != fmt.Sprint(wantNames) {
			t.Fatalf("order differs:\n got %v\nwant %v", names[:5], wantNames[:5])
		}
		for name, w := range want {
			if !sameSamples(got[name], w) {
				t.Fatalf("%s: got %v, want %v", name, got[name], w)
			}
		}
		if held > 16<<10 {
			t.Errorf("a batch and the next held %d bytes, over the batch size of 16 KiB", held)
		}
		if b.used != 0 {
			t.Errorf("%d bytes still reserved after the iteration", b.used)
		}
	})

	t.Run("budget refuses a batch", func(t *testing.T) {
		b := &testBudget{limit: 300*entryCost + 4<<10} // the list fits, not one batch of 300 series
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: b}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		if ss.Next() {
			t.Fatal("Next read a batch over the budget")
		}
		if !errors.Is(ss.Err(), errTestBudget) {
			t.Fatalf("Err = %v, want the budget's error", ss.Err())
		}
		if b.used != 0 {
			t.Errorf("%d bytes still reserved after the refusal", b.used)
		}
	})

	t.Run("budget refuses the series list", func(t *testing.T) {
		b := &testBudget{limit: 1 << 10}
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: b}, []*Matcher{eq("__name__", "m")})
		if err != nil || ss.Len() != series {
			t.Fatalf("SelectWith: %v, Len %d; want %d series found, nothing read", err, ss.Len(), series)
		}
		if ss.Next() || !errors.Is(ss.Err(), errTestBudget) {
			t.Fatalf("Next: Err = %v, want the budget's error", ss.Err())
		}
		if b.used != 0 {
			t.Errorf("%d bytes still reserved after the refusal", b.used)
		}
	})

	t.Run("canceled between batches", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctx)
		b := &testBudget{limit: 1 << 30}
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: b, BatchBytes: 16 << 10}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		if ss.NextBatch() == nil {
			t.Fatal(ss.Err())
		}
		cancel() // the next batch may be being read ahead
		if ss.NextBatch() != nil || !errors.Is(ss.Err(), context.Canceled) {
			t.Fatalf("after cancel: Err = %v", ss.Err())
		}
		if b.used != 0 {
			t.Errorf("%d bytes still reserved after the cancellation", b.used)
		}
	})

	t.Run("budget refuses reading ahead", func(t *testing.T) {
		// The list and one batch fit, not two: the set reads one batch at
		// a time and fails nothing.
		probe := &testBudget{limit: 1 << 30}
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: probe, BatchBytes: 64 << 10}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		if ss.NextBatch() == nil {
			t.Fatal(ss.Err())
		}
		// 64 KiB batches, so that the estimate of the list fits too.
		b := &testBudget{limit: ss.base + ss.held + 1<<10}
		if b.limit < 300*entryCost {
			t.Fatalf("the list's estimate (%d bytes) does not fit %d", 300*entryCost, b.limit)
		}
		ss, err = db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, Budget: b, BatchBytes: 64 << 10}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		names, got, _ := collect(t, ss, func() {
			if ss.ahead != nil {
				t.Errorf("a batch was read ahead past the budget (%d of %d bytes held)", b.used, b.limit)
			}
		})
		if fmt.Sprint(names) != fmt.Sprint(wantNames) {
			t.Fatalf("read %d series, want %d", len(names), len(wantNames))
		}
		for name, w := range want {
			if !sameSamples(got[name], w) {
				t.Fatalf("%s: got %v, want %v", name, got[name], w)
			}
		}
		if b.used != 0 {
			t.Errorf("%d bytes still reserved after the iteration", b.used)
		}
	})

	t.Run("series read after its batch", func(t *testing.T) {
		ss, err := db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt, BatchBytes: 16 << 10}, []*Matcher{eq("__name__", "m")})
		if err != nil {
			t.Fatal(err)
		}
		first := ss.NextBatch()
		if first == nil {
			t.Fatal(ss.Err())
		}
		old, it := first[0], first[0].Iterator()
		if !it.Next() {
			t.Fatalf("first series: %v", it.Err())
		}
		// Two batches on, the first batch's arena holds another batch.
		if ss.NextBatch() == nil || ss.NextBatch() == nil {
			t.Fatal(ss.Err())
		}
		if n := len(old.Iterator().Samples(nil)); n != 0 {
			t.Errorf("a series of a batch given back yielded %d samples", n)
		}
		for it.Next() {
		}
		if !errors.Is(it.Err(), ErrBatchReleased) {
			t.Errorf("iterator of a series of a batch given back: Err = %v, want ErrBatchReleased", it.Err())
		}
		if s := old.Labels.String(); s != wantNames[0] {
			t.Errorf("labels of a series of a batch given back: %s, want %s", s, wantNames[0])
		}
	})
}

func TestDB_SelectWith_UnsortedUnion(t *testing.T) {
	db, start := loadBatchDB(t, 40)
	b := &testBudget{limit: 1 << 30}
	sets := [][]*Matcher{
		{eq("id", "00003")},
		{MustNewMatcher(MatchRegexp, "id", "0000[0-9]")},
		{eq("id", "00031")},
	}
	ss, err := db.SelectWith(t.Context(), SelectOptions{Mint: start, Maxt: MaxTime, Budget: b, Unsorted: true, BatchBytes: 2 << 10}, sets...)
	if err != nil {
		t.Fatal(err)
	}
	if b.used != 0 {
		t.Errorf("an unsorted Select reserved %d bytes before its first batch", b.used)
	}
	var got []string
	for ss.Next() {
		if ss.held > 2<<10 && ss.bi == 0 && len(ss.batch) > 1 {
			t.Errorf("a batch of %d series held %d bytes, over its 2 KiB", len(ss.batch), ss.held)
		}
		s := ss.At()
		got = append(got, s.Labels.Get("id"))
		if n := len(s.Iterator().Samples(nil)); n != 41 {
			t.Errorf("%s: %d samples, want 41", s.Labels, n)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	// Series IDs follow creation order, which is id order here.
	want := "[00000 00001 00002 00003 00004 00005 00006 00007 00008 00009 00031]"
	if fmt.Sprint(got) != want {
		t.Errorf("series %v, want %s", got, want)
	}
	if b.used != 0 {
		t.Errorf("%d bytes still reserved after the iteration", b.used)
	}
}
