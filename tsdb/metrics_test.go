package tsdb

import (
	"strings"
	"testing"
	"time"
)

// TestDB_WriteMetrics_Counters writes, flushes and selects, and checks
// that the figures moved and that each family is written once.
func TestDB_WriteMetrics_Counters(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Path = t.TempDir()
	db, err := Open(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UnixMilli()
	pts := []Point{
		{Labels: FromStrings(MetricName, "m", "host", "a"), T: now, V: 1},
		{Labels: FromStrings(MetricName, "m", "host", "b"), T: now, V: 2},
	}
	if err := db.Write(t.Context(), pts); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	m, err := NewMatcher(MatchEqual, MetricName, "m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Select(t.Context(), 0, now, m); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := db.WriteMetrics(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"\noutpost_wal_fsyncs_total 1\n", "\noutpost_wal_group_size_writes_sum 1\n",
		"\noutpost_tsdb_series 2\n", "\noutpost_tsdb_series_created_total 2\n",
		"\noutpost_tsdb_flushes_total 1\n", "\noutpost_tsdb_flushed_chunks_total 2\n", "\noutpost_tsdb_selects_total 1\n",
		`outpost_tsdb_day_file_bytes{day="` + time.UnixMilli(now).UTC().Format(time.DateOnly) + `"} `,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, _, _ = strings.Cut(name, " ")
			if seen[name] {
				t.Errorf("family %s twice", name)
			}
			seen[name] = true
		}
	}
}
