package promrw

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

// gz compresses b as a sender's gzip body.
func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exportFixture returns testdata/export.jsonl, lines as /api/v1/export
// writes them, with its timestamps moved to end at now (so they are
// within retention).
func exportFixture(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "export.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).UnixMilli() / 1000 * 1000
	return strings.ReplaceAll(string(b), "17000000", fmt.Sprint(base/100000))
}

func TestHandler_Import_Stores(t *testing.T) {
	body := exportFixture(t)
	for _, tc := range []struct {
		name   string
		body   []byte
		header map[string]string
	}{
		{"plain", []byte(body), nil},
		{"gzip", gz(t, []byte(body)), map[string]string{"Content-Encoding": "gzip"}},
		{"CRLF, blank lines, no final newline", []byte("\r\n  \n" + strings.TrimSuffix(strings.ReplaceAll(body, "\n", "\r\n"), "\r\n")), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, nil)
			h := New(db, Config{}, Options{})
			srv := testServer(t, h)
			do(t, srv.URL+"/api/v1/import", bytes.NewReader(tc.body), tc.header).want(t, http.StatusNoContent)
			got := stored(t, db)
			if len(got) != 4 {
				t.Fatalf("stored %d series: %v", len(got), sortedKeys(got))
			}
			n := 0
			for _, v := range got {
				n += len(v)
			}
			if n != 9 || h.imStats.Samples.Load() != 9 {
				t.Fatalf("stored %d samples, counted %d, want 9", n, h.imStats.Samples.Load())
			}
			sp := got[`special{path="C:\\dir", quote="say \"hi\"", unicode="é✓"}`]
			if len(sp) != 3 || !strings.HasSuffix(sp[0], "NaN(0x7ff8000000000001)") || !strings.HasSuffix(sp[1], ":+Inf") || !strings.HasSuffix(sp[2], ":-Inf") {
				t.Fatalf("special values %v (series %v)", sp, sortedKeys(got))
			}
		})
	}
}

func TestHandler_Import_BadLines(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{ImportMaxLineBytes: 4 << 10}, Options{})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	good := func(name string) string {
		return fmt.Sprintf(`{"metric":{"__name__":%q},"values":[1,2],"timestamps":[%d,%d]}`, name, now-1, now)
	}
	body := strings.Join([]string{
		good("a"),
		`{"metric":{"__name__":"b"},"values":[1],"timestamps":[]}`,
		good("c"),
		`{"metric":{"__name__":"x","` + strings.Repeat("y", 5000) + `":"1"},"values":[1],"timestamps":[1]}`,
		`{"metric":{"job":"no name"},"values":[1,2,3],"timestamps":[1,2,3]}`,
		fmt.Sprintf(`{"metric":{"__name__":"old"},"values":[1,2],"timestamps":[1,%d]}`, now),
		good("d"),
	}, "\n")
	r := do(t, srv.URL+"/api/v1/import", strings.NewReader(body), nil)
	r.want(t, http.StatusBadRequest, `line 2 "{\"metric\":{\"__name__\":\"b\"}`, "1 values but 0 timestamps",
		"wrote 7 samples, dropped 4 samples and 2 lines")
	got := stored(t, db)
	if keys := strings.Join(sortedKeys(got), " "); keys != "a{} c{} d{} old{}" {
		t.Fatalf("stored %s", keys)
	}
	want := map[string]uint64{"lines:parse": 1, "lines:too_long": 1, "samples:invalid_series": 3, "samples:out_of_bounds": 1}
	if r := rejections(h.imStats); fmt.Sprint(r) != fmt.Sprint(want) {
		t.Fatalf("rejections %v, want %v", r, want)
	}
	// Each error names its line: the first one of each kind alone.
	for _, tc := range []struct{ body, want string }{
		{good("a") + "\n" + `{"metric":{"__name__":"x","` + strings.Repeat("y", 5000) + `":"1"}}`,
			`line 2 "{\"metric\":{\"__name__\":\"x\",\"yyy`},
		{good("a") + "\n\n" + `{"metric":{"job":"no name"},"values":[1],"timestamps":[1]}`,
			`line 3 (no metric name){job="no name"}: invalid labels`},
	} {
		r := do(t, srv.URL+"/api/v1/import", strings.NewReader(tc.body), nil)
		r.want(t, http.StatusBadRequest, tc.want)
	}
}

func TestHandler_Import_LongSeriesInBatches(t *testing.T) {
	// Lines of 1,000 samples in batches of 7 points: each line's labels
	// (with escapes, so copied out of the line) are added again after
	// every flush, and must still be right when the store reads them.
	db := openDB(t, nil)
	var writes int
	h := New(writerFunc(func(ctx context.Context, pts []tsdb.Point) error {
		writes++
		return db.Write(ctx, pts)
	}), Config{}, Options{BatchPoints: 7})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	var b strings.Builder
	for i := range 5 {
		fmt.Fprintf(&b, `{"metric":{"__name__":"m\u0041%d","k\"%d":"v\\%d"},"values":[`, i, i, i)
		for j := range 1000 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, j)
		}
		b.WriteString(`],"timestamps":[`)
		for j := range 1000 {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, now-int64(j)*100)
		}
		b.WriteString("]}\n")
	}
	do(t, srv.URL+"/api/v1/import", strings.NewReader(b.String()), nil).want(t, http.StatusNoContent)
	got := stored(t, db)
	for i := range 5 {
		k := fmt.Sprintf(`mA%d{k"%d="v\\%d"}`, i, i, i)
		if len(got[k]) != 1000 {
			t.Fatalf("%s holds %d samples; stored %v", k, len(got[k]), sortedKeys(got))
		}
	}
	if len(got) != 5 || writes < 5000/7 {
		t.Fatalf("%d series in %d writes", len(got), writes)
	}
}

func TestHandler_Import_BodyFails(t *testing.T) {
	db := openDB(t, nil)
	h := New(db, Config{}, Options{MaxBodyBytes: 1 << 10})
	srv := testServer(t, h)
	now := time.Now().UnixMilli()
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf(`{"metric":{"__name__":"m","i":"%d"},"values":[%d],"timestamps":[%d]}`, i, i, now))
	}
	body := strings.Join(lines, "\n") + "\n"
	// Over the wire limit midway: what came before is written, and the
	// answer says up to which line.
	r := do(t, srv.URL+"/api/v1/import", strings.NewReader(body), nil)
	r.want(t, http.StatusRequestEntityTooLarge, "request body too large: over 1024 bytes", "lines 1 to 1")
	var through int
	if _, err := fmt.Sscanf(r.body[strings.Index(r.body, "lines 1 to "):], "lines 1 to %d written", &through); err != nil || through < 5 {
		t.Fatalf("progress in %q: %d %v", r.body, through, err)
	}
	if got := stored(t, db); len(got) != through {
		t.Fatalf("stored %d series, the answer says lines 1 to %d", len(got), through)
	}
	// A broken gzip stream.
	z := gz(t, []byte(lines[0]+"\n"+lines[1]))
	z[len(z)-5] ^= 0xff // the CRC
	do(t, srv.URL+"/api/v1/import", bytes.NewReader(z), map[string]string{"Content-Encoding": "gzip"}).
		want(t, http.StatusBadRequest, "bad request body", "gzip")
	do(t, srv.URL+"/api/v1/import", strings.NewReader("not gzip"), map[string]string{"Content-Encoding": "gzip"}).
		want(t, http.StatusBadRequest, "bad request body", "gzip")
	do(t, srv.URL+"/api/v1/import", strings.NewReader(""), map[string]string{"Content-Encoding": "br"}).
		want(t, http.StatusUnsupportedMediaType, `Content-Encoding "br"`)
	if u := h.Usage(); u.Used != 0 {
		t.Fatalf("budget %+v after the requests", u)
	}
}

func TestReadLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string // "!" marks a line too long
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\nb", []string{"a", "b"}},
		{"", nil},
		{"\n\n", []string{"", ""}},
		{strings.Repeat("x", 40) + "\nok\n" + strings.Repeat("y", 17), []string{"!", "ok", "!"}},
		{"0123456789abcdef\nz", []string{"!", "z"}}, // exactly the window, with its '\n' past it
	} {
		br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
		var got []string
		for range 10 {
			line, long, err := readLine(br)
			if err != nil {
				t.Fatal(err)
			}
			if line == nil && !long {
				break
			}
			if long {
				got = append(got, "!")
				continue
			}
			got = append(got, string(line))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
		}
	}
}
