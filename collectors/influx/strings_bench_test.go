package influx

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"outpost/tsdb"
)

// Run with:
//
//	go test -run '^$' -bench 'ParseStrings' -benchtime 2s ./collectors/influx/
//
// The parse+map path with and without the string-field policy, in ns/line:
// "none" is a Parser without a policy (every string an _info series), the
// others go through NewStringPolicy with that configuration.

// stringsBody is 5,000 lines of one string field each over 100 hosts:
// stable (one value per host) or volatile (a new value every line).
func stringsBody(volatile bool) []byte {
	var b []byte
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range 5000 {
		v := "running"
		if volatile {
			v = fmt.Sprintf("%d days, %2d:%02d", i/1440, i/60%24, i%60)
		}
		b = fmt.Appendf(b, "svc,host=host_%d,unit=api state=%q %d\n", i%100, v, ts+int64(i/100)*10e9)
	}
	return b
}

// benchParseStrings parses body with opts and reports ns/line; samples is
// what the policy lets through.
func benchParseStrings(b *testing.B, body []byte, samples int, cfg *Config) {
	b.Helper()
	lines := bytes.Count(body, []byte{'\n'})
	opts := ParseOptions{DB: "bench", Now: time.Now()}
	if cfg != nil {
		opts.Strings = NewStringPolicy(*cfg)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	p := new(Parser)
	for b.Loop() {
		p.Reset(body, opts)
		n := 0
		for pts := p.Next(DefaultBatchPoints); pts != nil; pts = p.Next(DefaultBatchPoints) {
			n += len(pts)
		}
		if samples >= 0 && n != samples {
			b.Fatalf("parsed %d samples, want %d (err %v)", n, samples, p.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(lines), "ns/line")
}

// policies are the configurations benchmarked; nil is no policy.
func policies() []struct {
	name string
	cfg  *Config
} {
	keep, limit, drop := DefaultConfig(), DefaultConfig(), DefaultConfig()
	keep.StringFields, keep.DropStringFields = StringsKeep, nil
	limit.DropStringFields = nil
	drop.StringFields = StringsDrop
	def := DefaultConfig()
	return []struct {
		name string
		cfg  *Config
	}{{"none", nil}, {"keep", &keep}, {"limit", &limit}, {"default", &def}, {"drop", &drop}}
}

// BenchmarkParseStrings_Telegraf: the Telegraf-like mix of 6,000 lines
// (one in six a system uptime_format line, six values per host).
func BenchmarkParseStrings_Telegraf(b *testing.B) {
	body, samples := telegrafBody(1000)
	for _, pc := range policies() {
		want := samples
		if pc.name == "default" || pc.name == "drop" {
			want -= 1000 // uptime_format dropped
		}
		b.Run(pc.name, func(b *testing.B) { benchParseStrings(b, body, want, pc.cfg) })
	}
}

// BenchmarkParseStrings_Stable: 5,000 lines of one stable string each.
func BenchmarkParseStrings_Stable(b *testing.B) {
	body := stringsBody(false)
	for _, pc := range policies() {
		want := 5000
		if pc.name == "drop" {
			want = 0
		}
		b.Run(pc.name, func(b *testing.B) { benchParseStrings(b, body, want, pc.cfg) })
	}
}

// BenchmarkParseStrings_Volatile: 5,000 lines of a string that changes at
// every line; past the first parse, mode limit refuses them all.
func BenchmarkParseStrings_Volatile(b *testing.B) {
	body := stringsBody(true)
	for _, pc := range policies() {
		b.Run(pc.name, func(b *testing.B) { benchParseStrings(b, body, -1, pc.cfg) })
	}
}

// BenchmarkStringPolicy_Admit: the policy's own cost per string field (a
// tracked value of one of 1,000 tag sets: hash, lock, lookup).
func BenchmarkStringPolicy_Admit(b *testing.B) {
	sp := NewStringPolicy(DefaultConfig())
	sets := make([][]tsdb.Label, 1000)
	for i := range sets {
		sets[i] = []tsdb.Label{{Name: "db", Value: "telegraf"}, {Name: "host", Value: fmt.Sprint("host_", i)}, {Name: tsdb.MetricName}, {Name: "unit", Value: "api"}}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if ok, _ := sp.admit(sets[i%len(sets)], 2, "svc_state_info", "running", 1); !ok {
			b.Fatal("refused")
		}
		i++
	}
}
