package promrw

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"

	"outpost/tsdb"
)

// fakeTarget is a remote write endpoint answering from a script of status
// codes (then 204), recording the series it accepted.
type fakeTarget struct {
	mu      sync.Mutex
	script  []int
	got     []string // "labels@t=v" of accepted samples
	headers http.Header
}

func (ft *fakeTarget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.headers = r.Header.Clone()
	if len(ft.script) > 0 {
		code := ft.script[0]
		ft.script = ft.script[1:]
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		return
	}
	dec, err := snappy.Decode(nil, body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	req := NewRequest(dec)
	for ts, ok := req.Next(); ok; ts, ok = req.Next() {
		ls, _, _ := ts.Labels(nil)
		ts.Samples(func(t int64, v float64) bool {
			ft.got = append(ft.got, tsdb.Labels(ls).String()+"@"+time.UnixMilli(t).UTC().Format("15:04:05"))
			return true
		})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (ft *fakeTarget) accepted() []string {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return append([]string(nil), ft.got...)
}

type nopWriter struct{}

func (nopWriter) Write(context.Context, []tsdb.Point) error { return nil }

// eqMatcher is a SelectorParser for tests: "name" selects __name__=name.
func eqMatcher(ss []string) ([][]*tsdb.Matcher, error) {
	var out [][]*tsdb.Matcher
	for _, s := range ss {
		out = append(out, []*tsdb.Matcher{tsdb.MustNewMatcher(tsdb.MatchEqual, "__name__", s)})
	}
	return out, nil
}

func TestForwarder_SendsSelectedWithExternalLabels(t *testing.T) {
	ft := &fakeTarget{script: []int{503, 429, 400}}
	srv := httptest.NewServer(ft)
	defer srv.Close()
	cfg := ForwardConfig{Targets: []TargetConfig{{
		Name: "t", URL: srv.URL, Match: []string{"up"}, BearerToken: "s3cret",
		ExternalLabels: map[string]string{"site": "b1", "host": "ext"}, FlushInterval: time.Millisecond,
	}}}
	if err := cfg.Validate(eqMatcher); err != nil {
		t.Fatal(err)
	}
	f, err := OpenForwarder(cfg, ForwardOptions{Dir: t.TempDir(), Parse: eqMatcher})
	if err != nil {
		t.Fatal(err)
	}
	w := f.Tap(nopWriter{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	pt := func(name, host string, sec int64) tsdb.Point {
		return tsdb.Point{Labels: tsdb.Labels{{Name: "__name__", Value: name}, {Name: "host", Value: host}}, T: t0 + sec*1000, V: 1}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// The first batch meets 503 and 429 (retried), then 400 (dropped).
	w.Write(ctx, []tsdb.Point{pt("up", "a", 0)})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ft.mu.Lock()
		n := len(ft.script)
		ft.mu.Unlock()
		if n == 0 {
			break
		}
	}
	w.Write(ctx, []tsdb.Point{pt("up", "a", 1), pt("up", "a", 2), pt("cpu", "a", 1), pt("up", "b", 1)})
	// A write that came from another outpost's forwarder is not forwarded.
	w.Write(context.WithValue(ctx, forwardedKey{}, true), []tsdb.Point{pt("up", "loop", 1)})
	want := []string{
		`up{host="a", site="b1"}@00:00:01`, `up{host="a", site="b1"}@00:00:02`, `up{host="b", site="b1"}@00:00:01`,
	}
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(got) < len(want); time.Sleep(10 * time.Millisecond) {
		got = ft.accepted()
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	<-done
	if got = ft.accepted(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("target got\n%q\nwant\n%q", got, want)
	}
	if h := ft.headers; h.Get("Authorization") != "Bearer s3cret" || h.Get("Content-Encoding") != "snappy" ||
		h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" || h.Get(forwardedHeader) == "" {
		t.Fatalf("headers: %v", h)
	}
	var m strings.Builder
	f.WriteMetrics(&m)
	t.Logf("metrics:\n%s", m.String())
	for _, line := range []string{
		`outpost_forward_samples_sent_total{target="t"} 3`, `outpost_forward_samples_dropped_total{target="t"} 1`,
		`outpost_forward_samples_failed_total{target="t"} 2`, `outpost_forward_retries_total{target="t"} 2`,
		`outpost_forward_pending_samples{target="t"} 0`,
	} {
		if !strings.Contains(m.String(), line+"\n") {
			t.Errorf("metrics lack %q:\n%s", line, m.String())
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestForwardConfig_Validate(t *testing.T) {
	f := func(tc TargetConfig, want string) {
		t.Helper()
		err := ForwardConfig{Targets: []TargetConfig{tc}}.Validate(eqMatcher)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc, err, want)
		}
	}
	f(TargetConfig{Name: "a/b", URL: "http://x"}, "forward.targets[0].name")
	f(TargetConfig{Name: "a", URL: "ftp://x"}, "forward.targets[0].url")
	f(TargetConfig{Name: "a", URL: "http://x", MaxSamplesPerSend: -1}, "max_samples_per_send")
	f(TargetConfig{Name: "a", URL: "http://x", MaxQueueBytes: 10}, "max_queue_bytes")
	f(TargetConfig{Name: "a", URL: "http://x", BearerToken: "t", BasicAuth: BasicAuth{Username: "u"}}, "bearer_token and basic_auth")
	f(TargetConfig{Name: "a", URL: "http://x", ExternalLabels: map[string]string{"__name__": "x"}}, "external_labels")
}
