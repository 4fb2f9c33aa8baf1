package rulefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/template"
	"text/template/parse"
	"time"

	"outpost/query"
)

// templatePrelude is what Prometheus puts before every annotation and
// label template, so that $labels, $externalLabels, $externalURL and
// $value name the alert's data. It has no newline: line numbers in errors
// stay those of the rule file's text.
const templatePrelude = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}" +
	"{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// maxTemplateOutput bounds what one execution may write (a range over a
// large query result, or over a large integer, stops with an error).
const maxTemplateOutput = 1 << 20

// TemplateData is what an annotation or label template sees: .Labels,
// .ExternalLabels, .ExternalURL and .Value (also as $labels,
// $externalLabels, $externalURL and $value), with Prometheus' meanings.
type TemplateData struct {
	// Labels are the alert's labels (the series' labels).
	Labels map[string]string
	// ExternalLabels are the labels of this outpost (alerting's
	// external_labels).
	ExternalLabels map[string]string
	// ExternalURL is the URL outpost is reached at, for links.
	ExternalURL string
	// Value is the value of the rule's expression for the series.
	Value float64
	// Time is the evaluation time, returned by the template function now
	// (as Unix seconds); when zero, now fails.
	Time time.Time
	// Query runs an instant MetricsQL query at the evaluation time, for
	// the template function query; when nil, query fails.
	Query func(ctx context.Context, q string) (query.Vector, error)
}

// Template is a compiled annotation or label template. It is immutable
// and safe for concurrent use by several goroutines.
type Template struct {
	name, text string
	// tmpl is nil when text has no action ("{{"): Execute returns text.
	tmpl *template.Template
	// bound says that text calls a function that needs the execution's
	// data (query, now, externalURL, pathPrefix): Execute then clones tmpl
	// to bind them. Other templates run tmpl as it is, without a copy.
	bound bool
}

// Compile parses text as a Prometheus annotation or label template named
// name. Its error is text/template's, which names the template and line
// ("template: summary:1: function \"humanise\" not defined"). Text without
// "{{" is kept as is.
func Compile(name, text string) (*Template, error) {
	t := &Template{name: name, text: text}
	if !strings.Contains(text, "{{") {
		return t, nil
	}
	tmpl, err := template.New(name).Funcs(templateFuncs(nil, nil)).
		Option("missingkey=zero").Parse(templatePrelude + text)
	if err != nil {
		return nil, err // text/template's errors name the template and line
	}
	if err := checkRanges(tmpl); err != nil {
		return nil, err
	}
	t.tmpl = tmpl
	for _, f := range boundFuncs {
		if strings.Contains(text, f) {
			t.bound = true
			break
		}
	}
	return t, nil
}

// maxRangeIterations bounds the iterations of ranges over integer
// literals ({{ range 1000 }}), nested ones multiplied: such a loop that
// writes nothing would otherwise spin past its context and output limits.
const maxRangeIterations = 100_000

// checkRanges refuses a template whose ranges over integer literals would
// run more than maxRangeIterations times. (A range in a {{template}} that
// a range calls is not multiplied in: the calls are not followed.)
func checkRanges(tmpl *template.Template) error {
	var walk func(n parse.Node, mult int64) error
	walk = func(n parse.Node, mult int64) error {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return nil
			}
			for _, c := range x.Nodes {
				if err := walk(c, mult); err != nil {
					return err
				}
			}
		case *parse.RangeNode:
			inner := mult
			if k, ok := rangeCount(x.Pipe); ok {
				if k > maxRangeIterations || inner*k > maxRangeIterations {
					return fmt.Errorf("template: %s: range over %d runs more than %d iterations", tmpl.Name(), k, maxRangeIterations)
				}
				inner *= max(k, 1)
			}
			if err := walk(x.List, inner); err != nil {
				return err
			}
			return walk(x.ElseList, mult)
		case *parse.IfNode:
			return errors.Join(walk(x.List, mult), walk(x.ElseList, mult))
		case *parse.WithNode:
			return errors.Join(walk(x.List, mult), walk(x.ElseList, mult))
		}
		return nil
	}
	for _, t := range tmpl.Templates() {
		if t.Tree != nil {
			if err := walk(t.Tree.Root, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// rangeCount returns N for a range over the integer literal N.
func rangeCount(p *parse.PipeNode) (int64, bool) {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return 0, false
	}
	num, ok := p.Cmds[0].Args[0].(*parse.NumberNode)
	if !ok || !num.IsInt {
		return 0, false
	}
	return num.Int64, true
}

// Name returns the name t was compiled with.
func (t *Template) Name() string { return t.name }

// Text returns the template's source text, as written in the rule file.
func (t *Template) Text() string { return t.text }

// Execute expands t with d. It stops when ctx is done (between writes),
// and fails when the template's output passes 1 MiB. A nil d is an empty
// TemplateData.
func (t *Template) Execute(ctx context.Context, d *TemplateData) (string, error) {
	if t.tmpl == nil {
		return t.text, nil
	}
	if d == nil {
		d = &TemplateData{}
	}
	tmpl := t.tmpl
	if t.bound {
		c, err := t.tmpl.Clone()
		if err != nil {
			return "", fmt.Errorf("expand template %s: %w", t.name, err)
		}
		tmpl = c.Funcs(boundFuncMap(ctx, d))
	}
	w := &limitWriter{ctx: ctx, max: maxTemplateOutput}
	if err := tmpl.Execute(w, d); err != nil {
		return "", fmt.Errorf("expand template %s: %w", t.name, err)
	}
	return w.b.String(), nil
}

// errTemplateOutput is returned when a template writes more than
// maxTemplateOutput bytes.
var errTemplateOutput = fmt.Errorf("template output is longer than %d bytes", maxTemplateOutput)

// limitWriter collects a template's output up to max bytes, and stops the
// execution when its context is done.
type limitWriter struct {
	ctx context.Context
	b   strings.Builder
	max int
}

// Write implements io.Writer.
func (w *limitWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if w.b.Len()+len(p) > w.max {
		return 0, errTemplateOutput
	}
	return w.b.Write(p)
}

var _ io.Writer = (*limitWriter)(nil)
