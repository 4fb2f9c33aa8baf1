package tsdb

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// statsNow is the clock of the stats tests.
var statsNow = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// writeStatsData writes series series of one sample every 10 s over the
// span before statsNow, across epochs (and days when span is long), and
// returns the number of samples written.
func writeStatsData(t *testing.T, db *DB, series int, span time.Duration) int {
	t.Helper()
	var pts []Point
	n := 0
	from := statsNow.Add(-span).UnixMilli()
	for ts := from; ts < statsNow.UnixMilli(); ts += 10_000 {
		for s := range series {
			pts = append(pts, pt(ts, float64(ts/1000%97+int64(s)), "__name__", fmt.Sprintf("stats_metric_%d", s%3),
				"host", fmt.Sprintf("h%d", s)))
		}
		if len(pts) >= 4000 {
			if err := db.Write(context.Background(), pts); err != nil {
				t.Fatal(err)
			}
			n += len(pts)
			pts = pts[:0]
		}
	}
	if err := db.Write(context.Background(), pts); err != nil {
		t.Fatal(err)
	}
	return n + len(pts)
}

func TestDB_Stats_BeforeAndAfterFlush(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, testConfig(t.TempDir()), newTestClock(statsNow))
	defer db.Close()
	const series = 12
	n := writeStatsData(t, db, series, 90*time.Minute)
	first := statsNow.Add(-90 * time.Minute)

	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if st.Series != series || st.HeadSeries != series || st.HeadSamples != int64(n) {
		t.Errorf("before flush: series %d, head series %d, head samples %d; want %d, %d, %d",
			st.Series, st.HeadSeries, st.HeadSamples, series, series, n)
	}
	if st.Samples != 0 || st.Flushes != 0 || len(st.Days) != 0 {
		t.Errorf("before flush: %d samples in %d flushes, %d days; want none", st.Samples, st.Flushes, len(st.Days))
	}
	if st.WALSegments < 1 || st.WALBytes == 0 || st.TotalBytes < st.WALBytes {
		t.Errorf("before flush: WAL %d segments, %d bytes, %d bytes in all", st.WALSegments, st.WALBytes, st.TotalBytes)
	}
	if !st.MinTime.Equal(first) || !st.MaxTime.Equal(statsNow.Add(-10*time.Second)) {
		t.Errorf("before flush: span %s to %s, want %s to %s", st.MinTime, st.MaxTime, first, statsNow.Add(-10*time.Second))
	}
	if st.Cardinality.MetricNames != 3 || len(st.Cardinality.Metrics) != 3 || st.Cardinality.Metrics[0].Series != series/3 {
		t.Errorf("before flush: cardinality %+v", st.Cardinality)
	}
	if l := st.Cardinality.Labels; len(l) != 2 || l[0].Name != "host" || l[0].Values != series || l[0].Series != series {
		t.Errorf("before flush: label cardinality %+v", l)
	}

	if err := db.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	after, err := db.Stats(ctx)
	if err != nil {
		t.Fatalf("stats: %v", err)
	}
	if after.HeadSamples != 0 || after.HeadSeries != 0 {
		t.Errorf("after flush: head holds %d samples of %d series", after.HeadSamples, after.HeadSeries)
	}
	if after.Samples != int64(n) || after.Flushes != 2 || after.FlushesCounted != 2 {
		t.Errorf("after flush: %d samples in %d flushes (%d counted); want %d in 2", after.Samples, after.Flushes, after.FlushesCounted, n)
	}
	if bps := after.BytesPerSample(); bps <= 0 || bps > 16 {
		t.Errorf("after flush: %.2f bytes per sample", bps)
	}
	if after.DiskBytesPerSample() < after.BytesPerSample() {
		t.Errorf("after flush: %.2f bytes per sample on disk, below the chunks' %.2f", after.DiskBytesPerSample(), after.BytesPerSample())
	}
	if len(after.Days) != 1 {
		t.Fatalf("after flush: %d day files, want 1", len(after.Days))
	}
	d := after.Days[0]
	if !d.Day.Equal(time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)) || d.Bytes == 0 || d.Series != series || d.Samples != int64(n) ||
		d.Sealed || d.Damage != "" || after.DayBytes != d.Bytes {
		t.Errorf("after flush: day %+v", d)
	}
	if !after.MinTime.Equal(st.MinTime) || !after.MaxTime.Equal(st.MaxTime) {
		t.Errorf("after flush: span %s to %s, want %s to %s", after.MinTime, after.MaxTime, st.MinTime, st.MaxTime)
	}

	// A late flush of the same epochs is a new bucket: counted on the next
	// call, the others come from the cache.
	if err := db.Write(ctx, []Point{pt(first.UnixMilli()+5000, 1, "__name__", "stats_metric_0", "host", "h0")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	late, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if late.Samples != int64(n+1) || late.Flushes != 3 || late.FlushesCounted != 3 {
		t.Errorf("after a late flush: %d samples in %d flushes (%d counted); want %d in 3", late.Samples, late.Flushes, late.FlushesCounted, n+1)
	}
}

func TestDB_Stats_CountsWithinBudget(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, testConfig(t.TempDir()), newTestClock(statsNow))
	defer db.Close()
	n := writeStatsData(t, db, 5, 50*time.Hour) // three days, 51 epochs
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := db.gatherStats(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if st.FlushesCounted != 1 || st.Flushes != 51 || len(st.Days) != 3 {
		t.Fatalf("with a budget of one chunk: %d of %d flushes counted in %d days", st.FlushesCounted, st.Flushes, len(st.Days))
	}
	if st.Days[0].FlushesCounted != 1 || !st.Days[0].Day.After(st.Days[1].Day) {
		t.Errorf("the newest day should come first and be counted first: %+v", st.Days)
	}
	// The counted bucket is the newest, half an hour: the estimate weighs
	// the others by the time they span.
	if est := st.EstimatedSamples(); est < int64(n)*95/100 || est > int64(n)*105/100 {
		t.Errorf("estimated %d samples from one flush of %d samples, want about %d", est, st.Samples, n)
	}
	if st.UncountedChunks != 50*5 || st.Chunks != 5 {
		t.Errorf("%d chunks counted, %d not; want 5 and 250", st.Chunks, st.UncountedChunks)
	}
	for i := 0; i < 60 && st.FlushesCounted < st.Flushes; i++ {
		if st, err = db.gatherStats(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	if st.FlushesCounted != st.Flushes || st.Samples != int64(n) || st.EstimatedSamples() != int64(n) {
		t.Errorf("after more calls: %d of %d flushes counted, %d samples; want all, %d", st.FlushesCounted, st.Flushes, st.Samples, n)
	}
}

func TestDB_Stats_DamagedDayListed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTestDB(t, testConfig(dir), newTestClock(statsNow))
	writeStatsData(t, db, 20, 30*time.Hour)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	path := dayPath(dir+"/parts", time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC).UnixMilli())
	truncateUsed(0.5)(t, path)
	db, err := Open(testConfig(dir), Options{Now: newTestClock(statsNow).Now, MaintainEvery: time.Hour})
	if err != nil {
		t.Fatalf("open after damage: %v", err)
	}
	defer db.Close()
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Damaged) == 0 || st.Damaged[0].Path != path {
		t.Fatalf("damaged files: %+v, want %s", st.Damaged, path)
	}
	var found bool
	for _, d := range st.Days {
		if d.Path == path {
			found = true
			if d.Damage == "" {
				t.Errorf("day %s: no damage reason", path)
			}
		} else if d.Damage != "" {
			t.Errorf("day %s: damage %q, but it is whole", d.Path, d.Damage)
		}
	}
	if !found {
		t.Errorf("the salvaged day %s is not listed: %+v", path, st.Days)
	}
	if st.TotalBytes <= st.DayBytes+st.IndexBytes+st.WALBytes-1 {
		t.Errorf("total %d bytes does not count the file set aside (days %d, index %d, WAL %d)",
			st.TotalBytes, st.DayBytes, st.IndexBytes, st.WALBytes)
	}
}
