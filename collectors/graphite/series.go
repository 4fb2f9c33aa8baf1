package graphite

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"outpost/tsdb"
)

// decoder parses lines for one connection (or the UDP socket). With a
// series cache, a steady sender costs one cache lookup per line and no
// allocation. It is not safe for concurrent use; the cache is.
type decoder struct {
	p     *Parser
	cache *seriesCache // nil disables caching
	elems []string     // scratch for the path's elements
	// reserve, when set, is asked for Parser.mappingBound of a path before
	// the path is resolved (a cache miss): admission before allocation. When
	// it refuses, parse returns errOverBudget having allocated nothing.
	reserve func(n int64) bool
}

// newDecoder returns a decoder that remembers series in cache.
func newDecoder(p *Parser, cache *seriesCache) *decoder {
	return &decoder{p: p, cache: cache}
}

// parse parses one line as Parser.ParseLine describes.
func (d *decoder) parse(dst []tsdb.Point, line []byte, now int64) ([]tsdb.Point, error) {
	r, ok, perr := splitLine(line)
	if perr != nil {
		return dst, perr
	}
	if !ok {
		return dst, nil
	}
	if math.IsNaN(r.value) {
		return dst, ErrNaN
	}
	ls, err := d.labels(r.path, r.pathCol)
	if err != nil {
		return dst, err
	}
	t := r.t
	if r.useNow {
		t = now
	}
	return append(dst, tsdb.Point{Labels: ls, T: t, V: r.value}), nil
}

// labels returns the series of a path, from the cache when it can. The
// returned Labels are shared: callers must not modify them.
func (d *decoder) labels(path []byte, col int) (tsdb.Labels, error) {
	if d.cache != nil {
		if ls, ok := d.cache.get(path); ok {
			return ls, nil
		}
	}
	if d.reserve != nil && !d.reserve(d.p.mappingBound(path)) {
		return nil, errOverBudget
	}
	res, err := d.p.resolve(string(path), col, d.elems[:0])
	if err != nil {
		return nil, err
	}
	if d.elems = res.elems[:0]; cap(d.elems) > maxScratchElems {
		d.elems = nil // a path of many elements: its scratch is not kept
	}
	if d.cache != nil {
		d.cache.put(path, res.labels)
	}
	return res.labels, nil
}

// resolved is a path mapped to its series, with the steps that explain it.
type resolved struct {
	metricPath string       // the path before any ";"
	lineTags   []tsdb.Label // the ";k=v" tags, sorted, last value of a name kept
	elems      []string     // metricPath split on "."
	tmpl       *template    // nil when no template is configured
	applied    applied      // what tmpl extracted
	name       string       // the metric name
	labels     tsdb.Labels  // the series, name included
}

// resolve maps a path ("a.b.c" or "a.b.c;k=v;...") to its series: the
// template's measurement (the whole path when the template yields none),
// "_field" when the template names a field; then labels by rising
// precedence: graphite.tags, the template's tags, tags taken from the path
// by the template, and the line's own ";k=v" tags. Labels never have empty
// values (Prometheus treats them as absent): an empty path element leaves
// a configured tag of that name in place.
func (p *Parser) resolve(path string, col int, scratch []string) (resolved, error) {
	var res resolved
	if !utf8.ValidString(path) {
		return res, &ParseError{Line: 1, Col: col, Msg: "path is not valid UTF-8"}
	}
	res.metricPath = path
	if i := strings.IndexByte(path, ';'); i >= 0 {
		res.metricPath = path[:i]
		tags, err := parseLineTags(path[i+1:], col+i+1)
		if err != nil {
			return res, err
		}
		res.lineTags = tags
	}
	if res.metricPath == "" {
		return res, &ParseError{Line: 1, Col: col, Msg: "empty metric path"}
	}
	res.name = res.metricPath
	if len(p.ts.list) > 0 {
		res.elems = splitDots(scratch, res.metricPath)
		res.tmpl = p.ts.match(res.elems)
		res.applied = res.tmpl.apply(res.elems)
		if res.applied.measurement != "" {
			res.name = res.applied.measurement
		}
		if res.applied.field != "" {
			res.name += "_" + res.applied.field
		}
	}
	res.labels = p.assemble(&res)
	return res, nil
}

// assemble builds the sorted label set of res by the precedence resolve
// describes.
func (p *Parser) assemble(res *resolved) tsdb.Labels {
	n := 1 + len(p.ts.global) + len(res.applied.tags) + len(res.lineTags)
	if res.tmpl != nil {
		n += len(res.tmpl.tags)
	}
	ls := make(tsdb.Labels, 0, n)
	ls = append(ls, p.ts.global...)
	if res.tmpl != nil {
		ls = append(ls, res.tmpl.tags...)
	}
	for _, l := range res.applied.tags {
		if l.Value != "" { // an empty path element does not hide a configured tag
			ls = append(ls, l)
		}
	}
	ls = append(ls, res.lineTags...)
	ls = append(ls, tsdb.Label{Name: tsdb.MetricName, Value: res.name})
	slices.SortStableFunc(ls, func(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) })
	out := ls[:0]
	for i, l := range ls {
		if i+1 < len(ls) && ls[i+1].Name == l.Name {
			continue // a later label of the same name takes precedence
		}
		out = append(out, l)
	}
	return slices.Clip(out)
}

// parseLineTags parses the ";"-separated "k=v" tags of Graphite's tagged
// form (col is the column of the first). As in carbon, a tag without "="
// is an error and the last value of a repeated name wins. As in
// VictoriaMetrics, a tag with an empty name or value is skipped; so is one
// named __name__, which would clash with the metric name.
func parseLineTags(s string, col int) ([]tsdb.Label, error) {
	var tags []tsdb.Label
	for {
		seg, rest, more := strings.Cut(s, ";")
		k, v, ok := strings.Cut(seg, "=")
		if !ok && seg != "" {
			return nil, &ParseError{Line: 1, Col: col, Msg: "tag " + strconv.Quote(seg) + " has no '=', want name=value"}
		}
		if k != "" && v != "" && k != tsdb.MetricName {
			tags = setLabel(tags, tsdb.Label{Name: k, Value: v})
		}
		if !more {
			break
		}
		s, col = rest, col+len(seg)+1
	}
	return tags, nil
}

// splitDots splits s on "." into dst without allocating when dst has room.
func splitDots(dst []string, s string) []string {
	for {
		i := strings.IndexByte(s, '.')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}
