package main

import (
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

func TestTuneMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	dir := t.TempDir()
	n := 0
	file := func(s string) string {
		n++
		p := filepath.Join(dir, "memory.max."+string(rune('a'+n)))
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name    string
		environ []string
		path    string
		want    int64
	}{
		{"limited", nil, file("1073741824\n"), 966367641},
		{"GOMEMLIMIT wins", []string{"GOMEMLIMIT=300MiB"}, file("1073741824\n"), 0},
		{"no limit", nil, file("max\n"), 0},
		{"no cgroup v2", nil, filepath.Join(dir, "absent"), 0},
		{"garbage", nil, file("lots\n"), 0},
	} {
		debug.SetMemoryLimit(math.MaxInt64)
		if got := tuneMemoryLimit(tc.environ, tc.path, log); got != tc.want {
			t.Errorf("%s: tuneMemoryLimit = %d, want %d", tc.name, got, tc.want)
		}
		if tc.want > 0 && debug.SetMemoryLimit(-1) != tc.want {
			t.Errorf("%s: the runtime's limit is not %d", tc.name, tc.want)
		}
	}
}
