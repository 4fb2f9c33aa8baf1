package query

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/tsdb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/api")

// apiT0 is the first sample time of the API test data.
var apiT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newTestAPI serves the API over a real store holding a counter and a
// gauge for two hosts, on a real loopback socket.
func newTestAPI(t *testing.T, opts Options, aopts APIOptions) *httptest.Server {
	t.Helper()
	db := openTestDB(t, apiT0.Add(2*time.Hour))
	for i, host := range []string{"a", "b"} {
		c := make([]float64, 61)
		g := make([]float64, 61)
		for j := range c {
			c[j] = float64(j * (i + 1) * 6)
			g[j] = float64((j+i)%7) + 0.5
		}
		writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "req_total", "host", host, "job", "web"), apiT0, time.Minute, c...))
		writePoints(t, db, seriesPoints(tsdb.FromStrings("__name__", "load", "host", host, "job", "node"), apiT0, time.Minute, g...))
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return apiT0.Add(time.Hour) }
	}
	opts.Workers = 1
	e := NewEngine(db, opts)
	aopts.Revision = "test"
	mux := http.NewServeMux()
	NewAPI(e, db, aopts).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// goVersion hides the toolchain version in golden files.
var goVersion = regexp.MustCompile(`"goVersion":"[^"]*"`)

func TestAPI_Golden(t *testing.T) {
	srv := newTestAPI(t, Options{MaxPointsPerSeries: 1000}, APIOptions{})
	t0 := "1767225600"
	cases := []struct {
		name, method, path string
		form               url.Values
	}{
		{"query_scalar", "GET", "/api/v1/query", url.Values{"query": {"1+1"}, "time": {t0}}},
		{"query_vector", "GET", "/api/v1/query", url.Values{"query": {"load"}, "time": {"2026-01-01T00:30:00Z"}}},
		{"query_rate", "POST", "/api/v1/query", url.Values{"query": {"sum by (job) (rate(req_total[5m]))"}, "time": {"1767227400.5"}}},
		{"query_inf_nan", "GET", "/api/v1/query", url.Values{"query": {"load / 0 or label_set(-load{host=\"a\"} / 0, \"sign\", \"neg\")"}, "time": {"1767227400"}}},
		{"query_nan_scalar", "GET", "/api/v1/query", url.Values{"query": {"0/0"}, "time": {t0}}},
		{"query_string", "GET", "/api/v1/query", url.Values{"query": {`"hello"`}, "time": {t0}}},
		{"query_default_time", "GET", "/api/v1/query", url.Values{"query": {"count(load)"}}},
		{"query_range", "POST", "/api/v1/query_range", url.Values{"query": {"max by (host) (load)"}, "start": {t0}, "end": {"1767225780"}, "step": {"60"}}},
		{"query_range_duration_step", "GET", "/api/v1/query_range", url.Values{"query": {"rate(req_total{host=\"a\"}[2m])"}, "start": {"2026-01-01T00:10:00Z"}, "end": {"2026-01-01T00:12:00Z"}, "step": {"1m"}}},
		{"query_range_fraction", "GET", "/api/v1/query_range", url.Values{"query": {"time()"}, "start": {"1767225600.25"}, "end": {"1767225601"}, "step": {"0.25"}}},
		{"series", "GET", "/api/v1/series", url.Values{"match[]": {"load", "req_total{host=\"b\"}"}}},
		{"labels", "GET", "/api/v1/labels", nil},
		{"labels_match", "POST", "/api/v1/labels", url.Values{"match[]": {"load"}, "start": {t0}, "end": {"1767229200"}}},
		{"label_values", "GET", "/api/v1/label/host/values", nil},
		{"label_values_name", "GET", "/api/v1/label/__name__/values", url.Values{"match[]": {`{job="node"}`}}},
		{"label_values_limit", "GET", "/api/v1/label/host/values", url.Values{"limit": {"1"}}},
		{"metadata", "GET", "/api/v1/metadata", nil},
		{"exemplars", "GET", "/api/v1/query_exemplars", url.Values{"query": {"load"}, "start": {t0}, "end": {t0}}},
		{"buildinfo", "GET", "/api/v1/status/buildinfo", nil},
		{"rules", "GET", "/api/v1/rules", nil},
		{"alerts", "GET", "/api/v1/alerts", nil},
		{"tsdb_status", "GET", "/api/v1/status/tsdb", nil},
		{"err_syntax", "GET", "/api/v1/query", url.Values{"query": {"sum(rate(load[5m])"}}},
		{"err_unknown_function", "GET", "/api/v1/query", url.Values{"query": {"nosuch(load)"}}},
		{"err_arg_count", "GET", "/api/v1/query", url.Values{"query": {"histogram_quantile(0.9)"}}},
		{"err_empty_query", "GET", "/api/v1/query", url.Values{"query": {""}}},
		{"err_bad_time", "GET", "/api/v1/query", url.Values{"query": {"load"}, "time": {"yesterday"}}},
		{"err_no_step", "GET", "/api/v1/query_range", url.Values{"query": {"load"}, "start": {t0}, "end": {t0}}},
		{"err_zero_step", "GET", "/api/v1/query_range", url.Values{"query": {"load"}, "start": {t0}, "end": {t0}, "step": {"0"}}},
		{"err_end_before_start", "GET", "/api/v1/query_range", url.Values{"query": {"load"}, "start": {t0}, "end": {"1767225000"}, "step": {"60"}}},
		{"err_too_many_points", "GET", "/api/v1/query_range", url.Values{"query": {"load"}, "start": {t0}, "end": {"1767235600"}, "step": {"1"}}},
		{"err_series_no_match", "GET", "/api/v1/series", nil},
		{"err_many_to_many", "GET", "/api/v1/query", url.Values{"query": {"load / on(job) load{host=\"a\"}"}, "time": {"1767227400"}}},
		{"err_duplicate_output", "GET", "/api/v1/query", url.Values{"query": {`label_replace(load, "host", "x", "", "")`}, "time": {"1767227400"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if c.method == "POST" {
				resp, err = http.PostForm(srv.URL+c.path, c.form)
			} else {
				u := srv.URL + c.path
				if c.form != nil {
					u += "?" + c.form.Encode()
				}
				resp, err = http.Get(u)
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			got := goVersion.ReplaceAll([]byte("HTTP "+resp.Status+"\n"+string(body)+"\n"), []byte(`"goVersion":"GO"`))
			golden := filepath.Join("testdata", "api", c.name+".json")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./query/ -run TestAPI_Golden -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("response differs from %s (rerun with -update if the change is intended):\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestAPI_Query_Canceled(t *testing.T) {
	db := openTestDB(t, apiT0)
	e := NewEngine(db, Options{})
	a := NewAPI(e, db, APIOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("GET", "/api/v1/query?query=sum(rate(x[5m]))", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	a.Query(rec, req)
	if rec.Code != 499 || !strings.Contains(rec.Body.String(), `"errorType":"canceled"`) {
		t.Fatalf("got %d %s, want 499 canceled", rec.Code, rec.Body.String())
	}
}

func TestAPI_Rules_Provider(t *testing.T) {
	active := apiT0
	srv := newTestAPI(t, Options{}, APIOptions{
		Rules: func(context.Context) ([]RuleGroup, error) {
			return []RuleGroup{{Name: "disk", File: "rules.yaml", Interval: 60, Rules: []Rule{{Type: "alerting", Name: "DiskFull", Query: "disk > 90", Health: "ok", State: "firing"}}}}, nil
		},
		Alerts: func(context.Context) ([]Alert, error) {
			return []Alert{{Labels: map[string]string{"alertname": "DiskFull"}, State: "firing", ActiveAt: &active, Value: "95"}}, nil
		},
	})
	for path, want := range map[string]string{
		"/api/v1/rules":  `"groups":[{"name":"disk","file":"rules.yaml","rules":[{"type":"alerting","name":"DiskFull","query":"disk \u003e 90"`,
		"/api/v1/alerts": `"alerts":[{"labels":{"alertname":"DiskFull"},"annotations":null,"state":"firing","activeAt":"2026-01-01T00:00:00Z","value":"95"}]`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("%s: got %s, want it to contain %s", path, body, want)
		}
	}
}
