package main

// End-to-end tests of the Prometheus query API with real clients against
// the real binary on loopback: promtool (Debian's prometheus package) and
// the requests Grafana's Prometheus data source sends, replayed as Grafana
// sends them.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// queryFixture is the data the query tests write: cpu_usage_user and
// cpu_usage_system for hosts h1 and h2 (db "test"), 21 samples 30 s apart
// from t0. At t0+i*30s, h1's usage_user is 10+i+0.5 and h2's 50+i+0.25.
type queryFixture struct {
	s  *server
	t0 int64 // unix seconds of the first sample
}

// startQueryFixture starts outpost and writes the fixture through POST
// /write.
func startQueryFixture(t *testing.T) *queryFixture {
	t.Helper()
	s := startServer(t, t.TempDir())
	t.Cleanup(s.stop)
	t0 := time.Now().Add(-15*time.Minute).Unix() / 60 * 60
	var b strings.Builder
	for i := range 21 {
		ts := t0 + int64(i)*30
		fmt.Fprintf(&b, "cpu,host=h1 usage_user=%d.5,usage_system=2 %d\n", 10+i, ts)
		fmt.Fprintf(&b, "cpu,host=h2 usage_user=%d.25,usage_system=3 %d\n", 50+i, ts)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	code, body, err := post(ctx, http.DefaultClient, s.base, "db=test&precision=s", b.String())
	if err != nil || code != http.StatusNoContent {
		t.Fatalf("write fixture: HTTP %d %q %v", code, body, err)
	}
	return &queryFixture{s: s, t0: t0}
}

// TestQueryAPI_Promtool runs `promtool query instant|range|series|labels`
// against outpost and checks promtool's output text.
func TestQueryAPI_Promtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skipf("promtool is not installed (%v); apt-get install prometheus", err)
	}
	f := startQueryFixture(t)
	at := func(i int) int64 { return f.t0 + int64(i)*30 }
	run := func(args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, promtool, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"instant", []string{"query", "instant", "--time=" + strconv.FormatInt(at(10), 10), f.s.base, "cpu_usage_user"},
			fmt.Sprintf("cpu_usage_user{db=\"test\", host=\"h1\"} => 20.5 @[%d]\ncpu_usage_user{db=\"test\", host=\"h2\"} => 60.25 @[%d]\n", at(10), at(10))},
		{"instant aggregation", []string{"query", "instant", "--time=" + strconv.FormatInt(at(10), 10), f.s.base, "sum by (db) (cpu_usage_user)"},
			fmt.Sprintf("{db=\"test\"} => 80.75 @[%d]\n", at(10))},
		{"instant scalar", []string{"query", "instant", "--time=" + strconv.FormatInt(at(3), 10), f.s.base, "1+1"},
			fmt.Sprintf("scalar: 2 @[%d]\n", at(3))},
		{"range", []string{"query", "range", "--start=" + strconv.FormatInt(at(10), 10), "--end=" + strconv.FormatInt(at(12), 10),
			"--step=30s", f.s.base, `cpu_usage_user{host="h1"}`},
			fmt.Sprintf("cpu_usage_user{db=\"test\", host=\"h1\"} =>\n20.5 @[%d]\n21.5 @[%d]\n22.5 @[%d]\n", at(10), at(11), at(12))},
		{"range rate", []string{"query", "range", "--start=" + strconv.FormatInt(at(10), 10), "--end=" + strconv.FormatInt(at(11), 10),
			"--step=30s", f.s.base, `rate(cpu_usage_user{host="h2"}[1m])`},
			fmt.Sprintf("{db=\"test\", host=\"h2\"} =>\n0.03333333333333333 @[%d]\n0.03333333333333333 @[%d]\n", at(10), at(11))},
		{"series", []string{"query", "series", "--match=cpu_usage_user", f.s.base},
			"{__name__=\"cpu_usage_user\", db=\"test\", host=\"h1\"}\n{__name__=\"cpu_usage_user\", db=\"test\", host=\"h2\"}\n"},
		{"series two matchers", []string{"query", "series", "--match=cpu_usage_system{host=\"h2\"}", "--match=cpu_usage_user{host=\"h1\"}", f.s.base},
			"{__name__=\"cpu_usage_system\", db=\"test\", host=\"h2\"}\n{__name__=\"cpu_usage_user\", db=\"test\", host=\"h1\"}\n"},
		{"labels host", []string{"query", "labels", f.s.base, "host"}, "h1\nh2\n"},
		{"labels name", []string{"query", "labels", f.s.base, "__name__"}, "cpu_usage_system\ncpu_usage_user\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, err := run(c.args...)
			if err != nil {
				t.Fatalf("promtool %s: %v\n%s", strings.Join(c.args, " "), err, stderr)
			}
			if stdout != c.want {
				t.Errorf("promtool %s:\ngot\n%s\nwant\n%s", strings.Join(c.args, " "), stdout, c.want)
			}
		})
	}
	t.Run("syntax error", func(t *testing.T) {
		_, stderr, err := run("query", "instant", f.s.base, "sum((")
		if err == nil {
			t.Fatal("promtool succeeded on a syntax error")
		}
		if !strings.Contains(stderr, "bad_data") || !strings.Contains(stderr, "1:6") {
			t.Errorf("promtool stderr %q, want bad_data with the position 1:6", stderr)
		}
	})
}

// grafanaCall is one request as Grafana's Prometheus data source sends it
// and a check of the answer's data.
type grafanaCall struct {
	name   string
	method string
	path   string
	params url.Values // query string (GET) or form body (POST)
	check  func(t *testing.T, data json.RawMessage)
}

// TestQueryAPI_GrafanaCalls replays the calls Grafana's Prometheus data
// source makes (health check, build info, label and series lookups,
// metadata, exemplars, rules, and its form POST queries) and checks each
// answer has the shape Grafana parses.
func TestQueryAPI_GrafanaCalls(t *testing.T) {
	f := startQueryFixture(t)
	sec := func(i int) string { return strconv.FormatInt(f.t0+int64(i)*30, 10) }
	// Grafana formats times as fractional Unix seconds.
	frac := func(i int) string { return strconv.FormatInt(f.t0+int64(i)*30, 10) + ".5" }
	start, end := strconv.FormatInt(f.t0-3600, 10), strconv.FormatInt(time.Now().Unix(), 10)
	for _, c := range grafanaCalls(sec, frac, start, end) {
		t.Run(c.name, func(t *testing.T) {
			data := grafanaDo(t, f.s.base, c)
			c.check(t, data)
		})
	}
	t.Run("query_range bad query", func(t *testing.T) {
		req := grafanaRequest(t, f.s.base, "POST", "/api/v1/query_range",
			url.Values{"query": {"sum(("}, "start": {frac(0)}, "end": {frac(5)}, "step": {"30"}})
		resp, env := grafanaSend(t, req)
		if resp.StatusCode != http.StatusBadRequest || env.Status != "error" || env.ErrorType != "bad_data" || env.Error == "" {
			t.Errorf("bad query: HTTP %d %+v, want 400 error bad_data with a message", resp.StatusCode, env)
		}
	})
}

// grafanaCalls lists the calls; sec(i) and frac(i) are the time of sample
// i as integer and fractional Unix seconds, start and end a range around
// the data.
func grafanaCalls(sec, frac func(int) string, start, end string) []grafanaCall {
	return []grafanaCall{
		{"health check 1+1", "GET", "/api/v1/query", url.Values{"query": {"1+1"}, "time": {frac(20)}}, checkScalar("2")},
		{"health check 1+1 POST", "POST", "/api/v1/query", url.Values{"query": {"1+1"}, "time": {frac(20)}}, checkScalar("2")},
		{"buildinfo", "GET", "/api/v1/status/buildinfo", nil, checkBuildInfo},
		{"labels", "GET", "/api/v1/labels", url.Values{"start": {start}, "end": {end}}, checkStrings("__name__", "db", "host")},
		{"labels POST", "POST", "/api/v1/labels", url.Values{"start": {start}, "end": {end}}, checkStrings("__name__", "db", "host")},
		{"metric names", "GET", "/api/v1/label/__name__/values", url.Values{"start": {start}, "end": {end}},
			checkStrings("cpu_usage_system", "cpu_usage_user")},
		{"label values with match", "GET", "/api/v1/label/host/values",
			url.Values{"match[]": {`cpu_usage_user{host="h2"}`}, "start": {start}, "end": {end}}, checkStrings("h2")},
		{"series", "GET", "/api/v1/series", url.Values{"match[]": {"cpu_usage_user"}, "start": {start}, "end": {end}},
			checkSeries(`{"__name__":"cpu_usage_user","db":"test","host":"h1"}`, `{"__name__":"cpu_usage_user","db":"test","host":"h2"}`)},
		{"series POST", "POST", "/api/v1/series", url.Values{"match[]": {`{__name__=~"cpu_.*",host="h1"}`}, "start": {start}, "end": {end}},
			checkSeries(`{"__name__":"cpu_usage_system","db":"test","host":"h1"}`, `{"__name__":"cpu_usage_user","db":"test","host":"h1"}`)},
		{"metadata", "GET", "/api/v1/metadata", nil, checkObject},
		{"metadata of a metric", "GET", "/api/v1/metadata", url.Values{"metric": {"cpu_usage_user"}, "limit": {"1"}}, checkObject},
		{"exemplars", "POST", "/api/v1/query_exemplars", url.Values{"query": {"cpu_usage_user"}, "start": {frac(0)}, "end": {frac(20)}}, checkEmptyArray},
		{"rules", "GET", "/api/v1/rules", nil, checkRules},
		{"instant query POST", "POST", "/api/v1/query", url.Values{"query": {"cpu_usage_user"}, "time": {sec(10)}},
			checkVector(sec(10), map[string]string{"h1": "20.5", "h2": "60.25"})},
		{"range query POST", "POST", "/api/v1/query_range",
			url.Values{"query": {`sum by (host) (cpu_usage_user)`}, "start": {frac(10)}, "end": {frac(12)}, "step": {"30"}},
			checkMatrix(map[string][]string{"h1": {frac(10), "20.5", frac(11), "21.5", frac(12), "22.5"},
				"h2": {frac(10), "60.25", frac(11), "61.25", frac(12), "62.25"}})},
		{"range query GET step duration", "GET", "/api/v1/query_range",
			url.Values{"query": {`cpu_usage_user{host="h1"}`}, "start": {sec(10)}, "end": {sec(11)}, "step": {"30s"}},
			checkMatrix(map[string][]string{"h1": {sec(10), "20.5", sec(11), "21.5"}})},
	}
}

// promEnvelope is the Prometheus API's answer envelope.
type promEnvelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// grafanaRequest builds a request with Grafana's headers; POST bodies are
// forms, as Grafana's client sends them.
func grafanaRequest(t *testing.T, base, method, path string, params url.Values) *http.Request {
	t.Helper()
	var req *http.Request
	var err error
	if method == "GET" {
		u := base + path
		if len(params) > 0 {
			u += "?" + params.Encode()
		}
		req, err = http.NewRequestWithContext(t.Context(), method, u, nil)
	} else {
		req, err = http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(params.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "Grafana/10.4.0")
	req.Header.Set("Accept", "application/json, text/plain, */*")
	req.Header.Set("X-Grafana-Org-Id", "1")
	return req
}

// grafanaSend sends req and decodes the envelope.
func grafanaSend(t *testing.T, req *http.Request) (*http.Response, promEnvelope) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", req.Method, req.URL.Path, err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, req.URL.Path, ct)
	}
	var env promEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Path, body, err)
	}
	return resp, env
}

// grafanaDo sends a call and returns its data after checking the
// envelope.
func grafanaDo(t *testing.T, base string, c grafanaCall) json.RawMessage {
	t.Helper()
	resp, env := grafanaSend(t, grafanaRequest(t, base, c.method, c.path, c.params))
	if resp.StatusCode != http.StatusOK || env.Status != "success" {
		t.Fatalf("%s %s: HTTP %d %+v", c.method, c.path, resp.StatusCode, env)
	}
	return env.Data
}

func checkScalar(want string) func(*testing.T, json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var d struct {
			ResultType string `json:"resultType"`
			Result     []any  `json:"result"`
		}
		mustUnmarshal(t, data, &d)
		if d.ResultType != "scalar" || len(d.Result) != 2 {
			t.Fatalf("got %s, want a scalar [time, value]", data)
		}
		if _, ok := d.Result[0].(float64); !ok || d.Result[1] != want {
			t.Errorf("got %s, want [<number>, %q]", data, want)
		}
	}
}

func checkBuildInfo(t *testing.T, data json.RawMessage) {
	var d map[string]any
	mustUnmarshal(t, data, &d)
	if d["version"] != "2.24.0" {
		t.Errorf("version %v, want 2.24.0 (Grafana reads it as the Prometheus version)", d["version"])
	}
	if _, ok := d["features"]; ok {
		t.Errorf("buildinfo has a features key, which makes Grafana take the server for Mimir/Cortex: %s", data)
	}
	for _, k := range []string{"revision", "branch", "buildUser", "buildDate", "goVersion"} {
		if _, ok := d[k].(string); !ok {
			t.Errorf("buildinfo lacks string %q: %s", k, data)
		}
	}
}

func checkStrings(want ...string) func(*testing.T, json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var got []string
		mustUnmarshal(t, data, &got)
		if !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func checkSeries(want ...string) func(*testing.T, json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var got []map[string]string
		mustUnmarshal(t, data, &got)
		var gs []string
		for _, m := range got {
			b, _ := json.Marshal(m)
			gs = append(gs, string(b))
		}
		if !slices.Equal(gs, want) {
			t.Errorf("got %q, want %q", gs, want)
		}
	}
}

func checkObject(t *testing.T, data json.RawMessage) {
	var d map[string][]struct {
		Type string `json:"type"`
		Help string `json:"help"`
		Unit string `json:"unit"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d == nil {
		t.Errorf("got %s, want an object of metric -> [{type, help, unit}] (%v)", data, err)
	}
}

func checkEmptyArray(t *testing.T, data json.RawMessage) {
	var d []any
	if err := json.Unmarshal(data, &d); err != nil || d == nil || len(d) != 0 {
		t.Errorf("got %s, want [] (%v)", data, err)
	}
}

func checkRules(t *testing.T, data json.RawMessage) {
	var d struct {
		Groups []any `json:"groups"`
	}
	if err := json.Unmarshal(data, &d); err != nil || d.Groups == nil {
		t.Errorf("got %s, want {\"groups\": [...]} (%v)", data, err)
	}
}

// checkVector checks an instant vector at time at: host -> value string.
func checkVector(at string, want map[string]string) func(*testing.T, json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var d struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  []json.RawMessage `json:"value"`
			} `json:"result"`
		}
		mustUnmarshal(t, data, &d)
		if d.ResultType != "vector" || len(d.Result) != len(want) {
			t.Fatalf("got %s, want a vector of %d samples", data, len(want))
		}
		for _, r := range d.Result {
			h := r.Metric["host"]
			if len(r.Value) != 2 || string(r.Value[0]) != at || string(r.Value[1]) != strconv.Quote(want[h]) {
				t.Errorf("sample %v: got %s, want [%s, %q]", r.Metric, r.Value, at, want[h])
			}
		}
	}
}

// checkMatrix checks a matrix: host -> t1, v1, t2, v2, ... (times as JSON
// numbers, values as strings).
func checkMatrix(want map[string][]string) func(*testing.T, json.RawMessage) {
	return func(t *testing.T, data json.RawMessage) {
		var d struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string   `json:"metric"`
				Values [][]json.RawMessage `json:"values"`
			} `json:"result"`
		}
		mustUnmarshal(t, data, &d)
		if d.ResultType != "matrix" || len(d.Result) != len(want) {
			t.Fatalf("got %s, want a matrix of %d series", data, len(want))
		}
		for _, r := range d.Result {
			var got []string
			for _, p := range r.Values {
				if len(p) != 2 {
					t.Fatalf("point %s is not [time, value]", p)
				}
				v, err := strconv.Unquote(string(p[1]))
				if err != nil {
					t.Errorf("value %s is not a string", p[1])
				}
				ts, err := strconv.ParseFloat(string(p[0]), 64)
				if err != nil {
					t.Errorf("time %s is not a number", p[0])
				}
				got = append(got, strconv.FormatFloat(ts, 'f', -1, 64), v)
			}
			if w := want[r.Metric["host"]]; !slices.Equal(got, w) {
				t.Errorf("series %v: got %q, want %q", r.Metric, got, w)
			}
		}
	}
}

func mustUnmarshal(t *testing.T, data json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}
