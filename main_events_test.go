package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eventsConfig keeps the limits small so the oversize and deep events of
// the tests stay small too.
const eventsConfig = "events:\n  max_event_bytes: 8192\n  max_depth: 8\n"

// ecsEvent is the ECS "Task State Change" event of
// collectors/events/testdata, with its time moved to at (events outside
// the retention are refused).
func ecsEvent(t *testing.T, at time.Time) []byte {
	t.Helper()
	b, err := os.ReadFile("collectors/events/testdata/ecs-task-stopped.json")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(b, []byte(`"time": "2026-12-04T08:41:15Z"`), []byte(`"time": "`+at.UTC().Format(time.RFC3339)+`"`), 1)
}

type eventsAnswer struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		Received, Stored, Duplicates int
		Events                       []struct {
			ID    string          `json:"id"`
			Time  time.Time       `json:"time"`
			Event json.RawMessage `json:"event"`
		} `json:"events"`
		Next *string `json:"next"`
	} `json:"data"`
}

// postEvents posts body as EventBridge's API destinations deliver it.
func (s *server) postEvents(body []byte) (int, eventsAnswer) {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.base+"/api/v1/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	return s.eventsDo(req)
}

func (s *server) searchEvents(query string, extra ...string) eventsAnswer {
	s.t.Helper()
	v := url.Values{"query": {query}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	req, _ := http.NewRequest("GET", s.base+"/api/v1/events?"+v.Encode(), nil)
	code, a := s.eventsDo(req)
	if code != http.StatusOK {
		s.t.Fatalf("search %q: HTTP %d: %s", query, code, a.Error)
	}
	return a
}

func (s *server) eventsDo(req *http.Request) (int, eventsAnswer) {
	s.t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a eventsAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		s.t.Fatalf("%s %s: HTTP %d, not JSON: %s", req.Method, req.URL.Path, resp.StatusCode, b)
	}
	return resp.StatusCode, a
}

func TestEvents_ECSTaskStopped(t *testing.T) {
	dir := t.TempDir()
	s := startServerWith(t, dir, serverConfig{Extra: eventsConfig})
	defer func() { s.kill() }()
	ev := ecsEvent(t, time.Now().Add(-time.Minute))
	const id = "9bcdac79-b31f-4d3d-9410-fbd727c29fab"

	t.Run("delivered", func(t *testing.T) {
		code, a := s.postEvents(ev)
		if code != http.StatusOK || a.Data.Received != 1 || a.Data.Stored != 1 {
			t.Fatalf("HTTP %d %+v", code, a)
		}
	})
	t.Run("redelivered: a duplicate", func(t *testing.T) {
		code, a := s.postEvents(ev)
		if code != http.StatusOK || a.Data.Stored != 0 || a.Data.Duplicates != 1 {
			t.Fatalf("HTTP %d %+v", code, a)
		}
	})
	t.Run("found", func(t *testing.T) {
		for _, q := range []string{"detail.lastStatus:STOPPED", "exited", `detail.stoppedReason:"essential container"`,
			`detail-type:"ECS Task State Change" AND source:aws.ecs`, "detail.containers.exitCode:137"} {
			a := s.searchEvents(q)
			if len(a.Data.Events) != 1 || a.Data.Events[0].ID != id {
				t.Errorf("%q: %d events, want the one with id %s", q, len(a.Data.Events), id)
				continue
			}
			var got struct {
				Detail struct{ StoppedReason string }
			}
			json.Unmarshal(a.Data.Events[0].Event, &got)
			if got.Detail.StoppedReason != "Essential container in task exited" {
				t.Errorf("%q: the event came back as %s", q, a.Data.Events[0].Event)
			}
		}
		for _, q := range []string{"detail.lastStatus:RUNNING", "-detail.lastStatus:STOPPED", "nosuchword"} {
			if a := s.searchEvents(q); len(a.Data.Events) != 0 {
				t.Errorf("%q: %d events, want none", q, len(a.Data.Events))
			}
		}
	})
	t.Run("survives kill -9", func(t *testing.T) {
		code, a := s.postEvents([]byte(`{"message":"written just before the kill","host":"bastion-1"}`))
		if code != http.StatusOK || a.Data.Stored != 1 {
			t.Fatalf("HTTP %d %+v", code, a)
		}
		s.kill()
		s = startServerWith(t, dir, serverConfig{Extra: eventsConfig})
		if a := s.searchEvents("detail.lastStatus:STOPPED"); len(a.Data.Events) != 1 {
			t.Errorf("after restart: the ECS event is gone")
		}
		if a := s.searchEvents(`"before the kill" AND host:bastion-1`); len(a.Data.Events) != 1 {
			t.Errorf("after restart: the event acknowledged before the kill is gone")
		}
		if code, a := s.postEvents(ev); code != http.StatusOK || a.Data.Duplicates != 1 {
			t.Errorf("after restart, a redelivery: HTTP %d %+v", code, a)
		}
	})
}

func TestEvents_BadInput(t *testing.T) {
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: eventsConfig})
	defer s.kill()
	good := `{"message":"good event of a refused request","time":"` + time.Now().UTC().Format(time.RFC3339) + `"}`
	deep := `{"a":` + strings.Repeat(`{"b":`, 8) + `1` + strings.Repeat(`}`, 9)
	for _, c := range []struct {
		name, body string
		code       int
		want       string
	}{
		{"malformed", good + "\n" + `{"message": "half`, 400, `event 1: malformed JSON at line 2, column 18: unexpected end of the body`},
		{"malformed in an array", "[" + good + `, {"a" 1}]`, 400, "event 1: malformed JSON at line 1, column"},
		{"oversize event", "[" + good + `,{"message":"` + strings.Repeat("x", 9000) + `"}]`, 413, "event 1: 9014 bytes, over events.max_event_bytes (8192)"},
		{"too deep", good + "\n" + deep, 400, `event 1: field "a.b.b.b.b.b.b.b": nested deeper than events.max_depth (8)`},
		{"bad time", good + "\n" + `{"time":"soon"}`, 400, `event 1: field "time": cannot parse "soon" as a time`},
		{"not an object", "[" + good + `,42]`, 400, "event 1: a JSON number, not an object"},
		{"empty", "  ", 400, "empty body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, a := s.postEvents([]byte(c.body))
			if code != c.code || a.Status != "error" || !strings.Contains(a.Error, c.want) {
				t.Errorf("HTTP %d %q, want %d %q", code, a.Error, c.code, c.want)
			}
		})
	}
	if a := s.searchEvents(`"good event of a refused request"`); len(a.Data.Events) != 0 {
		t.Errorf("refused requests stored %d events", len(a.Data.Events))
	}
	for q, want := range map[string]string{"query=a:(b": "query", "limit=0": "limit", "start=x": "start", "cursor=x": "cursor"} {
		resp, err := http.Get(s.base + "/api/v1/events?" + q)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), fmt.Sprintf(`invalid parameter \"%s\"`, want)) {
			t.Errorf("GET ?%s: HTTP %d %s", q, resp.StatusCode, b)
		}
	}
}

func TestEvents_Paging(t *testing.T) {
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: eventsConfig})
	defer s.kill()
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var body bytes.Buffer
	for i := range 25 {
		fmt.Fprintf(&body, `{"timestamp":%q,"type":"access","message":"request %d error"}`+"\n", base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), i)
	}
	if code, a := s.postEvents(body.Bytes()); code != 200 || a.Data.Stored != 25 {
		t.Fatalf("HTTP %d %+v", code, a)
	}
	var got []string
	cursor := ""
	for range 10 {
		a := s.searchEvents("type:access AND message:error", "limit", "10", "cursor", cursor)
		for _, e := range a.Data.Events {
			var m struct{ Message string }
			json.Unmarshal(e.Event, &m)
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(m.Message, "request "), " error"))
		}
		if a.Data.Next == nil {
			break
		}
		cursor = *a.Data.Next
	}
	if len(got) != 25 || got[0] != "24" || got[24] != "0" {
		t.Fatalf("pages gave %v", got)
	}
}

// TestEvents_BackupRestore: outpost backup copies the event day files with
// the store, and a server started on the restored directory finds them.
func TestEvents_BackupRestore(t *testing.T) {
	src := startServerWith(t, t.TempDir(), serverConfig{Extra: eventsConfig})
	defer src.stop()
	if code, a := src.postEvents(ecsEvent(t, time.Now().Add(-time.Minute))); code != http.StatusOK || a.Data.Stored != 1 {
		t.Fatalf("post: HTTP %d %+v", code, a)
	}
	dir := filepath.Join(t.TempDir(), "backup")
	if code, out, errs := runCLI(t, "backup", dir, "-url", src.base); code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, out, errs)
	}
	days, _ := filepath.Glob(filepath.Join(dir, "events", "*.db"))
	if len(days) == 0 {
		t.Fatalf("the backup holds no events day file")
	}
	data := filepath.Join(t.TempDir(), "restored")
	if code, out, errs := runCLI(t, "restore", dir, "-data", data); code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, out, errs)
	}
	dst := startServerWith(t, data, serverConfig{Extra: eventsConfig})
	defer dst.stop()
	if a := dst.searchEvents("detail.lastStatus:STOPPED"); len(a.Data.Events) != 1 {
		t.Errorf("restored: %d events for detail.lastStatus:STOPPED, want 1", len(a.Data.Events))
	}
	if code, a := dst.postEvents(ecsEvent(t, time.Now().Add(-time.Minute))); code != http.StatusOK || a.Data.Duplicates != 1 {
		t.Errorf("restored, a redelivery: HTTP %d %+v, want a duplicate", code, a)
	}
}

// TestEvents_Off: with events.enabled false the routes say so, naming the
// key, in the API's envelope.
func TestEvents_Off(t *testing.T) {
	dir := t.TempDir()
	s := startServerWith(t, dir, serverConfig{Extra: "events:\n  enabled: false\n"})
	defer s.stop()
	req, _ := http.NewRequest("POST", s.base+"/api/v1/events", strings.NewReader(`{"message":"x"}`))
	if code, a := s.eventsDo(req); code != http.StatusNotFound || !strings.Contains(a.Error, "events.enabled is false") {
		t.Errorf("POST with events off: HTTP %d %q", code, a.Error)
	}
	req, _ = http.NewRequest("GET", s.base+"/api/v1/events?query=*", nil)
	if code, a := s.eventsDo(req); code != http.StatusNotFound || !strings.Contains(a.Error, "events.enabled is false") {
		t.Errorf("GET with events off: HTTP %d %q", code, a.Error)
	}
	if _, err := os.Stat(filepath.Join(dir, "events")); err == nil {
		t.Errorf("events off, yet %s/events was created", dir)
	}
}
