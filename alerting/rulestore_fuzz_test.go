package alerting

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseGroup feeds rule group bodies to ParseGroup: it must not
// panic, and a body it accepts must store a file that parses back to a
// group of the same name.
//
//	go test -fuzz FuzzParseGroup -fuzztime 30s ./alerting/
func FuzzParseGroup(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "rulegroups", "*.yml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("name: g\nrules: [{alert: X, expr: up}]"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		g, file, err := ParseGroup(body, "")
		if err != nil {
			return
		}
		again, _, err := ParseGroup(file, g.Name)
		if err != nil || again.Name != g.Name || len(again.Rules) != len(g.Rules) {
			t.Fatalf("accepted %q, but its stored file %q does not parse back: %v", body, file, err)
		}
	})
}
