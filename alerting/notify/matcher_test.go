package notify

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func renderMatchers(ms []Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, ",")
}

func TestParseMatchers(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		ms, err := ParseMatchers(in)
		if err != nil {
			t.Fatalf("ParseMatchers(%q): %v", in, err)
		}
		if got := renderMatchers(ms); got != want {
			t.Errorf("ParseMatchers(%q) = %s, want %s", in, got, want)
		}
	}
	f(`severity="critical"`, `severity="critical"`)
	f(`host=~"web.*"`, `host=~"web.*"`)
	f(`env!=staging`, `env!="staging"`)
	f(`job!~"node|db"`, `job!~"node|db"`)
	f(`alertname = Disk Full `, `alertname="Disk Full"`)
	f(`{foo = "bar", dings != "bums", }`, `foo="bar",dings!="bums"`)
	f(`foo=bar,dings!=bums`, `foo="bar",dings!="bums"`)
	f(`{quote="She said: \"Hi, all\""}`, `quote="She said: \"Hi, all\""`)
	f(`path="C:\\temp\n"`, `path="C:\\temp\n"`)
	f(`re=~"\d+"`, `re=~"\\d+"`) // a backslash before another character stands for itself
	f(`a=""`, `a=""`)
	f(`a=`, `a=""`)
	f(`a=~x{2}`, `a=~"x{2}"`)
	f(`{a="}"}`, `a="}"`)
	f(`__name__=up,le:x="1"`, `__name__="up",le:x="1"`)
	f(``, ``)
	f(`  `, ``)
	f(`{}`, ``)
	f(`{ }`, ``)
}

func TestParseMatchers_Errors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := ParseMatchers(in)
		if err == nil {
			t.Fatalf("ParseMatchers(%q): no error, want %s", in, want)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseMatchers(%q): %T, want *ParseError", in, err)
		}
		if got := err.Error(); got != want {
			t.Errorf("ParseMatchers(%q):\n got %s\nwant %s", in, got, want)
		}
	}
	f(`severity`, `"severity": col 9: expected an operator (=, !=, =~, !~) after "severity"`)
	f(`="x"`, `"=\"x\"": col 1: expected a label name`)
	f(`1a="x"`, `"1a=\"x\"": col 1: expected a label name`)
	f(`a="x`, `"a=\"x": col 3: unterminated quoted value`)
	f(`a="x" b="y"`, `"a=\"x\" b=\"y\"": col 7: expected ',' between matchers`)
	f(`a=x"y`, `"a=x\"y": col 4: double quote inside an unquoted value (quote the whole value)`)
	f(`{a="x"`, `"{a=\"x\"": col 7: missing closing '}'`)
	f(`a="x"}`, `"a=\"x\"}": col 6: '}' without an opening '{'`)
	f(`sev=~"("`, "\"sev=~\\\"(\\\"\": bad regexp \"(\": error parsing regexp: missing closing ): `(`")
	f(`a=b,,c=d`, `"a=b,,c=d": col 5: expected a label name`)
	f("a=\"\xff\"", `"a=\"\xff\"": value "\xff" is not valid UTF-8`)
}

func TestMatcher_Matches(t *testing.T) {
	f := func(spec, value string, want bool) {
		t.Helper()
		ms, err := ParseMatchers(spec)
		if err != nil || len(ms) != 1 {
			t.Fatalf("ParseMatchers(%q) = %v, %v", spec, ms, err)
		}
		if got := ms[0].Matches(value); got != want {
			t.Errorf("%s matches %q = %v, want %v", spec, value, got, want)
		}
	}
	f(`host=~"web.*"`, "web-1", true)
	f(`host=~"web.*"`, "old-web-1", false) // anchored
	f(`host=~"web|db"`, "db", true)
	f(`host=~"web|db"`, "webdb", false)
	f(`host!~"web.*"`, "db-1", true)
	f(`host!~"web.*"`, "web-1", false)
	f(`host!=""`, "", false)
	f(`host=""`, "", true)
	f(`host="a"`, "a", true)
	f(`host!="a"`, "a", false)
	// A literal matcher (not built by NewMatcher) still matches correctly.
	lit := Matcher{Name: "host", Value: "web.*", IsRegex: true, IsEqual: true}
	if !lit.Matches("web-1") || lit.Matches("xweb") {
		t.Error("literal regex matcher does not match as anchored")
	}
}

func TestMatcher_UnmarshalJSON(t *testing.T) {
	var ms []Matcher
	in := `[{"name":"instance","value":"web-1","isRegex":false},{"name":"job","value":"no.*","isRegex":true,"isEqual":false}]`
	if err := json.Unmarshal([]byte(in), &ms); err != nil {
		t.Fatal(err)
	}
	if got, want := renderMatchers(ms), `instance="web-1",job!~"no.*"`; got != want {
		t.Errorf("decoded %s, want %s (isEqual defaults to true)", got, want)
	}
	if ms[1].re == nil {
		t.Error("regex not compiled on decode")
	}
	err := json.Unmarshal([]byte(`[{"name":"a","value":"(","isRegex":true}]`), &ms)
	if err == nil || !strings.Contains(err.Error(), "bad regexp") {
		t.Errorf("bad regexp decoded: err = %v", err)
	}
}

// FuzzParseMatchers checks that the parser never panics and that what it
// accepts survives a round trip through Matcher.String. Seeds come from
// testdata/matchers.txt (one input per line) and testdata/fuzz.
//
//	go test -run '^$' -fuzz FuzzParseMatchers -fuzztime 30s ./alerting/notify/
func FuzzParseMatchers(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("testdata", "matchers.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.SplitSeq(strings.TrimRight(string(seeds), "\n"), "\n") {
		f.Add(line)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if len(in) > 1024 {
			return
		}
		ms, err := ParseMatchers(in)
		if err != nil {
			return
		}
		out := renderMatchers(ms)
		again, err := ParseMatchers(out)
		if err != nil {
			t.Fatalf("ParseMatchers(%q) = %s, which does not parse: %v", in, out, err)
		}
		if got := renderMatchers(again); got != out {
			t.Fatalf("round trip of %q: %s became %s", in, out, got)
		}
	})
}
