package pages

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

var statusNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// withStore wires the store's figures, as main does.
func withStore(d *Deps) { d.Store = d.Storage.(*tsdb.DB).Stats }

// secretConfig is a configuration as main would show it had it masked
// nothing: every secret a receiver can hold.
const secretConfig = `auth:
  tokens:
    - token: tok-READER-1111
      role: read
    - token: tok-ADMIN-2222
      role: admin
storage:
  path: /var/lib/outpost
alerting:
  external_url: http://outpost.example:8428/outpost
  global:
    smtp_smarthost: mail.example:587
    smtp_auth_username: alerts
    smtp_auth_password: smtp-PASS-3333
    smtp_auth_secret: smtp-SECRET-4444
    slack_api_url: https://hooks.slack.com/services/T000/B000/SLACKTOKEN5555
  receivers:
    - name: ops
      webhook_configs:
        - url: https://hooks.example/notify?token=HOOK-6666
          http_config:
            basic_auth: {username: bob, password: BASIC-7777}
            authorization: {type: Bearer, credentials: BEARER-8888}
      slack_configs:
        - api_url: https://hooks.slack.com/services/T1/B1/SLACK-9999
      alerta_configs:
        - url: http://alerta.example:8080/api
          api_key: ALERTA-1010
      email_configs:
        - to: ops@example.com
          auth_password: MAIL-1212
          headers: {Authorization: "Basic HDR-1313"}
      alertmanager_configs:
        - url: http://am:AMPASS-1414@am.example:9093/
          tls_config: {key_file: /etc/outpost/am.key}
    - name: empty
      email_configs:
        - auth_password: ""
`

func TestStatus_SecretsMasked(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		d.ConfigYAML = func() string { return secretConfig }
	}})
	code, body := s.get("/status")
	if code != http.StatusOK {
		t.Fatalf("GET /status = %d: %s", code, body)
	}
	for _, secret := range regexp.MustCompile(`[A-Z]+-?[0-9]{4}`).FindAllString(secretConfig, -1) {
		if strings.Contains(body, secret) {
			t.Errorf("the page shows the secret %s", secret)
		}
	}
	mustContain(t, body, `id="config"`, "role: admin", "mail.example:587", "smtp_auth_username: alerts",
		"https://hooks.slack.com/********", "https://hooks.example/********", "http://********@am.example:9093",
		"http://outpost.example:8428/outpost", "key_file: /etc/outpost/am.key", "username: bob", "type: Bearer",
		`auth_password: &#34;&#34;`)
	if n := strings.Count(body, "&#39;********&#39;"); n != 9 {
		t.Errorf("%d values masked, want 9:\n%s", n, body)
	}
}

func TestStatus_UnreadableConfigNotShown(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		d.ConfigYAML = func() string { return "auth: [token: tok-LEAK-0000\n" }
	}})
	_, body := s.get("/status")
	if strings.Contains(body, "LEAK") {
		t.Error("a configuration that could not be masked was shown")
	}
	mustContain(t, body, `id="config-off"`)
}

func TestStatus_StorageAfterFlush(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: withStore})
	one := func(i int) float64 { return float64(i % 7) }
	for _, h := range []string{"web1", "web2", "db1"} {
		s.write(s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", h), 90, 10*time.Second, one)...)
	}
	s.write(s.series(labels("__name__", "mem_used", "host", "web1"), 90, 10*time.Second, one)...)

	_, body := s.get("/status")
	mustContain(t, body, `id="storage-series">4 / 4<`, `id="storage-samples">360<`, `id="storage-bps">–<`,
		"no day file yet", `id="storage-newest">2026-12-01 12:00:00Z<`)
	if wal := regexp.MustCompile(`id="storage-wal">[^<]*<`).FindString(body); !regexp.MustCompile(`>[1-9][0-9.]* [KM]?i?B<`).MatchString(wal) {
		t.Errorf("before a flush the WAL holds the samples: %s", wal)
	}

	if err := s.db.Flush(context.Background()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	code, body := s.get("/status")
	if code != http.StatusOK {
		t.Fatalf("GET /status = %d: %s", code, body)
	}
	mustContain(t, body, `id="storage-series">0 / 4<`, `id="storage-samples">360<`, `id="day-files"`, "<td title=", ">2026-12-01<",
		`id="storage-oldest">2026-12-01 11:45:10Z<`, `id="top-metrics"`, `<td class="name">cpu_usage_idle</td><td>3</td>`,
		`<td class="name">host</td><td>3</td><td>4</td>`, `<span class="sev info">open</span>`)
	if strings.Contains(body, `id="storage-bps">–<`) || strings.Contains(body, `id="storage-total">0 B<`) {
		t.Errorf("bytes per sample or disk use missing after a flush:\n%s", body)
	}
	if strings.Contains(body, `id="damaged-files"`) {
		t.Error("a damaged-files table for a whole store")
	}
}

func TestStatus_WithoutStore(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		d.Ingest, d.Alerts, d.ConfigYAML = nil, nil, nil
	}})
	s.write(s.series(labels("__name__", "up", "host", "a"), 3, 10*time.Second, func(int) float64 { return 1 })...)
	code, body := s.get("/status")
	if code != http.StatusOK {
		t.Fatalf("GET /status = %d: %s", code, body)
	}
	mustContain(t, body, `id="storage-off"`, `id="storage-series">1<`, "ingest counters are not available",
		"Alerting is off.", `id="config-off"`, `id="status-slow"`)
}

func TestStatus_SlowQueryRecorded(t *testing.T) {
	var eng *query.Engine
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		eng = query.NewEngine(d.Storage, query.Options{Now: d.Now, SlowQueryThreshold: time.Nanosecond})
		d.Engine = eng
	}})
	s.write(s.series(labels("__name__", "up", "host", "a"), 30, 10*time.Second, func(int) float64 { return 1 })...)
	q := `sum(rate(up{host="<script>alert(1)</script>"}[5m]))`
	if _, err := eng.Range(context.Background(), q, statusNow.Add(-time.Hour), statusNow, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Instant(context.Background(), `count(up)`, statusNow); err != nil {
		t.Fatal(err)
	}
	_, body := s.get("/status")
	mustContain(t, body, `id="slow-queries"`, "took 1ns or more",
		`<code class="query">sum(rate(up{host=&#34;&lt;script&gt;alert(1)&lt;/script&gt;&#34;}[5m]))</code>`,
		"2026-12-01 11:00:00Z to 2026-12-01 12:00:00Z, step 1m0s", `<code class="query">count(up)</code>`, "at 2026-12-01 12:00:00Z")
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a query's text was written as markup")
	}
	if i, j := strings.Index(body, "count(up)"), strings.Index(body, "sum(rate(up"); i < 0 || j < i {
		t.Error("slow queries are not newest first")
	}
}

func TestStatus_SlowQueryLogOff(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		d.Engine = query.NewEngine(d.Storage, query.Options{Now: d.Now, SlowQueryThreshold: -1})
	}})
	_, body := s.get("/status")
	mustContain(t, body, `id="slow-off"`)
}

func TestStatus_RejectionsByReason(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{deps: func(d *Deps) {
		d.Ingest = func() []Ingest {
			return []Ingest{
				{Protocol: "influx", Samples: 1234567, Bytes: 4 << 20, Connections: 12, Rejections: []Rejection{
					{What: "lines", Reason: "parse", N: 3}, {What: "samples", Reason: "out_of_bounds", N: 40}}},
				{Protocol: "graphite", Samples: 10, Rejections: []Rejection{{What: "lines", Reason: "<script>alert(1)</script>", N: 7}}},
				{Protocol: "collectd"},
			}
		}
	}})
	_, body := s.get("/status")
	mustContain(t, body, `<tr><td>influx</td><td>1,234,567</td><td>4.0 MiB</td><td class="wide">12</td><td>43</td></tr>`,
		`<tr><td>collectd</td><td>0</td><td>0 B</td><td class="wide">0</td><td>0</td></tr>`,
		`<td>samples</td><td class="reason">out_of_bounds</td><td>40</td>`,
		`<td class="reason">&lt;script&gt;alert(1)&lt;/script&gt;</td><td>7</td>`)
	a, b, c := strings.Index(body, "out_of_bounds"), strings.Index(body, "&lt;script&gt;alert(1)"), strings.Index(body, ">parse<")
	if a < 0 || b < a || c < b {
		t.Error("rejections are not sorted by count, most first")
	}
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a rejection reason was written as markup")
	}
}

func TestStatus_AlertingSummary(t *testing.T) {
	s := newTestSite(t, statusNow, siteOptions{})
	_, body := s.get("/status")
	st := s.am.Status()
	if st.Rules == 0 {
		t.Fatal("the default rules are not loaded")
	}
	mustContain(t, body, `id="alerting-rules">`+statusCount(int64(st.Rules))+`<`, "built-in rules on", `id="outbox-depth">0<`)
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://am.example:9093":               "http://am.example:9093",
		"http://am.example:9093/":              "http://am.example:9093/",
		"https://hooks.slack.com/services/T/B": "https://hooks.slack.com/********",
		"https://x.example/?token=1":           "https://x.example/********",
		"http://u:p@x.example":                 "http://********@x.example",
		"not a url":                            "********",
	} {
		if got := maskURL(in); got != want {
			t.Errorf("maskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := statusCount(n); got != want {
			t.Errorf("statusCount(%d) = %q, want %q", n, got, want)
		}
	}
}
