package tsdb

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"
)

// batchSamples reads an iterator with NextBatch, skipping to skip first
// when it is not MinTime.
func batchSamples(t *testing.T, it *Iterator, skip int64) []Sample {
	t.Helper()
	if skip != MinTime {
		it.SkipTo(skip)
	}
	var out []Sample
	for {
		ts, vs, ok := it.NextBatch()
		if !ok {
			break
		}
		if len(ts) == 0 || len(ts) != len(vs) {
			t.Fatalf("NextBatch gave %d timestamps and %d values", len(ts), len(vs))
		}
		for i := range ts {
			out = append(out, Sample{ts[i], vs[i]})
		}
	}
	if err := it.Err(); err != nil {
		t.Fatalf("NextBatch: %v", err)
	}
	return out
}

func TestIterator_NextBatch_MatchesNext(t *testing.T) {
	clock := newTestClock(t0.Add(12 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	start := t0.UnixMilli()
	s := []string{"__name__", "m", "host", "a"}
	r := rand.New(rand.NewPCG(5, 6))
	var pts, late []Point
	for i := range 4 * 360 { // four epochs at 10 s
		p := pt(start+int64(i)*10_000, r.Float64(), s...)
		if i%7 == 3 {
			late = append(late, p)
			continue
		}
		pts = append(pts, p)
	}
	// Epochs in partitions, late samples in a second flush of the same
	// epochs, and more late samples left in the head.
	for _, batch := range [][]Point{pts, late[:len(late)/2]} {
		if err := db.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if err := db.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Write(ctx, late[len(late)/2:]); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name             string
		mint, maxt, skip int64
	}{
		{"all", MinTime, MaxTime, MinTime},
		{"clipped", start + 95*60_000 + 5, start + 170*60_000, MinTime},
		{"skip two epochs", start, MaxTime, start + 2*3600_000 + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ss, err := db.Select(ctx, c.mint, c.maxt, eq("host", "a"))
			if err != nil || !ss.Next() {
				t.Fatalf("select: %v", err)
			}
			want := ss.At().Iterator().Samples(nil)
			if c.skip != MinTime {
				for len(want) > 0 && want[0].T < c.skip-c.skip%3600_000 {
					want = want[1:]
				}
			}
			got := batchSamples(t, ss.At().Iterator(), c.skip)
			if !sameSamples(got, want) {
				i := firstDiff(got, want)
				t.Fatalf("NextBatch gave %d samples, Next %d; first difference at %d", len(got), len(want), i)
			}
			if len(want) == 0 {
				t.Fatal("no samples selected")
			}
		})
	}
}

func TestMergeNewer(t *testing.T) {
	f := func(aT []int64, aV []float64, bT []int64, bV []float64, wantT []int64, wantV []float64) {
		t.Helper()
		gotT, gotV := mergeNewer(aT, aV, bT, bV, nil, nil)
		var got, want []Sample
		for i := range gotT {
			got = append(got, Sample{gotT[i], gotV[i]})
		}
		for i := range wantT {
			want = append(want, Sample{wantT[i], wantV[i]})
		}
		if !sameSamples(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	f(nil, nil, []int64{1, 2}, []float64{1, 2}, []int64{1, 2}, []float64{1, 2})
	f([]int64{1, 2}, []float64{1, 2}, nil, nil, []int64{1, 2}, []float64{1, 2})
	f([]int64{5, 6}, []float64{5, 6}, []int64{1, 2}, []float64{1, 2}, []int64{1, 2, 5, 6}, []float64{1, 2, 5, 6})
	f([]int64{1, 3, 5}, []float64{1, 3, 5}, []int64{2, 3, 6}, []float64{20, 30, 60},
		[]int64{1, 2, 3, 5, 6}, []float64{1, 20, 30, 5, 60})
	f([]int64{1, 2}, []float64{1, 2}, []int64{2}, []float64{9}, []int64{1, 2}, []float64{1, 9})
}
