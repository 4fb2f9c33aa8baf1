package influx

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestHandler_Ping(t *testing.T) {
	h, _ := newTestHandler(Options{Version: "0.1.0"})
	srv := testServer(t, h)
	for _, m := range []string{"GET", "HEAD"} {
		r := do(t, m, srv.URL+"/ping", nil, nil)
		r.want(t, http.StatusNoContent, "")
		if r.header.Get("X-Influxdb-Build") != "OSS" || r.header.Get("X-Outpost-Version") != "0.1.0" {
			t.Fatalf("%s /ping headers %v", m, r.header)
		}
	}
	do(t, "GET", srv.URL+"/ping?verbose=true", nil, nil).want(t, http.StatusOK, `{"version":"1.8.10"}`)
}

func TestHandler_Health(t *testing.T) {
	h, _ := newTestHandler(Options{Version: "0.1.0"})
	srv := testServer(t, h)
	do(t, "GET", srv.URL+"/health", nil, nil).want(t, http.StatusOK,
		`{"name":"outpost","message":"ready for queries and writes","status":"pass","checks":[],"version":"0.1.0"}`)
	t.Run("hook", func(t *testing.T) {
		var health error
		h, _ := newTestHandler(Options{Version: "0.1.0", Health: func() error { return health }})
		srv := testServer(t, h)
		do(t, "GET", srv.URL+"/health", nil, nil).want(t, http.StatusOK,
			`{"name":"outpost","message":"ready for queries and writes","status":"pass","checks":[],"version":"0.1.0"}`)
		health = errors.New("write-ahead log cannot append: no space left on device")
		do(t, "GET", srv.URL+"/health", nil, nil).want(t, http.StatusServiceUnavailable,
			`{"name":"outpost","message":"write-ahead log cannot append: no space left on device","status":"fail","checks":[],"version":"0.1.0"}`)
	})
}

func TestHandler_Query(t *testing.T) {
	h, _ := newTestHandler(Options{})
	srv := testServer(t, h)
	form := func(q string) (string, map[string]string) {
		return url.Values{"q": {q}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	}
	get := func(q string) reply {
		return do(t, "GET", srv.URL+"/query?"+url.Values{"q": {q}}.Encode(), nil, nil)
	}
	t.Run("show databases before any", func(t *testing.T) {
		get("SHOW DATABASES").want(t, http.StatusOK,
			`{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"]}]}]}`)
	})
	t.Run("create database as Telegraf sends it", func(t *testing.T) {
		body, hd := form(`CREATE DATABASE "telegraf"`)
		do(t, "POST", srv.URL+"/query", strings.NewReader(body), hd).want(t, http.StatusOK, `{"results":[{"statement_id":0}]}`)
	})
	post := func(q string) reply {
		body, hd := form(q)
		return do(t, "POST", srv.URL+"/query", strings.NewReader(body), hd)
	}
	t.Run("create retention policy and database with options", func(t *testing.T) {
		post(`create retention policy "rp" on "x" duration 1d replication 1 default; CREATE DATABASE "a \"b\"" WITH DURATION 1d;`).
			want(t, http.StatusOK, `{"results":[{"statement_id":0},{"statement_id":1}]}`)
	})
	t.Run("create in a GET is refused", func(t *testing.T) {
		get(`CREATE DATABASE "fromget"`).want(t, http.StatusOK,
			`{"results":[{"statement_id":0,"error":"CREATE changes state: send it with POST"}]}`)
	})
	t.Run("writes add their db", func(t *testing.T) {
		do(t, "POST", srv.URL+"/write?db=fromwrite", strings.NewReader("m f=1 0"), nil).want(t, http.StatusNoContent, "")
		do(t, "POST", srv.URL+"/api/v2/write?bucket=bucket2", strings.NewReader("m f=1 0"), nil).want(t, http.StatusNoContent, "")
		do(t, "POST", srv.URL+"/write?db=nothingwritten", strings.NewReader("bad"), nil)
		get("show databases").want(t, http.StatusOK, `{"results":[{"statement_id":0,"series":[{"name":"databases",`+
			`"columns":["name"],"values":[["a \"b\""],["bucket2"],["fromwrite"],["telegraf"]]}]}]}`)
	})
	t.Run("other statements", func(t *testing.T) {
		get(`SHOW DATABASES; SELECT * FROM cpu; SHOW MEASUREMENTS`).want(t, http.StatusOK,
			`{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["a \"b\""],["bucket2"],["fromwrite"],["telegraf"]]}]},`+
				`{"statement_id":1,"error":"`+msgNoInfluxQL+`"},{"statement_id":2,"error":"not executed"}]}`)
	})
	t.Run("missing q", func(t *testing.T) {
		get("  ").want(t, http.StatusBadRequest, `{"error":"missing required parameter \"q\""}`)
	})
	t.Run("create database without name", func(t *testing.T) {
		r := post("CREATE DATABASE")
		if r.status != http.StatusOK || !strings.Contains(r.body, `"error":"error parsing query`) {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
}

func TestDatabases_Bounded(t *testing.T) {
	d := databases{set: make(map[string]struct{})}
	for i := range maxDatabases + 50 {
		d.add("db" + strconv.Itoa(i))
	}
	d.add("db0")
	if n := len(d.list()); n != maxDatabases {
		t.Fatalf("%d databases kept, want %d", n, maxDatabases)
	}
}

func TestSplitStatements(t *testing.T) {
	f := func(q string, want ...string) {
		t.Helper()
		var got []string
		for _, st := range splitStatements(q) {
			var parts []string
			for _, tk := range st {
				if tk.quoted {
					parts = append(parts, "<"+tk.text+">")
				} else {
					parts = append(parts, tk.text)
				}
			}
			got = append(got, strings.Join(parts, " "))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("splitStatements(%q) = %q, want %q", q, got, want)
		}
	}
	f(`CREATE DATABASE "telegraf"`, `CREATE DATABASE <telegraf>`)
	f(`a;b ; ;c`, `a`, `b`, `c`)
	f(`CREATE DATABASE "x;y" ; SHOW DATABASES`, `CREATE DATABASE <x;y>`, `SHOW DATABASES`)
	f(`CREATE DATABASE "a\"b\\c"`, `CREATE DATABASE <a"b\c>`)
	f("SELECT 'it''s' FROM m\n", `SELECT <it> <s> FROM m`)
	f(`CREATE DATABASE "unterminated`, `CREATE DATABASE <unterminated>`)
	f(``)
}
