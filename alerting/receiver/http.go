package receiver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig is the subset of Alertmanager's http_config that outpost
// supports: credentials and TLS. Its other keys (proxy_url, oauth2, ...)
// are unknown keys.
type HTTPConfig struct {
	BasicAuth     BasicAuth     `koanf:"basic_auth"`
	Authorization Authorization `koanf:"authorization"`
	TLSConfig     TLSConfig     `koanf:"tls_config"`
}

// BasicAuth is HTTP Basic authentication; it is used when either field is set.
type BasicAuth struct {
	Username string `koanf:"username"`
	Password string `koanf:"password"`
}

// Authorization sets the Authorization header to "Type Credentials" when
// Credentials is set; Type defaults to "Bearer".
type Authorization struct {
	Type        string `koanf:"type"`
	Credentials string `koanf:"credentials"`
}

// Validate rejects basic_auth and authorization together, as Alertmanager does.
func (h HTTPConfig) Validate() error {
	if h.BasicAuth != (BasicAuth{}) && h.Authorization.Credentials != "" {
		return errors.New("http_config: basic_auth and authorization are exclusive")
	}
	if h.Authorization.Type != "" && h.Authorization.Credentials == "" {
		return errors.New("http_config: authorization: credentials: missing")
	}
	return nil
}

// apply sets the request's credentials.
func (h HTTPConfig) apply(req *http.Request) {
	switch {
	case h.BasicAuth != (BasicAuth{}):
		req.SetBasicAuth(h.BasicAuth.Username, h.BasicAuth.Password)
	case h.Authorization.Credentials != "":
		typ := h.Authorization.Type
		if typ == "" {
			typ = "Bearer"
		}
		req.Header.Set("Authorization", typ+" "+h.Authorization.Credentials)
	}
}

// StatusError is a peer's HTTP answer outside 2xx. Send returns it wrapped
// with Permanent unless the status is 408, 429 or 5xx; find it with
// errors.As to read RetryAfter.
type StatusError struct {
	// Op and Target name the operation and the peer ("send webhook",
	// "http://hook.example/alerts"); Target never holds credentials.
	Op, Target string
	// StatusCode and Status are the response's ("503 Service Unavailable").
	StatusCode int
	Status     string
	// Body is the start of the response body (512 bytes at most).
	Body string
	// RetryAfter is the response's Retry-After, zero when absent.
	RetryAfter time.Duration
}

// Error says the operation, the peer, the status and the start of the body.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s to %s: %s", e.Op, e.Target, e.Status)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// bodySnippet is how much of an error response's body goes into a StatusError.
const bodySnippet = 512

// retryableStatus reports whether a non-2xx status may pass on its own.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// httpSender posts to one peer: the client, credentials and timeout of one
// integration. It is safe for concurrent use.
type httpSender struct {
	client    *http.Client
	auth      HTTPConfig
	userAgent string
	timeout   time.Duration
}

// post sends body to rawURL and classifies the outcome (see StatusError).
// op and target name the operation and the peer in errors; rawURL itself
// never appears in them, as it may hold a secret (Slack's does).
func (s *httpSender) post(ctx context.Context, op, target, rawURL string, body []byte, header http.Header) error {
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s to %s: build request: %w", op, target, stripURL(err)))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", s.userAgent)
	s.auth.apply(req)
	resp, err := s.client.Do(req)
	if err != nil {
		err = stripURL(err)
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s to %s: no answer within %v: %w", op, target, s.timeout, err)
		}
		return fmt.Errorf("%s to %s: %w", op, target, err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, bodySnippet))
	se := &StatusError{
		Op:         op,
		Target:     target,
		StatusCode: resp.StatusCode,
		Status:     resp.Status,
		Body:       strings.TrimSpace(strings.ToValidUTF8(string(snippet), "?")),
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if retryableStatus(resp.StatusCode) {
		return se
	}
	return Permanent(se)
}

// stripURL unwraps a *url.Error, whose message repeats the request URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redactURL returns rawURL as errors and logs may show it: no user info, no
// query; with keepPath false, no path either (Slack's path is its token).
func redactURL(rawURL string, keepPath bool) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<bad url>"
	}
	out := u.Scheme + "://" + u.Host
	if keepPath {
		out += u.EscapedPath()
	} else if u.Path != "" && u.Path != "/" {
		out += "/<redacted>"
	}
	return out
}

// defaultClient is the client Build uses when Options.Client is nil:
// bounded dial and TLS handshake; each request is bounded by its
// integration's timeout through its context.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.MaxIdleConnsPerHost = 4
	return &http.Client{Transport: t}
}

// clientFor returns base, or a copy of it whose transport uses tc when tc
// sets anything.
func clientFor(base *http.Client, tc TLSConfig) (*http.Client, error) {
	if tc == (TLSConfig{}) {
		return base, nil
	}
	cfg, err := tc.build("")
	if err != nil {
		return nil, err
	}
	t, ok := base.Transport.(*http.Transport)
	if !ok || t == nil {
		t = http.DefaultTransport.(*http.Transport)
	}
	t = t.Clone()
	t.TLSClientConfig = cfg
	c := *base
	c.Transport = t
	return &c, nil
}
