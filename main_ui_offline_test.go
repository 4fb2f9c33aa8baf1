package main

// Offline: no page and no asset outpost serves names another host, so a
// bastion without internet access draws every chart (issue 9).

import (
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// nonFetching are the URLs the embedded echarts 5.4.3 holds that no
// browser ever fetches: XML namespace names, which the DOM compares as
// strings (createElementNS, setAttributeNS), and the licence references in
// its comments. only names the one file a URL is allowed in ("" = any: a
// page may hold inline SVG).
var nonFetching = map[string]struct{ why, only string }{
	"http://www.w3.org/2000/svg":                                {"the SVG namespace name", ""},
	"http://www.w3.org/1999/xlink":                              {"the XLink namespace name", ""},
	"http://www.w3.org/2000/xmlns/":                             {"the xmlns namespace name", ""},
	"http://www.w3.org/XML/1998/namespace":                      {"the xml: namespace name", ""},
	"http://www.apache.org/licenses/LICENSE-2.0":                {"echarts' licence comment", "echarts.min.js"},
	"https://github.com/ecomfe/zrender/blob/master/LICENSE.txt": {"zrender's licence comment", "echarts.min.js"},
}

var (
	// absoluteURL is a URL with a scheme a browser could fetch.
	absoluteURL = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp)://[^\s"'<>()\\` + "`" + `]+`)
	// relativeURL is a scheme-relative URL in an attribute, string or url():
	// "//cdn.example.com/x.js".
	relativeURL = regexp.MustCompile(`(?i)["'(=]\s*//[a-z0-9-]+(?:\.[a-z0-9-]+)+`)
	// assetRef is a src or href attribute of a page.
	assetRef = regexp.MustCompile(`(?i)\b(?:src|href)="([^"]*)"`)
)

// externalURLs returns the URLs in body (of the file name) that point at
// another host than own, and logs the allowed ones it met. In a page, a
// URL in the text is data shown to the reader (a configured webhook, the
// status page's configuration), which the browser never fetches: it is
// logged; one in a tag (an attribute) or in inline code is not allowed.
func externalURLs(t *testing.T, name, body, own string, page bool) []string {
	t.Helper()
	where := func(int) string { return "code" }
	if page {
		where = htmlContext(body)
	}
	var bad []string
	allowed := map[string]int{}
	for _, loc := range absoluteURL.FindAllStringIndex(body, -1) {
		m := strings.TrimRight(body[loc[0]:loc[1]], ".,;:")
		host := m[strings.Index(m, "//")+2:]
		host, _, _ = strings.Cut(host, "/")
		switch a, ok := nonFetching[m]; {
		case host == own:
			allowed[m+" (outpost itself)"]++
		case ok && (a.only == "" || strings.HasSuffix(name, a.only)):
			allowed[m+" ("+a.why+")"]++
		case where(loc[0]) == "text":
			allowed[m+" (text shown on the page)"]++
		default:
			bad = append(bad, m)
		}
	}
	for _, loc := range relativeURL.FindAllStringIndex(body, -1) {
		if where(loc[0]) != "text" {
			bad = append(bad, strings.TrimLeft(body[loc[0]:loc[1]], `"'(= `))
		}
	}
	if len(allowed) > 0 {
		var l []string
		for _, k := range slices.Sorted(maps.Keys(allowed)) {
			l = append(l, fmt.Sprintf("%s ×%d", k, allowed[k]))
		}
		t.Logf("%s: URLs that fetch nothing elsewhere: %s", name, strings.Join(l, "; "))
	}
	return bad
}

// htmlContext returns a function that tells where offset i of an HTML
// page lies: "tag" (between < and >, so in an attribute), "code" (inside
// a script or style element) or "text". html/template writes < and > of
// data as entities, so every raw < opens a tag.
func htmlContext(body string) func(i int) string {
	type span struct {
		from, to int
		kind     string
	}
	var spans []span
	lower := strings.ToLower(body)
	for i := 0; i < len(body); {
		open := strings.IndexByte(body[i:], '<')
		if open < 0 {
			break
		}
		open += i
		end := strings.IndexByte(body[open:], '>')
		if end < 0 {
			spans = append(spans, span{open, len(body), "tag"})
			break
		}
		end += open + 1
		spans = append(spans, span{open, end, "tag"})
		i = end
		for _, el := range []string{"script", "style"} {
			if strings.HasPrefix(lower[open:], "<"+el) {
				closing := strings.Index(lower[end:], "</"+el)
				if closing < 0 {
					closing = len(body) - end
				}
				spans = append(spans, span{end, end + closing, "code"})
				i = end + closing
			}
		}
	}
	return func(i int) string {
		for _, s := range spans {
			if i >= s.from && i < s.to {
				return s.kind
			}
		}
		return "text"
	}
}

// TestUI_Offline reads every page (as the admin, so that forms are there)
// and every asset the pages load, besides outpost.js, outpost.css and
// echarts.min.js, and fails on any URL of another host: the pages must
// work with the network unplugged. It also checks the pages' Content-
// Security-Policy, which keeps the browser from asking anyone else.
func TestUI_Offline(t *testing.T) {
	u := startUIServer(t, uiServerOpts{hosts: 2, hours: 0.5})
	own := strings.TrimPrefix(u.base, "http://")
	assets := map[string]bool{"/ui/assets/outpost.js": true, "/ui/assets/outpost.css": true}
	echarts := true
	if _, err := os.Stat(filepath.Join("ui", "pages", "assets", "echarts.min.js")); err != nil {
		echarts = false
	}
	if echarts {
		assets["/ui/assets/echarts.min.js"] = true
	}
	pages := 0
	for _, pg := range uiPages() {
		if pg.collectd {
			continue // no collectd daemon here: its host has no page
		}
		code, body, hdr := u.get(t, "", pg.path)
		if code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d (the page is not built yet?): %.200s", pg.path, code, body)
			continue
		}
		pages++
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q does not keep the page to outpost", pg.path, csp)
		}
		if bad := externalURLs(t, pg.path, body, own, true); len(bad) > 0 {
			t.Errorf("GET %s names other hosts: %q", pg.path, bad)
		}
		for _, m := range assetRef.FindAllStringSubmatch(body, -1) {
			ref := m[1]
			if strings.HasPrefix(ref, "/ui/assets/") {
				ref, _, _ = strings.Cut(ref, "?")
				assets[ref] = true
			}
		}
	}
	for _, a := range slices.Sorted(maps.Keys(assets)) {
		code, body, _ := u.get(t, "", a)
		if code != http.StatusOK {
			t.Errorf("GET %s: HTTP %d: %.200s", a, code, body)
			continue
		}
		if bad := externalURLs(t, a, body, own, false); len(bad) > 0 {
			t.Errorf("GET %s names other hosts: %q", a, bad)
		}
	}
	t.Logf("%d pages and %d assets (%s) name no other host", pages, len(assets), strings.Join(slices.Sorted(maps.Keys(assets)), ", "))
	if !echarts {
		missingDep(t, "echarts.min.js was not fetched (make assets), so it was not checked")
	}
}

// TestUI_OfflineScanner checks the scanner of TestUI_Offline on a page
// that names other hosts in every way a page can.
func TestUI_OfflineScanner(t *testing.T) {
	const own = "127.0.0.1:8428"
	page := `<!doctype html><html><head><link rel="stylesheet" href="https://cdn.example.com/a.css">
<script src="//cdn.example.com/b.js"></script><style>body{background:url(https://img.example.com/c.png)}</style>
<script>fetch("https://api.example.com/d")</script></head>
<body><a href="http://127.0.0.1:8428/hosts">own</a><img src="data:image/png;base64,AAAA">
<pre>webhook_configs:
  - url: http://hooks.example.com/e</pre><svg xmlns="http://www.w3.org/2000/svg"></svg>
<div class="chart" data-option="{&#34;x&#34;:&#34;image://https://img.example.com/f.png&#34;}"></div></body></html>`
	got := externalURLs(t, "page", page, own, true)
	want := []string{"https://cdn.example.com/a.css", "https://img.example.com/c.png", "https://api.example.com/d",
		"https://img.example.com/f.png&#34;}", "//cdn.example.com"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("reported %q, want %q (not the text, outpost itself or the namespace name)", got, want)
	}
	if bad := externalURLs(t, "x.js", `var a = "http://www.apache.org/licenses/LICENSE-2.0";`, own, false); len(bad) != 1 {
		t.Errorf("a licence URL outside echarts.min.js: reported %q, want it", bad)
	}
}
