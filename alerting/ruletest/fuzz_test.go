package ruletest

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput caps fuzz inputs, as Prometheus' util/fuzzing does.
const maxFuzzInput = 64 << 10

// FuzzParse checks that no test file makes Parse panic, and that a file
// that parses has the defaults promtool applies.
//
//	go test -run '^$' -fuzz FuzzParse ./alerting/ruletest/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*test*.yml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		file, err := Parse(b)
		if err != nil {
			return
		}
		if file.EvaluationInterval <= 0 {
			t.Fatalf("evaluation_interval %v after Parse", file.EvaluationInterval)
		}
		for _, tt := range file.Tests {
			if tt.Interval == 0 {
				t.Fatal("a test without an interval after Parse")
			}
			for _, s := range tt.InputSeries {
				_, _ = Expand(s.Values)
			}
		}
	})
}

// FuzzExpand checks that no values string makes Expand panic or return
// more values than its cap.
//
//	go test -run '^$' -fuzz FuzzExpand ./alerting/ruletest/
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"1 2 3", "1+1x10", "_ stale _x3", "-2-1x3", "1e-3-1e+2x2", "Inf -Inf NaN", "0x1F", "5x0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > maxFuzzInput {
			return
		}
		vs, err := Expand(s)
		if err == nil && len(vs) > maxExpand {
			t.Fatalf("%d values", len(vs))
		}
	})
}
