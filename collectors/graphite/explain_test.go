package graphite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// explainConfig has two filtered templates, a default one and a global tag.
func explainConfig() Config {
	cfg := testConfig()
	cfg.Addr = ""
	cfg.Templates = []string{
		"servers.* .host.resource.measurement* region=eu",
		"servers.localhost.cpu .host.resource.measurement*",
		"measurement.field",
	}
	cfg.Tags = []string{"dc=fra"}
	return cfg
}

func TestParser_Explain(t *testing.T) {
	p := mustParser(t, explainConfig())
	t.Run("filtered template and a whole line", func(t *testing.T) {
		e := p.Explain("\n  servers.web1.cpu.load 0.5 1700000000\r\nignored 1 1\n", fixedNow())
		if e.Input != "servers.web1.cpu.load 0.5 1700000000" || e.Path != "servers.web1.cpu.load" || e.Error != nil {
			t.Fatalf("input %q path %q error %v", e.Input, e.Path, e.Error)
		}
		if e.Template == nil || e.Template.Index != 0 || e.Template.Filter != "servers.*" || e.Template.Template != ".host.resource.measurement*" {
			t.Fatalf("template %+v", e.Template)
		}
		if !strings.Contains(e.Why, `filter "servers.*" of graphite.templates[0] is the only filter that matches`) {
			t.Fatalf("why: %s", e.Why)
		}
		if len(e.Filters) != 2 || e.Filters[0].Filter != "servers.localhost.cpu" || e.Filters[0].Matched ||
			!strings.Contains(e.Filters[0].Why, `element 2 is "web1", the filter wants "localhost"`) ||
			e.Filters[1].Rank != 2 || !e.Filters[1].Matched || !e.Filters[1].Chosen {
			t.Fatalf("filters %+v", e.Filters)
		}
		wantSteps := []string{"dropped (empty template part)", `label "host"`, `label "resource"`, "appended to the measurement, with every later element"}
		if len(e.Steps) != len(wantSteps) {
			t.Fatalf("steps %+v", e.Steps)
		}
		for i, s := range e.Steps {
			if s.Effect != wantSteps[i] || s.Position != i+1 {
				t.Errorf("step %d: %+v, want effect %q", i+1, s, wantSteps[i])
			}
		}
		if e.Series == nil || e.Series.Name != "load" || e.Series.Text != `load{dc="fra", host="web1", region="eu", resource="cpu"}` {
			t.Fatalf("series %+v", e.Series)
		}
		from := map[string]string{}
		for _, l := range e.Series.Labels {
			from[l.Name] = l.From
		}
		if from["dc"] != "graphite.tags" || from["region"] != "template tags" || from["host"] != "path, by the template" {
			t.Fatalf("label sources %v", from)
		}
		if want := `servers.web1.cpu.load becomes load{dc="fra", host="web1", region="eu", resource="cpu"} by graphite.templates[0] "servers.* .host.resource.measurement* region=eu"`; e.Summary != want {
			t.Fatalf("summary %q, want %q", e.Summary, want)
		}
		if e.Sample == nil || e.Sample.Value != "0.5" || e.Sample.Timestamp != 1700000000000 || e.Sample.TimeSource != "line" ||
			e.Sample.Time != "2023-11-14T22:13:20Z" {
			t.Fatalf("sample %+v", e.Sample)
		}
	})
	t.Run("default template and a bare path", func(t *testing.T) {
		e := p.Explain("disk.used.extra", fixedNow())
		if e.Template == nil || e.Template.Index != 2 || !e.Template.Default || e.Sample != nil {
			t.Fatalf("%+v", e)
		}
		if !strings.Contains(e.Why, "no filter matches the path, so the default template graphite.templates[2]") {
			t.Fatalf("why: %s", e.Why)
		}
		if e.Series.Name != "disk_used" || !strings.Contains(e.NameRule, `the measurement "disk", then "_" and the field "used"`) {
			t.Fatalf("series %+v, rule %s", e.Series, e.NameRule)
		}
		if last := e.Steps[2]; last.Element != "extra" || !strings.Contains(last.Effect, "ignored: the template has only 2 parts") {
			t.Fatalf("step 3 %+v", last)
		}
	})
	t.Run("a line that does not parse still explains its path", func(t *testing.T) {
		e := p.Explain("servers.web1.cpu.load x", fixedNow())
		if e.Error == nil || e.Error.Col != 23 || !strings.Contains(e.Error.Msg, "invalid value") || e.Series == nil || e.Sample != nil {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("tagged form and NaN", func(t *testing.T) {
		e := p.Explain("servers.web1.cpu.load;host=override nan", fixedNow())
		if e.Series.Text != `load{dc="fra", host="override", region="eu", resource="cpu"}` || len(e.LineTags) != 1 {
			t.Fatalf("series %+v", e.Series)
		}
		if e.Sample == nil || e.Sample.Stored || e.Sample.TimeSource != "receive time" || e.Sample.Timestamp != fixedNow().UnixMilli() {
			t.Fatalf("sample %+v", e.Sample)
		}
	})
	t.Run("no templates", func(t *testing.T) {
		e := mustParser(t, DefaultConfig()).Explain("a.b.c 1", fixedNow())
		if e.Template != nil || e.Series.Name != "a.b.c" || !strings.Contains(e.Why, "no graphite.templates are configured") {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("built-in default", func(t *testing.T) {
		cfg := DefaultConfig()
		cfg.Templates = []string{"servers.* .host.measurement*"}
		e := mustParser(t, cfg).Explain("other.path", fixedNow())
		if e.Template == nil || e.Template.Index != -1 || e.Series.Name != "other.path" || !strings.Contains(e.Why, "built-in default") {
			t.Fatalf("%+v", e)
		}
	})
	t.Run("bad path", func(t *testing.T) {
		e := p.Explain(";k=v 1", fixedNow())
		if e.Error == nil || e.Series != nil || e.Why != "the path does not parse" {
			t.Fatalf("%+v", e)
		}
	})
}

func TestListener_ExplainOutOfRetention(t *testing.T) {
	window := func(now time.Time) (int64, int64) {
		return now.Add(-30 * 24 * time.Hour).UnixMilli(), now.Add(time.Hour).UnixMilli()
	}
	l, err := New(explainConfig(), &recorder{}, Options{Now: fixedNow, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	now := fixedNow()
	for _, tc := range []struct {
		ts      int64
		stored  bool
		dropped string
	}{
		{now.Unix(), true, ""},
		{now.Add(-31 * 24 * time.Hour).Unix(), false, "out of retention"},
		{now.Add(2 * time.Hour).Unix(), false, "too far in the future"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/graphite/explain",
			strings.NewReader(fmt.Sprintf("servers.web1.cpu.load 1 %d", tc.ts)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rr := httptest.NewRecorder()
		l.Explain(rr, req)
		var e Explanation
		if err := json.Unmarshal(rr.Body.Bytes(), &e); err != nil || e.Sample == nil {
			t.Fatalf("ts %d: %v %s", tc.ts, err, rr.Body)
		}
		if e.Sample.Stored != tc.stored || e.Sample.Dropped != tc.dropped {
			t.Errorf("ts %d: stored %v dropped %q, want %v %q", tc.ts, e.Sample.Stored, e.Sample.Dropped, tc.stored, tc.dropped)
		}
		if tc.dropped != "" && !strings.Contains(e.Summary, "dropped: "+tc.dropped) {
			t.Errorf("summary %q does not say dropped: %s", e.Summary, tc.dropped)
		}
	}
}

func TestListener_Explain(t *testing.T) {
	l, err := New(explainConfig(), &recorder{}, Options{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	f := func(name, contentType, body string, status int, check func(map[string]any)) {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/graphite/explain", strings.NewReader(body))
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			rr := httptest.NewRecorder()
			l.Explain(rr, req)
			if rr.Code != status || !strings.HasPrefix(rr.Header().Get("Content-Type"), "application/json") {
				t.Fatalf("status %d (%s), want %d: %s", rr.Code, rr.Header().Get("Content-Type"), status, rr.Body)
			}
			var m map[string]any
			if err := json.Unmarshal(rr.Body.Bytes(), &m); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			check(m)
		})
	}
	seriesName := func(want string) func(map[string]any) {
		return func(m map[string]any) {
			s, _ := m["series"].(map[string]any)
			if s == nil || s["name"] != want {
				t.Errorf("series %v, want name %q", m["series"], want)
			}
		}
	}
	f("form", "application/x-www-form-urlencoded", url.Values{"path": {"servers.web1.cpu.load 1"}}.Encode(), 200, seriesName("load"))
	f("json", "application/json", `{"path": "disk.used"}`, 200, seriesName("disk_used"))
	f("plain body", "text/plain", "servers.localhost.cpu.idle 3 1700000000\n", 200, seriesName("idle"))
	f("no content type", "", "a.b", 200, seriesName("a_b"))
	// curl -d 'line' sends the bare line with the form type.
	f("curl -d bare line", "application/x-www-form-urlencoded", "servers.web1.cpu.load 1 1700000000", 200, seriesName("load"))
	f("curl -d tagged line", "application/x-www-form-urlencoded", "disk.used;host=a 1 1700000000", 200, seriesName("disk_used"))
	hasError := func(m map[string]any) {
		if s, _ := m["error"].(string); s == "" {
			t.Errorf("no error in %v", m)
		}
	}
	f("empty", "text/plain", " \n", 400, hasError)
	f("empty form", "application/x-www-form-urlencoded", "other=1", 400, hasError)
	f("bad json", "application/json", `{"path":`, 400, hasError)
	f("too large", "text/plain", strings.Repeat("a", maxExplainBody+1), 413, hasError)
}
