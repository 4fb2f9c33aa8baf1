package rulefile

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"unicode"
)

// boundFuncs are the template functions that need the data of one
// execution (TemplateData's Query, Time and ExternalURL).
var boundFuncs = [...]string{"query", "now", "externalURL", "pathPrefix"}

// sample is one element of a query result as templates see it, as in
// Prometheus: .Labels (the metric name under "__name__") and .Value.
type sample struct {
	Labels map[string]string
	Value  float64
}

// queryResult is what the template function query returns.
type queryResult []*sample

// templateFuncs returns every function of Prometheus' alert templates,
// the bound ones tied to ctx and d (when d is nil they fail: Compile uses
// this map only to parse).
func templateFuncs(ctx context.Context, d *TemplateData) texttemplate.FuncMap {
	m := texttemplate.FuncMap{
		"humanize":           humanize,
		"humanize1024":       humanize1024,
		"humanizeDuration":   humanizeDuration,
		"humanizePercentage": humanizePercentage,
		"humanizeTimestamp":  humanizeTimestamp,
		"toTime":             toTime,
		"toDuration":         toDuration,
		"parseDuration":      parseDurationSeconds,
		"title":              title,
		"toUpper":            strings.ToUpper,
		"toLower":            strings.ToLower,
		"match":              regexp.MatchString,
		"reReplaceAll":       reReplaceAll,
		"stripPort":          stripPort,
		"stripDomain":        stripDomain,
		"graphLink":          func(expr string) string { return "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=0" },
		"tableLink":          func(expr string) string { return "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1" },
		"safeHtml":           func(s string) template.HTML { return template.HTML(s) },
		"args":               args,
		"first":              first,
		"label":              label,
		"value":              value,
		"strvalue":           func(s *sample) string { return label("__value__", s) },
		"sortByLabel":        sortByLabel,
	}
	for k, f := range boundFuncMap(ctx, d) {
		m[k] = f
	}
	return m
}

// boundFuncMap returns the functions of boundFuncs tied to ctx and d.
func boundFuncMap(ctx context.Context, d *TemplateData) texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"query": func(q string) (queryResult, error) {
			if d == nil || d.Query == nil {
				return nil, errors.New("no query function to run it with")
			}
			vec, err := d.Query(ctx, q)
			if err != nil {
				return nil, err
			}
			out := make(queryResult, len(vec))
			for i, s := range vec {
				ls := make(map[string]string, len(s.Labels))
				for _, l := range s.Labels {
					ls[l.Name] = l.Value
				}
				out[i] = &sample{Labels: ls, Value: s.V}
			}
			return out, nil
		},
		"now": func() (float64, error) {
			if d == nil || d.Time.IsZero() {
				return 0, errors.New("no evaluation time")
			}
			return float64(d.Time.UnixNano()) / 1e9, nil
		},
		"externalURL": func() string {
			if d == nil {
				return ""
			}
			return d.ExternalURL
		},
		"pathPrefix": func() string {
			if d == nil {
				return ""
			}
			u, err := url.Parse(d.ExternalURL)
			if err != nil {
				return ""
			}
			return u.Path
		},
	}
}

// title upper-cases the first letter of every word, leaving the others as
// they are ("aa bb CC" is "Aa Bb CC"), words being split as strings.Title
// splits them.
func title(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		sep := isWordSeparator(prev)
		prev = r
		if sep {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

// isWordSeparator reports whether r separates words: ASCII other than
// letters, digits and underscore; spaces; not other letters or digits.
func isWordSeparator(r rune) bool {
	if r <= 0x7F {
		switch {
		case '0' <= r && r <= '9', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_':
			return false
		}
		return true
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	return unicode.IsSpace(r)
}

// reReplaceAll replaces every match of pattern in text with repl ($1 is
// the first group), as regexp.ReplaceAllString; a bad pattern is an error.
func reReplaceAll(pattern, repl, text string) (string, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return "", err
	}
	return re.ReplaceAllString(text, repl), nil
}

// stripPort returns the host of "host:port", or hostPort when it has no
// port.
func stripPort(hostPort string) string {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return hostPort
	}
	return host
}

// stripDomain drops the domain of a host name, keeping a port
// ("web1.example.com:9100" is "web1:9100"); IP addresses are kept whole.
func stripDomain(hostPort string) string {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	if net.ParseIP(host) != nil {
		return hostPort
	}
	host, _, _ = strings.Cut(host, ".")
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	return host
}

// args makes a map arg0, arg1, ... of its arguments, to pass several
// values to a {{template}}.
func args(vs ...any) map[string]any {
	m := make(map[string]any, len(vs))
	for i, v := range vs {
		m[fmt.Sprintf("arg%d", i)] = v
	}
	return m
}

// first returns the first sample of a query result.
func first(v queryResult) (*sample, error) {
	if len(v) == 0 {
		return nil, errors.New("first() called on vector with no elements")
	}
	return v[0], nil
}

// label returns the value of label name of s ("" when s lacks it).
func label(name string, s *sample) string {
	if s == nil {
		return ""
	}
	return s.Labels[name]
}

// value returns the value of s.
func value(s *sample) (float64, error) {
	if s == nil {
		return 0, errors.New("value() called on no sample")
	}
	return s.Value, nil
}

// sortByLabel returns a copy of v sorted by the value of label name,
// keeping the order of samples with equal values.
func sortByLabel(name string, v queryResult) queryResult {
	out := slices.Clone(v)
	slices.SortStableFunc(out, func(a, b *sample) int {
		return strings.Compare(label(name, a), label(name, b))
	})
	return out
}
