package rulefile

import (
	"testing"
)

// BenchmarkTemplate_Execute expands typical annotations: plain text, one
// with labels and a humanized value, and one that runs a query (and so
// binds the execution's data to a copy of the template).
//
//	go test -run '^$' -bench BenchmarkTemplate_Execute -benchmem ./alerting/rulefile/
func BenchmarkTemplate_Execute(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"plain", "Filesystem has less than 5% space left."},
		{"labels", `Disk {{ $labels.path }} on {{ $labels.instance | stripPort }} is {{ $value | humanizePercentage }} full`},
		{"query", `{{ with query "up" }}{{ . | first | value | humanize }}{{ end }} of {{ $labels.job }}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			tm, err := Compile("bench", c.text)
			if err != nil {
				b.Fatal(err)
			}
			d := testData()
			d.Labels["path"] = "/var"
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tm.Execute(ctx, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
