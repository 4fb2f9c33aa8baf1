package rulefile

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/query"
	"outpost/tsdb"
)

// fakeQuery answers every query with vec, and records the queries.
func fakeQuery(vec query.Vector, err error, asked *[]string) func(context.Context, string) (query.Vector, error) {
	return func(_ context.Context, q string) (query.Vector, error) {
		if asked != nil {
			*asked = append(*asked, q)
		}
		return vec, err
	}
}

// testData is the TemplateData most cases use.
func testData() *TemplateData {
	return &TemplateData{
		Labels:         map[string]string{"instance": "web1.example.com:9100", "job": "node", "__value__": "x"},
		ExternalLabels: map[string]string{"site": "ams"},
		ExternalURL:    "http://testhost:9090/path/prefix",
		Value:          0.1234567,
		Time:           time.Unix(1435065584, 128e6),
		Query: fakeQuery(query.Vector{
			{Labels: tsdb.FromStrings("__name__", "metric", "instance", "b"), V: 21},
			{Labels: tsdb.FromStrings("__name__", "metric", "instance", "a"), V: 11},
		}, nil, nil),
	}
}

// TestTemplate_Execute runs one template per function; the expected
// outputs are Prometheus' for the same templates.
func TestTemplate_Execute(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		tm, err := Compile("test", text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		got, err := tm.Execute(t.Context(), testData())
		if err != nil || got != want {
			t.Fatalf("Execute(%q) = %q, %v; want %q", text, got, err, want)
		}
	}
	f("plain text", "plain text")
	f("{{ 1 }}", "1")
	f(`{{ "<b>" }}`, "<b>")
	f(`{{ "<b>" | safeHtml }}`, "<b>")
	f(`{{ $labels.job }} {{ .Labels.job }} {{ $labels.missing }}|`, "node node |")
	f(`{{ $externalLabels.site }} {{ $externalURL }}`, "ams http://testhost:9090/path/prefix")
	f(`{{ $value }} {{ printf "%.2f" $value }}`, "0.1234567 0.12")
	f(`{{ $value | humanizePercentage }}`, "12.35%")
	f(`{{ humanize 1234567.0 }} {{ humanize1024 1048576.0 }} {{ humanizeDuration 899.99 }}`, "1.235M 1Mi 14m 59s")
	f(`{{ 1435065584.128 | humanizeTimestamp }}`, "2015-06-23 13:19:44.128 +0000 UTC")
	f(`{{ "aa bb CC" | title }} {{ "aa bb CC" | toUpper }} {{ "aA bB CC" | toLower }}`, "Aa Bb CC AA BB CC aa bb cc")
	f(`{{ match "a+" "aa" }} {{ match "a+" "b" }}`, "true false")
	f(`{{ reReplaceAll "(a)b" "x$1" "ab" }}`, "xa")
	f(`{{ reReplaceAll "localhost:(.*)" "my.domain:$1" "localhost:3000" }}`, "my.domain:3000")
	f(`{{ $labels.instance | stripPort }} {{ stripPort "[::1]:80" }} {{ stripPort "host" }}`, "web1.example.com ::1 host")
	f(`{{ $labels.instance | stripDomain }} {{ stripDomain "web1.example.com" }} {{ stripDomain "10.0.0.1:80" }}`,
		"web1:9100 web1 10.0.0.1:80")
	f(`{{ graphLink "up" }} {{ tableLink "rate(x[5m])" }}`, "/graph?g0.expr=up&g0.tab=0 /graph?g0.expr=rate%28x%5B5m%5D%29&g0.tab=1")
	f(`{{ pathPrefix }} {{ externalURL }}`, "/path/prefix http://testhost:9090/path/prefix")
	f(`{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}`, "1 2")
	f(`{{ query "metric" | first | value }}`, "21")
	f(`{{ query "metric" | first | label "instance" }}|{{ query "metric" | first | label "foo" }}|`, "b||")
	f(`{{ $x := query "metric" | first }}{{ $x.Labels.foo }}|{{ $x.Labels.__name__ }}`, "|metric")
	f(`{{ range query "metric" | sortByLabel "instance" }}{{ .Labels.instance }}:{{ .Value }} {{ end }}`, "a:11 b:21 ")
	f(`{{ with query "metric" }}{{ . | first | strvalue }}|{{ end }}`, "|")
	f(`{{ parseDuration "1h30m" }} {{ (toTime 1435065584.128).Unix }} {{ toDuration 90 }}`, "5400 1435065584 1m30s")
	f(`{{ now }} {{ now | humanizeTimestamp }}`, "1.435065584128e+09 2015-06-23 13:19:44.128 +0000 UTC")
	f(`{{ with $value }}{{ if gt . 0.1 }}high{{ end }}{{ end }}`, "high")
	f("line1\n{{ $labels.job }}", "line1\nnode")
}

func TestTemplate_Execute_Errors(t *testing.T) {
	f := func(text string, d *TemplateData, want string) {
		t.Helper()
		tm, err := Compile("test", text)
		if err != nil {
			t.Fatalf("Compile(%q): %v", text, err)
		}
		got, err := tm.Execute(t.Context(), d)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Execute(%q) = %q, %v; want an error with %q", text, got, err, want)
		}
	}
	empty := &TemplateData{Query: fakeQuery(nil, nil, nil)}
	f(`{{ query "missing" | first }}`, empty, "first() called on vector with no elements")
	f(`{{ (query "missing").banana }}`, empty, "can't evaluate field banana")
	f(`{{ query "up" }}`, &TemplateData{}, "error calling query: no query function to run it with")
	f(`{{ query "up" }}`, nil, "no query function to run it with")
	f(`{{ query "up" }}`, &TemplateData{Query: fakeQuery(nil, errors.New("boom"), nil)}, "error calling query: boom")
	f(`{{ now }}`, &TemplateData{}, "no evaluation time")
	f(`{{ reReplaceAll "(" "" "x" }}`, nil, "error parsing regexp")
	f(`{{ match "(" "x" }}`, nil, "error parsing regexp")
	f(`{{ humanize "x" }}`, nil, `parsing "x": invalid syntax`)
	f(`{{ toTime "NaN" }}`, nil, "value is NaN or Inf")
	f(`{{ parseDuration "5" }}`, nil, `invalid duration "5"`)
	f(`{{ value nil }}`, nil, "value() called on no sample")
	f(`{{ range 100000 }}0123456789X{{ end }}`, nil, "template output is longer than 1048576 bytes")
}

func TestTemplate_Execute_Canceled(t *testing.T) {
	tm, err := Compile("c", "{{ $labels.x }}")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := tm.Execute(ctx, testData()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute(canceled) error = %v, want context.Canceled", err)
	}
}

func TestCompile_Errors(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		_, err := Compile("summary", text)
		if err == nil || err.Error() != want {
			t.Fatalf("Compile(%q) error = %v, want %q", text, err, want)
		}
	}
	f("{{", "template: summary:1: unclosed action")
	f("{{ humanise $value }}", `template: summary:1: function "humanise" not defined`)
	f("ok\n{{ end }}", "template: summary:2: unexpected {{end}}")
	f("{{ range 100001 }}{{ end }}", "template: summary: range over 100001 runs more than 100000 iterations")
	f("{{ if 1 }}{{ range 1000 }}{{ range 1000 }}x{{ end }}{{ end }}{{ end }}", "template: summary: range over 1000 runs more than 100000 iterations")
	f(`{{ define "x" }}{{ with 1 }}{{ range 100 }}{{ range 10000 }}{{ end }}{{ end }}{{ end }}{{ end }}`,
		"template: summary: range over 10000 runs more than 100000 iterations")
}

// TestTemplate_Execute_Concurrent runs one template, bound and not, from
// many goroutines (go test -race checks the sharing).
func TestTemplate_Execute_Concurrent(t *testing.T) {
	for _, text := range []string{`{{ $labels.job }}:{{ $value }}`, `{{ query "m" | first | value }}:{{ $value }}`} {
		tm, err := Compile("c", text)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				d := testData()
				d.Value = float64(i)
				for range 50 {
					got, err := tm.Execute(t.Context(), d)
					if err != nil || !strings.HasSuffix(got, ":"+string(rune('0'+i))) {
						t.Errorf("Execute = %q, %v", got, err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

func TestRule_Expand(t *testing.T) {
	f, err := Parse("t.yml", []byte(`groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
    labels: {severity: '{{ if gt $value 0.1 }}page{{ else }}ticket{{ end }}', team: db}
    annotations: {summary: '{{ $labels.job }} is down', bad: '{{ first 1 }}'}
  - record: r
    expr: up
    labels: {x: '{{ not a template }}'}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := &f.Groups[0].Rules[0]
	labels, err := r.ExpandLabels(t.Context(), testData())
	if err != nil || labels["severity"] != "page" || labels["team"] != "db" {
		t.Fatalf("ExpandLabels = %v, %v", labels, err)
	}
	ann, err := r.ExpandAnnotations(t.Context(), testData())
	if err == nil || ann["summary"] != "node is down" || !strings.HasPrefix(ann["bad"], "<error expanding template: ") {
		t.Fatalf("ExpandAnnotations = %v, %v", ann, err)
	}
	// A Rule changed in code: its new text is compiled on the spot.
	r.Annotations = map[string]string{"summary": "{{ $value }}"}
	if ann, err := r.ExpandAnnotations(t.Context(), testData()); err != nil || ann["summary"] != "0.1234567" {
		t.Fatalf("ExpandAnnotations after a change = %v, %v", ann, err)
	}
	rec := &f.Groups[0].Rules[1]
	if labels, err := rec.ExpandLabels(t.Context(), nil); err != nil || labels["x"] != "{{ not a template }}" {
		t.Fatalf("record ExpandLabels = %v, %v", labels, err)
	}
}
