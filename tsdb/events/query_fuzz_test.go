package events

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseQuery feeds the parser any text (seeds: testdata/queries.txt,
// one query a line, and testdata/fuzz/FuzzParseQuery). A query either
// parses, and then matches any event without panicking, never ruling out
// (prefilter) an event it matches, or fails with a *QueryError whose
// column lies within the query.
//
//	go test -run '^$' -fuzz FuzzParseQuery -fuzztime 30s ./tsdb/events
func FuzzParseQuery(f *testing.F) {
	seeds, err := os.ReadFile(filepath.Join("testdata", "queries.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(seeds), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			f.Add(l, ecsStopped)
		}
	}
	f.Add("a b c", `{"m":"x A\n b\u2028c","n":["a","b c"]}`)
	f.Add(`"10 9"`, `{"ip":"10.0.9.9","x":"10\t9"}`)
	f.Fuzz(func(t *testing.T, s, event string) {
		if len(s) > 4096 || len(event) > 1<<14 {
			return
		}
		var doc map[string]any
		if json.Unmarshal([]byte(event), &doc) != nil || doc == nil {
			doc = map[string]any{}
		}
		raw, _ := json.Marshal(doc) // canonical, as Append stores events
		q, err := ParseQuery(s)
		if err != nil {
			var qe *QueryError
			if !errors.As(err, &qe) || qe.Col < 1 || qe.Col > len([]rune(s))+1 {
				t.Fatalf("ParseQuery(%q): %v", s, err)
			}
			return
		}
		if q.root.match(raw) && !q.root.may(raw) {
			t.Fatalf("%q matches an event its prefilter rules out", s)
		}
		q.indexTerm(map[string]bool{"source": true, "detail.lastStatus": true})
	})
}
