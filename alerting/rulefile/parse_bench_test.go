package rulefile

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse parses each ok testdata file and the built-in defaults.
//
//	go test -run '^$' -bench BenchmarkParse -benchmem ./alerting/rulefile/
func BenchmarkParse(b *testing.B) {
	inputs := map[string][]byte{"defaults": []byte(defaultsYAML)}
	paths, _ := filepath.Glob(filepath.Join("testdata", "rules", "ok-*.yaml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		inputs[filepath.Base(p)] = data
	}
	for name, data := range inputs {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Parse(name, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
