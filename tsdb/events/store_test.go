package events

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var testNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func openTest(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Retention == 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func logEvent(i int, t time.Time, status string) Event {
	body := fmt.Sprintf(`{"host":"web-%d","message":"request %d finished with %s","status":%q,"time":%q}`,
		i%3, i, status, status, t.Format(time.RFC3339Nano))
	return Event{ID: fmt.Sprintf("ev-%d", i), Time: t, Body: []byte(body)}
}

func search(t testing.TB, s *Store, q string, limit int, cursor string) Page {
	t.Helper()
	pq, err := ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Search(t.Context(), SearchRequest{Query: pq, Limit: limit, Cursor: cursor})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return p
}

func ids(p Page) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.ID)
	}
	return out
}

func TestStore_Append_SearchNewestFirst(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	base := testNow.Add(-36 * time.Hour) // two days
	var evs []Event
	for i := range 30 {
		st := "ok"
		if i%5 == 0 {
			st = "error"
		}
		evs = append(evs, logEvent(i, base.Add(time.Duration(i)*time.Hour), st))
	}
	res, err := s.Append(t.Context(), evs)
	if err != nil || res.Stored != 30 || res.Duplicates != 0 {
		t.Fatalf("Append = %+v, %v", res, err)
	}
	t.Run("all", func(t *testing.T) {
		p := search(t, s, "*", 100, "")
		if len(p.Events) != 30 || p.Events[0].ID != "ev-29" || p.Events[29].ID != "ev-0" || p.Next != "" {
			t.Fatalf("got %v next %q", ids(p), p.Next)
		}
	})
	t.Run("field", func(t *testing.T) {
		p := search(t, s, "status:error", 100, "")
		if got := fmt.Sprint(ids(p)); got != "[ev-25 ev-20 ev-15 ev-10 ev-5 ev-0]" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("indexed host, paged", func(t *testing.T) {
		var all []string
		cursor := ""
		for range 10 {
			p := search(t, s, "host:web-1", 3, cursor)
			all = append(all, ids(p)...)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if got := fmt.Sprint(all); got != "[ev-28 ev-25 ev-22 ev-19 ev-16 ev-13 ev-10 ev-7 ev-4 ev-1]" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("free text", func(t *testing.T) {
		p := search(t, s, `"request 17"`, 100, "")
		if got := fmt.Sprint(ids(p)); got != "[ev-17]" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("time range", func(t *testing.T) {
		pq, _ := ParseQuery("*")
		p, err := s.Search(t.Context(), SearchRequest{Query: pq, Start: base.Add(3 * time.Hour), End: base.Add(5 * time.Hour)})
		if err != nil || fmt.Sprint(ids(p)) != "[ev-5 ev-4 ev-3]" {
			t.Fatalf("got %v, %v", ids(p), err)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		_, err := s.Search(t.Context(), SearchRequest{Cursor: "nope"})
		if !errors.Is(err, ErrBadCursor) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStore_Append_Dedup(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	ev := logEvent(1, testNow.Add(-time.Minute), "ok")
	if r, err := s.Append(t.Context(), []Event{ev, ev}); err != nil || r.Stored != 1 || r.Duplicates != 1 {
		t.Fatalf("first = %+v, %v", r, err)
	}
	if r, err := s.Append(t.Context(), []Event{ev}); err != nil || r.Stored != 0 || r.Duplicates != 1 {
		t.Fatalf("second = %+v, %v", r, err)
	}
	s.Close()
	s = openTest(t, dir, Options{})
	if r, err := s.Append(t.Context(), []Event{ev}); err != nil || r.Duplicates != 1 {
		t.Fatalf("after reopen = %+v, %v", r, err)
	}
	if p := search(t, s, "*", 10, ""); len(p.Events) != 1 {
		t.Fatalf("stored %d", len(p.Events))
	}
}

func TestStore_Append_Rejects(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	good := logEvent(1, testNow, "ok")
	old := logEvent(2, testNow.Add(-31*24*time.Hour), "ok")
	future := logEvent(3, testNow.Add(2*time.Hour), "ok")
	for _, bad := range []Event{old, future, {Time: testNow, Body: []byte(`{}`)}} {
		if _, err := s.Append(t.Context(), []Event{good, bad}); err == nil {
			t.Fatalf("Append(%s) succeeded", bad.Body)
		}
	}
	if p := search(t, s, "*", 10, ""); len(p.Events) != 0 {
		t.Fatalf("a rejected batch stored %v", ids(p))
	}
}

func TestStore_ApplyRetention(t *testing.T) {
	dir := t.TempDir()
	now := testNow
	s := openTest(t, dir, Options{Retention: 48 * time.Hour, Now: func() time.Time { return now }})
	if _, err := s.Append(t.Context(), []Event{logEvent(1, now.Add(-47*time.Hour), "ok"), logEvent(2, now, "ok")}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(48 * time.Hour)
	if err := s.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "2026-12-04.db" {
		t.Fatalf("left %v", ents)
	}
	if p := search(t, s, "*", 10, ""); fmt.Sprint(ids(p)) != "[ev-2]" {
		t.Fatalf("got %v", ids(p))
	}
	if _, err := os.Stat(filepath.Join(dir, "2026-12-02.db")); !os.IsNotExist(err) {
		t.Fatalf("expired file: %v", err)
	}
}

func TestStore_Search_IndexAgreesWithScan(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{IndexFields: []string{"status"}})
	var evs []Event
	for i := range 200 {
		evs = append(evs, logEvent(i, testNow.Add(-time.Duration(i)*time.Minute), []string{"ok", "error", "slow", "ok", "ok"}[i%5]))
	}
	if _, err := s.Append(t.Context(), evs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"status:error", "host:web-2", "status:error AND host:web-2", "status:\"error\" -host:web-1"} {
		pq, _ := ParseQuery(q)
		f, tok := pq.indexTerm(s.indexed)
		idx, _ := s.Search(t.Context(), SearchRequest{Query: pq, Limit: 1000})
		scan := *pq
		scan.root = orNode{pq.root} // not plannable: a full scan
		full, _ := s.Search(t.Context(), SearchRequest{Query: &scan, Limit: 1000})
		if tok == "" || fmt.Sprint(ids(idx)) != fmt.Sprint(ids(full)) || len(idx.Events) == 0 {
			t.Errorf("%q (index %s:%s): index %d events, scan %d", q, f, tok, len(idx.Events), len(full.Events))
		}
		if f == "status" && idx.Scanned >= full.Scanned {
			t.Errorf("%q: the index read %d records, the scan %d", q, idx.Scanned, full.Scanned)
		}
	}
}

func TestStore_Append_Concurrent(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for b := range 20 {
				evs := make([]Event, 10)
				for j := range evs {
					n := g*1000 + b*10 + j
					evs[j] = logEvent(n, testNow.Add(-time.Duration(n)*time.Second), "ok")
				}
				if _, err := s.Append(t.Context(), evs); err != nil {
					done <- err
					return
				}
				if _, err := s.Search(t.Context(), SearchRequest{Limit: 5}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if p := search(t, s, "*", 1000, ""); len(p.Events) != 800 {
		t.Fatalf("stored %d events, want 800", len(p.Events))
	}
	s.Close()
	if _, err := s.Search(t.Context(), SearchRequest{}); !errors.Is(err, ErrClosed) && err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if _, err := s.Append(t.Context(), []Event{logEvent(1, testNow, "ok")}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
}
