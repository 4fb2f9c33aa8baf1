package rulefile

import (
	"os"
	"path/filepath"
	"testing"
)

// maxFuzzInput caps the fuzzed rule file (Prometheus' util/fuzzing caps
// its inputs likewise): larger inputs only slow the fuzzer down.
const maxFuzzInput = 64 << 10

// FuzzParse feeds rule files to Parse: it must never panic; every problem
// must be an *Error naming the file; and a File it accepts must pass
// Validate, with every annotation compiled. Seeds: testdata/rules/*.yaml
// and the built-in defaults.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 60s ./alerting/rulefile/
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "rules", "*.yaml"))
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(defaultsYAML))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		file, err := Parse("fuzz.yml", data)
		if err != nil {
			if file != nil {
				t.Fatalf("Parse returned a File and an error: %v", err)
			}
			es := Errors(err)
			if len(es) == 0 {
				t.Fatalf("Parse error holds no *Error: %v", err)
			}
			for _, e := range es {
				if e.File != "fuzz.yml" || e.Msg == "" {
					t.Fatalf("Parse error %#v does not name the file or the problem", e)
				}
			}
			return
		}
		if err := file.Validate(); err != nil {
			t.Fatalf("Parse accepted a File that Validate refuses: %v", err)
		}
		for _, g := range file.Groups {
			for _, r := range g.Rules {
				if len(r.AnnotationTemplates) != len(r.Annotations) {
					t.Fatalf("rule %q: %d annotations, %d compiled", r.Name, len(r.Annotations), len(r.AnnotationTemplates))
				}
			}
		}
	})
}

// FuzzCondition_RoundTrip checks that a condition that parses prints back to
// itself, and that nothing panics.
func FuzzCondition_RoundTrip(f *testing.F) {
	for _, s := range []string{"> 80", ">=90", "< -1.5e3", "!= 0", "== +Inf", "=> 1", "", "> NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCondition(s)
		if err != nil {
			return
		}
		back, err := ParseCondition(c.String())
		if err != nil || *back != *c {
			t.Fatalf("ParseCondition(%q) = %v, printed %q, parsed back %v, %v", s, c, c.String(), back, err)
		}
	})
}

// FuzzDuration_RoundTrip checks that a duration that parses is not negative
// and prints back to itself.
func FuzzDuration_RoundTrip(f *testing.F) {
	for _, s := range []string{"0", "5m", "1h30m", "1y2w3d4h5m6s7ms", "-5m", "1.5h", "106751d23h47m16s854ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		back, err := parseDuration(formatDuration(d))
		if d < 0 || err != nil || back != d {
			t.Fatalf("parseDuration(%q) = %v, printed %q, parsed back %v, %v", s, d, formatDuration(d), back, err)
		}
	})
}
