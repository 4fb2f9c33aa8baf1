package rulefile

import (
	"context"
	"errors"
)

// compileTemplates compiles r's annotations, and the labels of an alert or
// flatline rule, returning a problem for each that does not parse. With
// store it keeps them in r.AnnotationTemplates and r.LabelTemplates (Parse
// does); without, it only checks those r does not already hold compiled
// (Validate does).
func compileTemplates(r *Rule, store bool) []problem {
	var ps []problem
	var labels map[string]string
	if r.Kind != KindRecord {
		labels = r.Labels
	}
	for _, set := range []struct {
		what  string
		texts map[string]string
		dst   *map[string]*Template
	}{{"annotations", r.Annotations, &r.AnnotationTemplates}, {"labels", labels, &r.LabelTemplates}} {
		for _, k := range sortedKeys(set.texts) {
			text := set.texts[k]
			if have := (*set.dst)[k]; !store && have != nil && have.text == text {
				continue
			}
			t, err := Compile(k, text)
			if err != nil {
				ps = append(ps, problem{at: set.what + "." + k, msg: set.what + "." + k + ": " + err.Error(), err: err})
				continue
			}
			if store {
				if *set.dst == nil {
					*set.dst = make(map[string]*Template, len(set.texts))
				}
				(*set.dst)[k] = t
			}
		}
	}
	return ps
}

// ExpandAnnotations expands every annotation of r with d, using the
// templates Parse compiled (compiling here those of a Rule built in code).
// An annotation whose template fails gets Prometheus' text
// "<error expanding template: ...>", and the failures are returned joined.
func (r *Rule) ExpandAnnotations(ctx context.Context, d *TemplateData) (map[string]string, error) {
	return expandAll(ctx, r.Annotations, r.AnnotationTemplates, d)
}

// ExpandLabels expands the labels of an alert or flatline rule with d as
// ExpandAnnotations does. A record rule's labels are not templates
// (Prometheus' rule): they come back as written.
func (r *Rule) ExpandLabels(ctx context.Context, d *TemplateData) (map[string]string, error) {
	if r.Kind == KindRecord {
		out := make(map[string]string, len(r.Labels))
		for k, v := range r.Labels {
			out[k] = v
		}
		return out, nil
	}
	return expandAll(ctx, r.Labels, r.LabelTemplates, d)
}

// expandAll expands each of texts with its compiled template from ts (or
// a fresh one when ts lacks it or holds another text).
func expandAll(ctx context.Context, texts map[string]string, ts map[string]*Template, d *TemplateData) (map[string]string, error) {
	out := make(map[string]string, len(texts))
	var errs []error
	for _, k := range sortedKeys(texts) {
		text, t := texts[k], ts[k]
		var err error
		if t == nil || t.text != text {
			t, err = Compile(k, text)
		}
		if err == nil {
			out[k], err = t.Execute(ctx, d)
		}
		if err != nil {
			out[k] = "<error expanding template: " + err.Error() + ">"
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}
