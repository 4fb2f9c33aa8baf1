package graphite

import (
	"fmt"
	"strings"

	"outpost/tsdb"
)

// partKind is what one dot-separated position of a template does.
type partKind uint8

// The kinds of template parts, as InfluxDB 1.x defines them.
const (
	partSkip            partKind = iota // empty word: the path element is dropped
	partMeasurement                     // "measurement": appended to the measurement
	partMeasurementRest                 // "measurement*": this and every later element
	partField                           // "field": the field name (once per template)
	partFieldRest                       // "field*": this and every later element
	partTag                             // any other word: a label of that name
)

// tmplPart is one position of a template.
type tmplPart struct {
	kind partKind
	tag  string // label name, for partTag
}

// template is one compiled entry of graphite.templates, or the built-in
// default "measurement*". It is immutable once compiled.
type template struct {
	index   int          // position in graphite.templates; -1 for the built-in default
	text    string       // the entry as configured
	filter  string       // "" for a default template
	filterE []string     // filter split on "."
	pattern string       // the template word, e.g. ".host.measurement*"
	parts   []tmplPart   // pattern split on "."
	tags    []tsdb.Label // the entry's k=v tags, sorted by name
	sep     string       // joins repeated parts
}

// builtinDefault is the template used when no filter matches and no default
// template is configured: the whole path is the measurement. It joins with
// "." whatever the configured separator, as InfluxDB 1.x does, so the metric
// name is the path as sent.
func builtinDefault() *template {
	return &template{
		index:   -1,
		text:    "measurement*",
		pattern: "measurement*",
		parts:   []tmplPart{{kind: partMeasurementRest}},
		sep:     ".",
	}
}

// compileTemplate parses one "[filter] template [k=v,...]" entry. Errors name
// the entry as graphite.templates[index].
func compileTemplate(index int, entry, sep string) (*template, error) {
	key := fmt.Sprintf("graphite.templates[%d]", index)
	words := strings.Fields(entry)
	t := &template{index: index, text: strings.Join(words, " "), sep: sep}
	var tags string
	switch len(words) {
	case 0:
		return nil, fmt.Errorf("%s: empty template", key)
	case 1:
		t.pattern = words[0]
	case 2:
		if strings.Contains(words[1], "=") {
			t.pattern, tags = words[0], words[1]
		} else {
			t.filter, t.pattern = words[0], words[1]
		}
	case 3:
		if strings.Contains(words[1], "=") {
			return nil, fmt.Errorf("%s: %q: tags must come last, as [filter] template [k=v,...]", key, entry)
		}
		t.filter, t.pattern, tags = words[0], words[1], words[2]
	default:
		return nil, fmt.Errorf("%s: %q has %d words, want [filter] template [k=v,...]", key, entry, len(words))
	}
	if t.filter != "" {
		fe, err := parseFilter(t.filter)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		t.filterE = fe
	}
	parts, err := parsePattern(t.pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	t.parts = parts
	if tags != "" {
		for kv := range strings.SplitSeq(tags, ",") {
			l, err := parseTag(kv)
			if err != nil {
				return nil, fmt.Errorf("%s: tags %q: %w", key, tags, err)
			}
			t.tags = setLabel(t.tags, l)
		}
	}
	return t, nil
}

// parseFilter checks a filter: dot-separated non-empty elements, where "*"
// stands alone as a whole element.
func parseFilter(filter string) ([]string, error) {
	elems := strings.Split(filter, ".")
	for i, e := range elems {
		if e == "" {
			return nil, fmt.Errorf("filter %q: element %d is empty", filter, i+1)
		}
		if e != "*" && strings.Contains(e, "*") {
			return nil, fmt.Errorf("filter %q: element %q: '*' must be a whole element", filter, e)
		}
	}
	return elems, nil
}

// parsePattern compiles the template word.
func parsePattern(pattern string) ([]tmplPart, error) {
	words := strings.Split(pattern, ".")
	parts := make([]tmplPart, len(words))
	var hasMeasurement, hasMeasurementRest, hasFieldRest bool
	fields := 0
	for i, w := range words {
		switch w {
		case "":
			parts[i].kind = partSkip
		case "measurement":
			parts[i].kind, hasMeasurement = partMeasurement, true
		case "measurement*":
			parts[i].kind, hasMeasurement, hasMeasurementRest = partMeasurementRest, true, true
		case "field":
			parts[i].kind = partField
			fields++
		case "field*":
			parts[i].kind, hasFieldRest = partFieldRest, true
		default:
			if strings.Contains(w, "*") {
				return nil, fmt.Errorf("template %q: part %q: only measurement* and field* may hold '*'", pattern, w)
			}
			if w == tsdb.MetricName {
				return nil, fmt.Errorf("template %q: part %q is reserved", pattern, w)
			}
			parts[i] = tmplPart{kind: partTag, tag: w}
		}
	}
	switch {
	case !hasMeasurement:
		return nil, fmt.Errorf("template %q: no measurement or measurement* part", pattern)
	case fields > 1:
		return nil, fmt.Errorf("template %q: 'field' can be used only once", pattern)
	case hasMeasurementRest && hasFieldRest:
		return nil, fmt.Errorf("template %q: use either measurement* or field*, not both", pattern)
	}
	return parts, nil
}

// parseTag parses one "k=v" of graphite.tags or of a template's tags.
func parseTag(kv string) (tsdb.Label, error) {
	k, v, ok := strings.Cut(kv, "=")
	switch {
	case !ok:
		return tsdb.Label{}, fmt.Errorf("%q is not k=v", kv)
	case k == "" || v == "" || strings.Contains(v, "="):
		return tsdb.Label{}, fmt.Errorf("%q is not k=v with a non-empty name and value", kv)
	case k == tsdb.MetricName:
		return tsdb.Label{}, fmt.Errorf("%q: label %s is reserved", kv, k)
	}
	return tsdb.Label{Name: k, Value: v}, nil
}

// setLabel sets l in the sorted set ls, replacing a label of the same name.
func setLabel(ls []tsdb.Label, l tsdb.Label) []tsdb.Label {
	for i := range ls {
		switch {
		case ls[i].Name == l.Name:
			ls[i] = l
			return ls
		case ls[i].Name > l.Name:
			ls = append(ls, tsdb.Label{})
			copy(ls[i+1:], ls[i:])
			ls[i] = l
			return ls
		}
	}
	return append(ls, l)
}

// applied is what a template extracts from a path.
type applied struct {
	measurement string       // "" when no measurement part reached the path
	field       string       // "" when the template has no field part, or it fell past the path
	tags        []tsdb.Label // labels taken from path elements, in template order
}

// apply maps the path's elements through t. Positions past the end of the
// path are ignored, and so are path elements past the end of the template.
// A tag name used at several positions joins its elements with t.sep.
func (t *template) apply(elems []string) applied {
	var a applied
	var meas strings.Builder
	n := 0 // measurement elements written so far
	addMeas := func(es []string) {
		for _, e := range es {
			if n > 0 {
				meas.WriteString(t.sep)
			}
			meas.WriteString(e)
			n++
		}
	}
parts:
	for i, p := range t.parts {
		if i >= len(elems) {
			break
		}
		switch p.kind {
		case partMeasurement:
			addMeas(elems[i : i+1])
		case partMeasurementRest:
			addMeas(elems[i:])
			break parts
		case partField:
			a.field = elems[i]
		case partFieldRest:
			a.field = strings.Join(elems[i:], t.sep)
			break parts
		case partTag:
			a.tags = appendJoined(a.tags, p.tag, elems[i], t.sep)
		}
	}
	a.measurement = meas.String()
	return a
}

// appendJoined adds name=value to tags, or joins value to an existing label
// of that name with sep.
func appendJoined(tags []tsdb.Label, name, value, sep string) []tsdb.Label {
	for i := range tags {
		if tags[i].Name == name {
			tags[i].Value += sep + value
			return tags
		}
	}
	return append(tags, tsdb.Label{Name: name, Value: value})
}
