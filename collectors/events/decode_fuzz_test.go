package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

// FuzzDecode feeds the body decoder anything (seeds: the files of
// testdata/ and the shapes below). It must answer events or an
// *InputError with 400 or 413, never panic; every event it answers is a
// JSON object in canonical form (decoding its body again gives the same
// body and ID), within the size and depth limits.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 30s ./collectors/events
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"ecs-task-stopped.json", "log-lines.jsonl"} {
		f.Add(readFile(f, name))
	}
	for _, s := range []string{`[{"a":1},{"b":[1,2,{"c":null}]}]`, `{"time":1796371200.5}`, `{"detail-type":"x","source":"y","detail":{},"id":"1","time":"2026-12-04T08:00:00Z"}`,
		`{"a":"\u00e9\"<>&"}`, "\xef\xbb\xbf{}", `[`, `{"a":[[[[[[1]]]]]]}`} {
		f.Add([]byte(s))
	}
	d := testDecoder()
	d.Config.MaxEventBytes = 4096
	d.Config.MaxDepth = 5
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<16 {
			return
		}
		evs, err := d.Decode(body, arrival)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || (ie.Status != http.StatusBadRequest && ie.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("Decode(%q): %v", body, err)
			}
			return
		}
		for i, ev := range evs {
			var m map[string]any
			if json.Unmarshal(ev.Body, &m) != nil || m == nil {
				t.Fatalf("event %d: body %q is not a JSON object", i, ev.Body)
			}
			again, err := d.Decode(ev.Body, arrival)
			if err != nil || len(again) != 1 || !bytes.Equal(again[0].Body, ev.Body) || again[0].ID != ev.ID || !again[0].Time.Equal(ev.Time) {
				t.Fatalf("event %d: %q does not decode to itself: %v", i, ev.Body, err)
			}
		}
	})
}
