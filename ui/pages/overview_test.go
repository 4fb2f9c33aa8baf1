package pages

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestOverview_NextStepWhenEmpty(t *testing.T) {
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{})
	code, body := s.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", code, body)
	}
	mustContain(t, body, `id="next-step"`, `urls = ["http://127.0.0.1:8086"]`, `id="hosts-reporting">0<`)
}

func TestOverview_HostsAndEscaping(t *testing.T) {
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{})
	one := func(int) float64 { return 1 }
	s.write(s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", "web1"), 60, 10*time.Second, one)...)
	s.write(s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", "<script>alert(1)</script>"), 60, 10*time.Second, one)...)
	// A host that stopped an hour ago is silent.
	old := s.series(labels("__name__", "cpu_usage_idle", "cpu", "cpu-total", "host", "db9"), 10, 10*time.Second, one)
	for i := range old {
		old[i].T -= time.Hour.Milliseconds()
	}
	s.write(old...)
	code, body := s.get("/?from=now-6h")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", code, body)
	}
	mustContain(t, body, `id="hosts-reporting">2<`, `id="hosts-silent">1<`, ">web1<", "&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="/hosts/db9?from=now-6h"`)
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("a host label value was written as markup")
	}
	if strings.Contains(body, `id="next-step"`) {
		t.Error("the next-step box shows although hosts report")
	}
}

func TestOverview_BadRangeIsShown(t *testing.T) {
	s := newTestSite(t, time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC), siteOptions{})
	code, body := s.get("/?from=yesterday")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	mustContain(t, body, "time range: from: &#34;yesterday&#34; is not now")
}

func TestAssets_ETag(t *testing.T) {
	s := newTestSite(t, time.Now(), siteOptions{})
	code, body := s.get("/ui/assets/outpost.js")
	if code != http.StatusOK || !strings.Contains(body, "data-option") {
		t.Fatalf("GET outpost.js = %d", code)
	}
	etag := s.pages.assets.etags["outpost.js"]
	if code, _ := s.get("/ui/assets/outpost.js", "If-None-Match", etag); code != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", code)
	}
	if code, _ := s.get("/ui/assets/nope.js"); code != http.StatusNotFound {
		t.Errorf("unknown asset = %d, want 404", code)
	}
}

func TestExpandVars(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	rg := Range{Start: now.Add(-24 * time.Hour), End: now, Step: 2 * time.Minute}
	got := expandVars(`rate(x{host="$host",h2="${hostname}"}[$__rate_interval]) + y[$__interval] + z[$__range]`, rg,
		map[string]string{"host": "web1", "hostname": "web1.example"})
	want := `rate(x{host="web1",h2="web1.example"}[130s]) + y[120s] + z[86400s]`
	if got != want {
		t.Errorf("expandVars:\n got %s\nwant %s", got, want)
	}
	rg.Step = 10 * time.Second
	if got := expandVars("[$__rate_interval]", rg, nil); got != "[40s]" {
		t.Errorf("short step: %s, want [40s]", got)
	}
}

func TestAssets_Gzip(t *testing.T) {
	s := newTestSite(t, time.Now(), siteOptions{})
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/ui/assets/outpost.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent decompression
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	zr, err := gzip.NewReader(resp.Body)
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, %v", resp.Header.Get("Content-Encoding"), err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(b), "data-option") {
		t.Errorf("gunzipped outpost.js: %v %q", err, b[:min(len(b), 80)])
	}
}
