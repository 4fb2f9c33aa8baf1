package receiver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTP_Send_Classification(t *testing.T) {
	f := func(status int, body string, permanent bool, wantMsg string) {
		t.Helper()
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv := newCapture(t, status, body)
			it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL + "/hook?token=secret"}}}, DefaultGlobal())
			err := it.Send(t.Context(), testNotification())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if IsPermanent(err) != permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, IsPermanent(err), permanent)
			}
			want := strings.ReplaceAll(wantMsg, "URL", srv.URL)
			if err.Error() != want {
				t.Errorf("error\n got: %v\nwant: %s", err, want)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != status {
				t.Errorf("error %v holds no StatusError with code %d", err, status)
			}
		})
	}
	f(400, `{"error":"bad"}`, true, `send webhook to URL/hook: 400 Bad Request: {"error":"bad"}`)
	f(401, "", true, `send webhook to URL/hook: 401 Unauthorized`)
	f(404, strings.Repeat("x", 600), true, `send webhook to URL/hook: 404 Not Found: `+strings.Repeat("x", 512))
	f(408, "", false, `send webhook to URL/hook: 408 Request Timeout`)
	f(429, "slow down", false, `send webhook to URL/hook: 429 Too Many Requests: slow down`)
	f(500, "", false, `send webhook to URL/hook: 500 Internal Server Error`)
	f(503, "", false, `send webhook to URL/hook: 503 Service Unavailable`)
}

func TestHTTP_Send_RetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL}}}, DefaultGlobal())
	err := it.Send(t.Context(), testNotification())
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter != 2*time.Minute || IsPermanent(err) {
		t.Errorf("Send = %v; want a retryable StatusError with RetryAfter 2m", err)
	}
}

func TestHTTP_Send_Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL, Timeout: 100 * time.Millisecond}}}, DefaultGlobal())
	start := time.Now()
	err := it.Send(t.Context(), testNotification())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v; want a retryable deadline error", err)
	}
	if !strings.Contains(err.Error(), "no answer within 100ms") {
		t.Errorf("error %q does not say the timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send took %v; the timeout is 100ms", d)
	}
}

func TestHTTP_Send_Canceled(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	it := buildOne(t, Config{Name: "ops", WebhookConfigs: []WebhookConfig{{URL: srv.URL}}}, DefaultGlobal())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := it.Send(ctx, testNotification())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.Canceled) {
		t.Errorf("Send(canceled) = %v; want a retryable context.Canceled", err)
	}
}

func TestHTTP_Send_ConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	it := buildOne(t, Config{Name: "ops", SlackConfigs: []SlackConfig{{APIURL: "http://" + addr + "/services/T0/B0/SECRET"}}}, DefaultGlobal())
	err = it.Send(t.Context(), testNotification())
	if err == nil || IsPermanent(err) {
		t.Fatalf("Send = %v; want a retryable error", err)
	}
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "send slack message to http://"+addr+"/<redacted>") {
		t.Errorf("error %q: want the target named with its token path redacted", err)
	}
}

func TestHTTP_Credentials(t *testing.T) {
	srv := newCapture(t, http.StatusOK, "")
	cfg := Config{Name: "ops", WebhookConfigs: []WebhookConfig{
		{URL: srv.URL, HTTPConfig: HTTPConfig{BasicAuth: BasicAuth{Username: "u", Password: "p"}}},
		{URL: srv.URL, HTTPConfig: HTTPConfig{Authorization: Authorization{Credentials: "tok"}}},
	}}
	its, err := Build(cfg, DefaultGlobal(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range its {
		if err := it.Send(t.Context(), testNotification()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.requests()
	if got := reqs[0].Header.Get("Authorization"); got != "Basic dTpw" {
		t.Errorf("basic_auth sent Authorization %q", got)
	}
	if got := reqs[1].Header.Get("Authorization"); got != "Bearer tok" {
		t.Errorf("authorization sent %q, want Bearer tok", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := func(v string, want time.Duration) {
		t.Helper()
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
	f("", 0)
	f("30", 30*time.Second)
	f("-1", 0)
	f("Thu, 01 Jan 2026 00:01:00 GMT", time.Minute)
	f("Wed, 31 Dec 2025 00:00:00 GMT", 0)
	f("soon", 0)
}

func TestRedactURL(t *testing.T) {
	f := func(in string, keepPath bool, want string) {
		t.Helper()
		if got := redactURL(in, keepPath); got != want {
			t.Errorf("redactURL(%q, %v) = %q, want %q", in, keepPath, got, want)
		}
	}
	f("https://user:pw@hook.example/a/b?token=x", true, "https://hook.example/a/b")
	f("https://hooks.slack.com/services/T/B/X", false, "https://hooks.slack.com/<redacted>")
	f("http://h:8080", false, "http://h:8080")
}
