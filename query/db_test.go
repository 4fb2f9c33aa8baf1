package query

import (
	"context"
	"testing"
	"time"

	"outpost/tsdb"
)

// openTestDB opens a real store in a temporary directory whose clock reads
// now, so samples around now are within retention.
func openTestDB(t testing.TB, now time.Time) *tsdb.DB {
	t.Helper()
	cfg := tsdb.DefaultConfig()
	cfg.Path = t.TempDir()
	cfg.Retention = 3650 * 24 * time.Hour
	cfg.MaxFuture = 3650 * 24 * time.Hour
	db, err := tsdb.Open(cfg, tsdb.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("open tsdb: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close tsdb: %v", err)
		}
	})
	return db
}

// writePoints writes pts and fails the test on error.
func writePoints(t testing.TB, db *tsdb.DB, pts []tsdb.Point) {
	t.Helper()
	for len(pts) > 0 {
		n := min(len(pts), 50_000)
		if err := db.Write(context.Background(), pts[:n]); err != nil {
			t.Fatalf("write: %v", err)
		}
		pts = pts[n:]
	}
}

// series returns points of one series: values at start, start+step, ...
func seriesPoints(ls tsdb.Labels, start time.Time, step time.Duration, vs ...float64) []tsdb.Point {
	pts := make([]tsdb.Point, len(vs))
	for i, v := range vs {
		pts[i] = tsdb.Point{Labels: ls, T: start.Add(time.Duration(i) * step).UnixMilli(), V: v}
	}
	return pts
}
