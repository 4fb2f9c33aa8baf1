package events

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var arrival = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func testDecoder() *Decoder {
	return &Decoder{Config: DefaultConfig(), Check: func(t time.Time) error {
		if t.Before(arrival.Add(-30 * 24 * time.Hour)) {
			return fmt.Errorf("%s is older than the retention (720h0m0s)", t.Format(time.RFC3339))
		}
		return nil
	}}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecoder_Decode_EventBridge(t *testing.T) {
	evs, err := testDecoder().Decode(readFile(t, "ecs-task-stopped.json"), arrival)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Decode = %d events, %v", len(evs), err)
	}
	ev := evs[0]
	if ev.ID != "9bcdac79-b31f-4d3d-9410-fbd727c29fab" || !ev.Time.Equal(time.Date(2026, 12, 4, 8, 41, 15, 0, time.UTC)) {
		t.Errorf("id %q time %s", ev.ID, ev.Time)
	}
	if !strings.HasPrefix(string(ev.Body), `{"account":"111122223333","detail":{"attachments":[],`) || strings.Contains(string(ev.Body), "\n") {
		t.Errorf("body not canonical: %.80s", ev.Body)
	}
	if !strings.Contains(string(ev.Body), `"exitCode":137`) {
		t.Errorf("numbers not kept as written: %s", ev.Body)
	}
}

func TestDecoder_Decode_Forms(t *testing.T) {
	d := testDecoder()
	f := func(body string, wantTimes ...string) {
		t.Helper()
		evs, err := d.Decode([]byte(body), arrival)
		if err != nil {
			t.Fatalf("Decode(%s): %v", body, err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Time.Format(time.RFC3339Nano))
		}
		if fmt.Sprint(got) != fmt.Sprint(wantTimes) {
			t.Errorf("Decode(%s): times %v, want %v", body, got, wantTimes)
		}
	}
	f(`{"time":"2026-12-04T08:00:00Z"}`, "2026-12-04T08:00:00Z")
	f(`[{"time":"2026-12-04T08:00:00Z"},{"timestamp":1796371200}]`, "2026-12-04T08:00:00Z", "2026-12-04T08:00:00Z")
	f(" \n[ ]\n", []string{}...)
	f(string(readFile(t, "log-lines.jsonl")), "2026-12-04T08:00:01.25Z", "2026-12-04T08:00:01Z", "2026-12-04T08:00:03Z")
	f(`{"@timestamp":1796371200123}{"@timestamp":"1796371200123456"}`, "2026-12-04T08:00:00.123Z", "2026-12-04T08:00:00.123456Z")
	f(`{"message":"no time"}`, "2026-12-04T09:00:00Z")
	f(`{"time":null,"timestamp":"2026-12-04T08:00:00+02:00"}`, "2026-12-04T06:00:00Z")
}

func TestDecoder_Decode_IDs(t *testing.T) {
	d := testDecoder()
	a, _ := d.Decode([]byte(`{"b":1,"a":"x","time":"2026-12-04T08:00:00Z"}`), arrival)
	b, _ := d.Decode([]byte(`{ "a" : "x", "time":"2026-12-04T08:00:00Z", "b":1 }`), arrival.Add(time.Hour))
	if a[0].ID != b[0].ID || len(a[0].ID) != 32 {
		t.Errorf("same record, ids %q and %q", a[0].ID, b[0].ID)
	}
	c, _ := d.Decode([]byte(`{"message":"x"}`), arrival)
	e, _ := d.Decode([]byte(`{"message":"x"}`), arrival.Add(time.Second))
	if c[0].ID == e[0].ID {
		t.Error("records without a time sent at different times share an id")
	}
}

func TestDecoder_Decode_Errors(t *testing.T) {
	d := testDecoder()
	d.Config.MaxEventBytes = 200
	d.Config.MaxDepth = 3
	f := func(body string, status int, want string) {
		t.Helper()
		_, err := d.Decode([]byte(body), arrival)
		if status == 0 {
			if err != nil {
				t.Errorf("Decode(%.40s): %v", body, err)
			}
			return
		}
		var ie *InputError
		if !errors.As(err, &ie) {
			t.Fatalf("Decode(%.40s) = %v, want an *InputError", body, err)
		}
		if ie.Status != status || err.Error() != want {
			t.Errorf("Decode(%.40s):\n got %d %s\nwant %d %s", body, ie.Status, err, status, want)
		}
	}
	f(``, 400, "empty body: send a JSON object, an array of objects or JSON lines")
	f(`{"a":1}{"a":`, 400, "event 1: malformed JSON at line 1, column 13: unexpected end of the body")
	f("{\"a\":1}\n{\"a\" 2}", 400, "event 1: malformed JSON at line 2, column 6: invalid character '2' after object key")
	f(`[{"a":1},]`, 400, "event 1: malformed JSON at line 1, column 10: invalid character ']' looking for beginning of value")
	f(`[{"a":1}] x`, 400, "malformed JSON at line 1, column 10: text after the array")
	f(`[{"a":1},"x"]`, 400, "event 1: a JSON string, not an object")
	f(`[1]`, 400, "event 0: a JSON number, not an object")
	f(`{"a":"`+strings.Repeat("x", 200)+`"}`, 413, "event 0: 208 bytes, over events.max_event_bytes (200)")
	f(`{"a":{"b":{"c":1}}}`, 0, "")
	f(`{"a":{"b":{"c":{"d":1}}}}`, 400, `event 0: field "a.b.c": nested deeper than events.max_depth (3)`)
	f(`{"ok":1}`+"\n"+`{"x":[[[1]]]}`, 400, `event 1: field "x[0][0]": nested deeper than events.max_depth (3)`)
	f(`{"time":"yesterday"}`, 400, `event 0: field "time": cannot parse "yesterday" as a time (RFC 3339 or epoch seconds)`)
	f(`{"time":true}`, 400, `event 0: field "time": a time must be text or a number, not a boolean`)
	f(`{"@timestamp":"2020-01-01T00:00:00Z"}`, 400, `event 0: field "@timestamp": 2020-01-01T00:00:00Z is older than the retention (720h0m0s)`)
}
