package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// do sends one request and returns status, body and headers.
func do(t *testing.T, method, url, body string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func gzipped(s string) string {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

// TestWriteAPI_BadInput sends what senders get wrong to the real binary and
// checks each answer (status and body as InfluxDB and DESIGN §5 and §10
// give them) and that nothing accepted before is lost.
func TestWriteAPI_BadInput(t *testing.T) {
	dir := t.TempDir()
	srv := startServerWith(t, dir, serverConfig{
		Storage: "  max_series: 50",
		Extra:   "influx:\n  max_line_bytes: 4096\n",
	})
	defer srv.stop()
	now := time.Now().UnixNano()
	// Accepted first: it must survive everything below.
	good := fmt.Sprintf("keep,host=a value=1 %d\nkeep,host=b value=2 %d\n", now, now)
	if code, body, _ := do(t, "POST", srv.base+"/write?db=e2e", good); code != http.StatusNoContent {
		t.Fatalf("good write: %d %s", code, body)
	}

	f := func(name string, wantCode int, wantBody string, method, path, body string, hdr ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			code, got, h := do(t, method, srv.base+path, body, hdr...)
			if code != wantCode || !strings.Contains(got, wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", code, got, wantCode, wantBody)
			}
			if h.Get("X-Influxdb-Version") == "" {
				t.Errorf("no X-Influxdb-Version header")
			}
		})
	}
	ts := fmt.Sprint(now)
	f("malformed line, v1: partial write names line 2", 400, `partial write: unable to parse 'bad line here' (line 2`,
		"POST", "/write?db=e2e", "ok1 value=1 "+ts+"\nbad line here\nok1 value=2 "+ts+"\n")
	f("malformed line, v2: 422", 422, `"code":"unprocessable entity"`,
		"POST", "/api/v2/write?bucket=e2e&org=o", "ok2 value=1 "+ts+"\nbad line here\n")
	f("every line bad", 400, `unable to parse`, "POST", "/write?db=e2e", "nonsense\n")
	f("bad precision", 400, `precision`, "POST", "/write?db=e2e&precision=fortnight", "ok3 value=1 1\n")
	f("bad precision, v2", 400, `"code":"invalid"`, "POST", "/api/v2/write?bucket=e2e&precision=h", "ok3 value=1 1\n")
	f("invalid gzip", 400, `gzip`, "POST", "/write?db=e2e", "not gzip at all", "Content-Encoding", "gzip")
	f("oversized line", 400, `too long`, "POST", "/write?db=e2e", "big value=\""+strings.Repeat("x", 5000)+"\"\n")
	f("gzip body fine", 204, ``, "POST", "/write?db=e2e", gzipped("gz value=1 "+ts+"\n"), "Content-Encoding", "gzip")
	f("empty body, v1", 204, ``, "POST", "/write?db=e2e", "")
	f("empty body, v2", 400, `writing requires points`, "POST", "/api/v2/write?bucket=e2e", "")

	// Cardinality: 50 series at most; the first write fills past it.
	var lines strings.Builder
	for i := range 60 {
		fmt.Fprintf(&lines, "card,i=%d value=1 %s\n", i, ts)
	}
	f("series beyond the limit, v1", 400, "too many series", "POST", "/write?db=e2e", lines.String())
	f("series beyond the limit, v2", 422, "too many series", "POST", "/api/v2/write?bucket=e2e", "card,i=999 value=1 "+ts+"\n")
	f("existing series still accepted", 204, ``, "POST", "/write?db=e2e", "keep,host=a value=3 "+fmt.Sprint(now+1e9)+"\n")

	// The good lines of the partial writes are stored, the first write too.
	got := srv.export(`{__name__=~"keep_value|ok1_value|gz_value"}`)
	if v := got["keep_value,db=e2e,host=a"]; len(v) != 2 {
		t.Errorf("keep_value host=a: %v", v)
	}
	if v := got["ok1_value,db=e2e"]; len(v) != 1 {
		t.Errorf("good lines around the bad one: %v", got)
	}
	if len(got["gz_value,db=e2e"]) != 1 {
		t.Errorf("gzip write: %v", got)
	}
}

// TestWriteAPI_BodyLimit checks 413 for a body over http.max_body_bytes,
// also when it only grows past the limit once decompressed.
func TestWriteAPI_BodyLimit(t *testing.T) {
	srv := startServerWith(t, t.TempDir(), serverConfig{HTTP: "  max_body_bytes: 64KiB"})
	defer srv.stop()
	big := strings.Repeat("m value=1\n", 10_000) // 100 KB
	for _, tc := range []struct {
		name, body string
		hdr        []string
	}{
		{"plain", big, nil},
		{"gzip bomb", gzipped(big), []string{"Content-Encoding", "gzip"}},
	} {
		if code, body, _ := do(t, "POST", srv.base+"/write?db=e2e", tc.body, tc.hdr...); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: got %d %s, want 413", tc.name, code, body)
		}
	}
}

// TestWriteAPI_Tokens checks DESIGN §10 with tokens configured: a wrong
// token is 401 in the flavour of the API, a read token cannot write.
func TestWriteAPI_Tokens(t *testing.T) {
	srv := startServerWith(t, t.TempDir(), serverConfig{
		Extra: "auth:\n  tokens:\n    - token: w-secret\n      role: write\n    - token: r-secret\n      role: read\n",
	})
	defer srv.stop()
	line := "tok value=1\n"
	f := func(name string, want int, wantBody, path string, hdr ...string) {
		t.Helper()
		if code, body, _ := do(t, "POST", srv.base+path, line, hdr...); code != want || !strings.Contains(body, wantBody) {
			t.Errorf("%s: got %d %s, want %d containing %q", name, code, body, want, wantBody)
		}
	}
	f("no token", 401, `{"error":"authorization failed"}`, "/write?db=x")
	f("wrong token, v1 p=", 401, `authorization failed`, "/write?db=x&u=me&p=nope")
	f("wrong token, v2", 401, `"code":"unauthorized"`, "/api/v2/write?bucket=x", "Authorization", "Token nope")
	f("read token cannot write", 403, `forbidden`, "/write?db=x&p=r-secret")
	f("write token via p=", 204, ``, "/write?db=x&p=w-secret")
	f("write token via v2 Token", 204, ``, "/api/v2/write?bucket=x", "Authorization", "Token w-secret")
	f("write token via Basic", 204, ``, "/write?db=x", "Authorization", "Basic "+basic("telegraf", "w-secret"))
	// Reading needs a read token.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.base+"/api/v1/export?match[]=tok_value", nil)
	req.Header.Set("Authorization", "Bearer r-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.Count(string(b), `"timestamps"`) != 1 {
		t.Fatalf("export with read token: %d %s", resp.StatusCode, b)
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest("GET", "http://x", nil)
	req.SetBasicAuth(user, pass)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}
