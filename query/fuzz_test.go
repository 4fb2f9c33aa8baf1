package query

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// FuzzQuery parses and evaluates arbitrary query text over a small real
// store. It must never panic: the engine turns evaluator panics into
// "internal error" results, which fail the target. Seeds are every eval
// expression of testdata/*.test.
//
//	go test -run '^$' -fuzz FuzzQuery -fuzztime 30s ./query/
func FuzzQuery(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.test")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.Index(l, " at "); strings.HasPrefix(l, "eval instant") && i > 0 {
				if _, q, ok := strings.Cut(l[i+4:], " "); ok {
					f.Add(q)
				}
			}
		}
	}
	f.Add(`sum by (a) (rate(m{a=~"x|y"}[5m:30s] offset -1m @ 60))`)
	t0 := time.Unix(0, 0).UTC()
	db := openTestDB(f, t0.Add(time.Hour))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "m", "a", "x"), t0, 15*time.Second, 1, 2, 0, 5, 6, 7, 1, 3))
	writePoints(f, db, seriesPoints(tsdb.FromStrings("__name__", "m", "a", "y", "le", "1"), t0, 30*time.Second, 4, 4, 9, 10))
	e := NewEngine(db, Options{Timeout: 200 * time.Millisecond, MaxSamples: 100_000, MaxPointsPerSeries: 500})
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 512 {
			return
		}
		for _, run := range []func() error{
			func() error { _, err := e.Instant(t.Context(), q, t0.Add(time.Minute)); return err },
			func() error { _, err := e.Range(t.Context(), q, t0, t0.Add(2*time.Minute), 30*time.Second); return err },
		} {
			if err := run(); err != nil && strings.Contains(err.Error(), "internal error") {
				t.Fatalf("query %q: %v", q, err)
			}
		}
	})
}
