package tsdb

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// filterSeries keeps the series of ids whose labels satisfy every matcher
// of ms, reading each series' labels. postings uses it when the selected
// series are fewer than the values a regexp would scan.
func (ix *index) filterSeries(ids *roaring.Bitmap, ms []*Matcher) *roaring.Bitmap {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	nameSyms := make([]uint32, len(ms))
	for i, m := range ms {
		nameSyms[i] = ix.syms.lookup(m.Name)
	}
	out := roaring.New()
	buf := make([]uint32, 0, 256)
	it := ids.Iterator()
	for it.HasNext() {
		id := it.Next()
		if !ix.matchesLocked(id, ms, nameSyms) {
			continue
		}
		if buf = append(buf, id); len(buf) == cap(buf) {
			out.AddMany(buf)
			buf = buf[:0]
		}
	}
	out.AddMany(buf)
	return out
}

// matchesLocked reports whether series id satisfies every matcher; the
// label called ms[i].Name has symbol nameSyms[i] (0 if it is no symbol).
func (ix *index) matchesLocked(id uint32, ms []*Matcher, nameSyms []uint32) bool {
	for i, m := range ms {
		v := ""
		if ref, ok := ix.valueRefLocked(id, nameSyms[i]); ok {
			v = ix.syms.strs[ref]
		}
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// labelNames returns the sorted names of the labels of the series in ids,
// or of every series when ids is nil.
func (ix *index) labelNames(ids *roaring.Bitmap) []string {
	ix.pmu.RLock()
	names := make([]string, 0, len(ix.post.names))
	for name, pn := range ix.post.names {
		if ids == nil || postingsIntersect(pn.has, ids) {
			names = append(names, name)
		}
	}
	ix.pmu.RUnlock()
	slices.Sort(names)
	return names
}

// labelValues returns the sorted values of label name among the series in
// ids, or among every series when ids is nil. When ids holds fewer series
// than the label has values, it reads those series' labels instead of
// testing every value.
func (ix *index) labelValues(name string, ids *roaring.Bitmap) []string {
	ix.pmu.RLock()
	pn := ix.post.names[name]
	if pn == nil {
		ix.pmu.RUnlock()
		return nil
	}
	// Reading a series' labels costs less than intersecting a value's
	// postings with ids, hence the factor.
	if ids != nil && ids.GetCardinality() < 4*uint64(len(pn.vals)) {
		ix.pmu.RUnlock()
		return ix.labelValuesOf(name, ids)
	}
	vals := make([]string, 0, len(pn.vals))
	for v, ref := range pn.vals {
		if ids == nil || ix.post.intersects(ref, ids) {
			vals = append(vals, v)
		}
	}
	ix.pmu.RUnlock()
	slices.Sort(vals)
	return vals
}

// labelValuesOf collects the values of label name from the series of ids.
func (ix *index) labelValuesOf(name string, ids *roaring.Bitmap) []string {
	ix.mu.RLock()
	nameSym := ix.syms.lookup(name)
	seen := make(map[uint32]struct{})
	it := ids.Iterator()
	for it.HasNext() {
		if ref, ok := ix.valueRefLocked(it.Next(), nameSym); ok {
			seen[ref] = struct{}{}
		}
	}
	vals := make([]string, 0, len(seen))
	for ref := range seen {
		vals = append(vals, ix.syms.strs[ref])
	}
	ix.mu.RUnlock()
	slices.Sort(vals)
	return vals
}
