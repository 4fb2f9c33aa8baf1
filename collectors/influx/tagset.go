package influx

import (
	"slices"
	"strconv"
	"strings"

	"outpost/tsdb"
)

// Bounds of the per-body caches; past them lines are mapped uncached.
const (
	maxTagSets = 8192
	maxNames   = 16384
)

// tagSet is the label template of one tag set: the tags, db unless a tag
// gave it, and an empty __name__ at namePos, sorted by name. A point's
// labels are a copy of it with the name filled in.
type tagSet struct {
	tpl     []tsdb.Label
	namePos int
}

// resetCaches forgets the tag sets and names of the last body.
func (p *Parser) resetCaches() {
	if p.setIndex == nil {
		p.setIndex = make(map[string]int32)
		p.names = make(map[string]string)
	}
	clear(p.setIndex)
	clear(p.names)
	p.clearSlots()
	p.meas = p.meas[:0]
	clear(p.sets[:cap(p.sets)])
	clear(p.setArena[:cap(p.setArena)])
	p.sets, p.setArena = p.sets[:0], p.setArena[:0]
	p.cache = strings.Builder{} // points in flight may still use the old one
}

// clearSlots forgets the names by field position (metricName's fast path).
// Next calls it at every batch, so that a slot naming a string of an
// earlier batch's arena does not keep that arena alive.
func (p *Parser) clearSlots() {
	for i := range p.slots[:cap(p.slots)] {
		p.slots[:cap(p.slots)][i].name = ""
	}
	p.slots = p.slots[:0]
}

// cacheFull reports whether the caches reached maxCacheBytes; past it lines
// are mapped uncached.
func (p *Parser) cacheFull() bool {
	return p.cache.Len()+len(p.setArena)*labelBytes+(len(p.sets)+len(p.names))*cacheEntryBytes >= maxCacheBytes
}

// cstr copies b into the caches' string arena and returns it as a string,
// as str does for the batch's arena. A body parsed from memory (a datagram,
// Parse) is held whole anyway: its cached strings stay in the batch arena,
// which spares a small body an arena of its own.
func (p *Parser) cstr(b []byte) string {
	if p.src == nil {
		return p.str(b)
	}
	start := p.cache.Len()
	p.cache.Write(b)
	return p.cache.String()[start:]
}

// cstrs is cstr for a string, for streamed bodies only.
func (p *Parser) cstrs(s string) string {
	start := p.cache.Len()
	p.cache.WriteString(s)
	return p.cache.String()[start:]
}

// readTags reads the line's tags and sets p.cur to their template. A tag
// called __name__ is dropped: the metric name comes from measurement and
// field only. Duplicate tag keys reject the line, as in InfluxDB.
//
// Lines of one body often repeat a tag set (one host's lines, Telegraf's
// per-host batches). When every tag token points into the body (no
// escapes), the raw tag section identifies the set, and a set seen before
// is reused without copying, sorting or allocating.
func (p *Parser) readTags() error {
	p.tagBuf, p.tagRefs = p.tagBuf[:0], p.tagRefs[:0]
	start, end, direct, hasDB := -1, -1, true, false
	for {
		key, val, err := p.dec.NextTag()
		if err != nil {
			return err
		}
		if key == nil {
			break
		}
		ko, vo := p.offset(key), p.offset(val)
		if ko < 0 || vo < 0 || (end >= 0 && ko != end+1) {
			direct = false
		}
		if start < 0 {
			start = ko
			p.note(key)
		}
		end = vo + len(val)
		if string(key) == tsdb.MetricName {
			continue
		}
		hasDB = hasDB || string(key) == labelDB
		if (len(p.tagRefs)/2+3)*labelBytes+pointBytes > maxLineMapped { // the tags, __name__, db, value
			return &lineError{"too many tags (over " + strconv.Itoa(len(p.tagRefs)/2) + ")", p.offset(key)}
		}
		p.tagRefs = append(p.tagRefs, p.ref(key, ko), p.ref(val, vo))
	}
	var section []byte // nil: no tags
	if direct && start >= 0 {
		section = p.body[start:end]
	}
	p.keyable, p.section = direct, section
	if direct {
		if i, ok := p.setIndex[string(section)]; ok {
			p.cur = p.sets[i]
			return nil
		}
	}
	if err := p.buildTemplate(hasDB); err != nil {
		return err
	}
	p.cur = tagSet{tpl: p.tpl, namePos: p.namePos()}
	if direct && len(p.sets) < maxTagSets && !p.cacheFull() {
		n := len(p.setArena)
		p.setArena = append(p.setArena, p.tpl...)
		if p.src != nil { // see cstr
			for i := n; i < len(p.setArena); i++ {
				l := &p.setArena[i]
				l.Name, l.Value = p.cstrs(l.Name), p.cstrs(l.Value)
			}
		}
		p.cur.tpl = p.setArena[n:len(p.setArena):len(p.setArena)]
		p.setIndex[p.cstr(section)] = int32(len(p.sets))
		p.sets = append(p.sets, p.cur)
	}
	return nil
}

// tagRef locates one tag key or value of the current line: in the body
// when the decoder returned it from there, else in tagBuf, where ref copies
// it (the decoder's own buffer is only valid until its next call).
type tagRef struct {
	off, n int
	inBuf  bool
}

// ref returns the tagRef of token b found at body offset off (-1: not in
// the body).
func (p *Parser) ref(b []byte, off int) tagRef {
	if off >= 0 {
		return tagRef{off: off, n: len(b)}
	}
	p.tagBuf = append(p.tagBuf, b...)
	return tagRef{off: len(p.tagBuf) - len(b), n: len(b), inBuf: true}
}

// bytes returns the token r refers to.
func (p *Parser) bytes(r tagRef) []byte {
	if r.inBuf {
		return p.tagBuf[r.off : r.off+r.n]
	}
	return p.body[r.off : r.off+r.n]
}

// buildTemplate turns the line's tags into p.tpl: strings copied to the
// batch arena, sorted, checked for duplicates, with __name__ and db added.
func (p *Parser) buildTemplate(hasDB bool) error {
	tags := p.tags[:0]
	for i := 0; i+1 < len(p.tagRefs); i += 2 {
		tags = append(tags, tsdb.Label{Name: p.str(p.bytes(p.tagRefs[i])), Value: p.str(p.bytes(p.tagRefs[i+1]))})
	}
	p.tags = tags
	sortLabels(tags)
	for i := 1; i < len(tags); i++ {
		if tags[i].Name == tags[i-1].Name {
			return &lineError{"duplicate tag key " + strconv.Quote(tags[i].Name), -1}
		}
	}
	tpl := append(p.tpl[:0], tags...)
	tpl = insertLabel(tpl, tsdb.Label{Name: tsdb.MetricName})
	if p.opts.DB != "" && !hasDB {
		tpl = insertLabel(tpl, tsdb.Label{Name: labelDB, Value: p.opts.DB})
	}
	p.tpl = tpl
	return nil
}

// namePos returns the index of __name__ in p.tpl.
func (p *Parser) namePos() int {
	for i := range p.tpl {
		if p.tpl[i].Name == tsdb.MetricName {
			return i
		}
	}
	return 0 // unreachable: buildTemplate always adds it
}

// sortLabels sorts ls by name: insertion sort for the usual short, already
// sorted tag sets, a real sort past 16 so a hostile line cannot go quadratic.
func sortLabels(ls []tsdb.Label) {
	if len(ls) > 16 {
		if !slices.IsSortedFunc(ls, cmpLabel) {
			slices.SortFunc(ls, cmpLabel)
		}
		return
	}
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].Name < ls[j-1].Name; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

func cmpLabel(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) }

// insertLabel inserts l into the sorted ls at its place.
func insertLabel(ls []tsdb.Label, l tsdb.Label) []tsdb.Label {
	i := len(ls)
	for i > 0 && ls[i-1].Name > l.Name {
		i--
	}
	return slices.Insert(ls, i, l)
}

// nameSlot remembers the metric name made for one field position of the
// last line of the same measurement.
type nameSlot struct {
	key  []byte
	name string
	info bool
}

// metricName returns measurement + "_" + key (+ "_info"), reusing the
// string when this body has produced the same name before: first from the
// same field position of the previous line of the same measurement (lines
// of one measurement usually list the same fields in the same order), then
// from a map of the body's names.
func (p *Parser) metricName(pos int, key []byte, info bool) string {
	if pos < len(p.slots) {
		if sl := &p.slots[pos]; sl.info == info && string(sl.key) == string(key) {
			return sl.name
		}
	}
	b := append(p.nameBuf[:0], p.meas...)
	b = append(b, '_')
	b = append(b, key...)
	if info {
		b = append(b, "_info"...)
	}
	p.nameBuf = b
	s, ok := p.names[string(b)]
	switch {
	case ok:
	case len(p.names) < maxNames && !p.cacheFull():
		s = p.cstr(b)
		p.names[s] = s
	default:
		s = p.str(b)
	}
	switch {
	case pos < len(p.slots):
		sl := &p.slots[pos]
		sl.key, sl.name, sl.info = append(sl.key[:0], key...), s, info
	case pos == len(p.slots) && pos < cap(p.slots):
		p.slots = p.slots[:pos+1]
		sl := &p.slots[pos]
		sl.key, sl.name, sl.info = append(sl.key[:0], key...), s, info
	case pos == len(p.slots):
		p.slots = append(p.slots, nameSlot{key: slices.Clone(key), name: s, info: info})
	}
	return s
}
