package tsdb

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestDB_Write_SelfSeriesPastLimit(t *testing.T) {
	clock := newTestClock(t0)
	cfg := testConfig(t.TempDir())
	cfg.MaxSeries = 10
	db := openTestDB(t, cfg, clock)
	defer db.Close()
	ctx := context.Background()
	now := clock.Now().UnixMilli()
	var full []Point
	for i := range 10 {
		full = append(full, pt(now, float64(i), "__name__", "m", "i", fmt.Sprint(i)))
	}
	if err := db.Write(ctx, full); err != nil {
		t.Fatalf("filling the store: %v", err)
	}
	// At the limit, a sender's new series is refused while outpost's own
	// counter of that refusal is stored, in the same write.
	err := db.Write(ctx, []Point{
		pt(now, 1, "__name__", "m", "i", "over"),
		pt(now, 1, "__name__", "outpost_ingest_rejected_total", "protocol", "influx", "reason", "too_many_series", "what", "samples"),
	})
	var pe *PartialWriteError
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooManySeries) || pe.Dropped != 1 {
		t.Fatalf("write at the limit: %v, want the sender's point alone refused", err)
	}
	if got := readAll(t, db, MinTime, MaxTime, eq("__name__", "outpost_ingest_rejected_total")); len(got) != 1 {
		t.Fatalf("outpost's own series: got %v", got)
	}
	// The allowance is bounded: past it, outpost_ series are refused too.
	var self []Point
	for i := range SelfSeriesAllowance {
		self = append(self, pt(now, 1, "__name__", "outpost_x", "i", fmt.Sprint(i)))
	}
	err = db.Write(ctx, self)
	if !errors.As(err, &pe) || !errors.Is(err, ErrTooManySeries) || pe.Dropped != 1 {
		t.Fatalf("write past the allowance: %v, want exactly one point refused", err)
	}
}
