package syslog

import (
	"bytes"
	"testing"
	"time"
)

// benchParse parses the lines of a testdata file in turn; lines/s is the
// figure to compare.
func benchParse(b *testing.B, name string) {
	var lines [][]byte
	for _, l := range bytes.Split(readTestdata(b, name), []byte("\n")) {
		if len(l) > 0 && l[0] == '<' {
			lines = append(lines, l)
		}
	}
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	b.SetBytes(int64(n / len(lines)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := Parse(lines[i%len(lines)], now, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkParse5424 and BenchmarkParse3164 measure the parsers alone:
//
//	go test -run '^$' -bench 'Parse|Event' -count 6 ./collectors/syslog > new.txt
func BenchmarkParse5424(b *testing.B) { benchParse(b, "rfc5424.txt") }

// BenchmarkParse3164 is BenchmarkParse5424 for RFC 3164 lines.
func BenchmarkParse3164(b *testing.B) { benchParse(b, "rfc3164.txt") }

// BenchmarkToEvent measures a parsed line's way to its stored form.
func BenchmarkToEvent(b *testing.B) {
	line := []byte("<38>Dec  4 08:59:58 bastion sshd[1234]: Accepted publickey for ops from 192.0.2.7 port 52211 ssh2")
	m, err := Parse(line, now, time.UTC)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := toEvent(&m, line, arrival{at: now, peer: "192.0.2.1", seq: uint64(i)}, nil); err != nil {
			b.Fatal(err)
		}
	}
}
