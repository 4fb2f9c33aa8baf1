package tsdb

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestDB_Select_ManySeries selects enough series for the parallel
// partition read and checks every series and sample comes back once.
func TestDB_Select_ManySeries(t *testing.T) {
	clock := newTestClock(t0.Add(12 * time.Hour))
	db := openTestDB(t, testConfig(t.TempDir()), clock)
	defer db.Close()
	ctx := context.Background()
	const series, samples = 1500, 30
	start := t0.UnixMilli()
	var pts []Point
	for s := range series {
		for i := range samples {
			// Two epochs, the second only for even series.
			ts := start + int64(i)*240_000
			if ts >= start+3600_000 && s%2 == 1 {
				continue
			}
			pts = append(pts, pt(ts, float64(s*1000+i), "__name__", "m", "id", fmt.Sprintf("%05d", s)))
		}
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, db, start+60_000, MaxTime, eq("__name__", "m"))
	if len(got) != series {
		t.Fatalf("selected %d series, want %d", len(got), series)
	}
	for s := range series {
		ss := got[fmt.Sprintf(`m{id="%05d"}`, s)]
		want := samples - 1 // the first sample is before mint
		if s%2 == 1 {
			want = 15 - 1 // 15 samples fall in the first hour
		}
		if len(ss) != want {
			t.Fatalf("series %d: %d samples, want %d", s, len(ss), want)
		}
		for i, smp := range ss {
			if smp.V != float64(s*1000+i+1) || smp.T != start+int64(i+1)*240_000 {
				t.Fatalf("series %d sample %d: %v", s, i, smp)
			}
		}
	}
}
