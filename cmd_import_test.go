package main

import (
	"testing"
)

func TestImport_SampleCounts(t *testing.T) {
	for _, c := range []struct {
		format, line string
		want         int64
	}{
		{"influx", `cpu,host=a usage_idle=1,usage_user=2 1700000000`, 2},
		{"influx", `cpu value=1`, 1},
		{"influx", `m,t=a\ b s="x, y z",v=1 1`, 2},
		{"influx", `weird\,name f=1i`, 1},
		{"jsonl", `{"metric":{"__name__":"x"},"values":[1,2,3],"timestamps":[1,2,3]}`, 3},
		{"jsonl", `{"metric":{},"values":[],"timestamps":[]}`, 0},
	} {
		if got := importSamples(c.format, []byte(c.line)); got != c.want {
			t.Errorf("%s %q: %d samples, want %d", c.format, c.line, got, c.want)
		}
	}
}

// FuzzImportSamples: counting never panics and stays within the line.
func FuzzImportSamples(f *testing.F) {
	f.Add([]byte(`cpu,host=a usage_idle=1,usage_user=2 1700000000`))
	f.Add([]byte(`m,t=a\ b s="x, y z",v=1 1`))
	f.Add([]byte(`{"metric":{"__name__":"x"},"values":[1,2,3],"timestamps":[1,2,3]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, format := range []string{"influx", "jsonl"} {
			if n := importSamples(format, line); n < 0 || n > int64(len(line)) {
				t.Fatalf("%s %q: %d samples", format, line, n)
			}
		}
	})
}
