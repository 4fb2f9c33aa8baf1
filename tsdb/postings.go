package tsdb

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// postingsIndex is the in-memory inverted index: label name -> label value
// -> the IDs of the series that carry the pair (their "postings"). It is
// rebuilt from index.db at startup and never persisted. It has no lock of its
// own: index.pmu guards it (see index.go).
//
// Most values of a high-cardinality label belong to one series or a few, and
// a roaring bitmap costs about 150 bytes even when it holds one ID. So a
// value's postings are kept in the smallest of three forms, told apart by a
// 32-bit reference stored in the value map:
//
//	ref < 1<<31            the postings hold exactly one series, ID ref
//	ref >= 1<<31           lists[ref &^ 1<<31]: a sorted []uint32 of up to
//	                       postingsSmallMax IDs, or past that a roaring bitmap
//
// Series IDs are therefore below 1<<31 (indexMaxID).
type postingsIndex struct {
	names map[string]*postingsName // label name (interned) -> its values
	lists []postingsList           // postings of values with two series or more
	all   *roaring.Bitmap          // every series
	n     int                      // series added
	// optimizeAt is the series count at which every bitmap is next
	// run-optimized; it doubles each time, so the cost is amortized O(1).
	optimizeAt int
}

// postingsName holds the values of one label name.
type postingsName struct {
	vals map[string]uint32 // value (interned) -> postings reference
	has  *roaring.Bitmap   // every series that has the label
}

// postingsList is the postings of a value with at least two series: ids
// while small, bm afterwards (ids is then nil).
type postingsList struct {
	ids []uint32
	bm  *roaring.Bitmap
}

const (
	postingsListTag  = 1 << 31
	postingsSmallMax = 32
	postingsOptMin   = 1 << 12
)

func newPostingsIndex() postingsIndex {
	return postingsIndex{
		names:      make(map[string]*postingsName),
		all:        roaring.New(),
		optimizeAt: postingsOptMin,
	}
}

// add records series id under every label of ls. The strings of ls must be
// interned (they become map keys); ls itself is not kept.
func (p *postingsIndex) add(id uint32, ls Labels) {
	p.all.Add(id)
	for _, l := range ls {
		pn := p.names[l.Name]
		if pn == nil {
			pn = &postingsName{vals: make(map[string]uint32), has: roaring.New()}
			p.names[l.Name] = pn
		}
		pn.has.Add(id)
		if ref, ok := pn.vals[l.Value]; ok {
			pn.vals[l.Value] = p.appendRef(ref, id)
		} else {
			pn.vals[l.Value] = id
		}
	}
	p.n++
	if p.n >= p.optimizeAt {
		p.optimize()
		p.optimizeAt = 2 * p.n
	}
}

// appendRef adds id to the postings ref and returns the (possibly new) ref.
func (p *postingsIndex) appendRef(ref, id uint32) uint32 {
	if ref&postingsListTag == 0 {
		if ref == id {
			return ref
		}
		ids := []uint32{ref, id}
		if id < ref {
			ids[0], ids[1] = id, ref
		}
		p.lists = append(p.lists, postingsList{ids: ids})
		return uint32(len(p.lists)-1) | postingsListTag
	}
	pl := &p.lists[ref&^postingsListTag]
	if pl.bm != nil {
		pl.bm.Add(id)
		return ref
	}
	i, found := slices.BinarySearch(pl.ids, id)
	if found {
		return ref
	}
	pl.ids = slices.Insert(pl.ids, i, id)
	if len(pl.ids) > postingsSmallMax {
		pl.bm = roaring.BitmapOf(pl.ids...)
		pl.ids = nil
	}
	return ref
}

// optimize run-length encodes every bitmap where that is smaller. Series
// created together get consecutive IDs, so many postings are long runs.
func (p *postingsIndex) optimize() {
	p.all.RunOptimize()
	for _, pn := range p.names {
		pn.has.RunOptimize()
	}
	for i := range p.lists {
		if bm := p.lists[i].bm; bm != nil {
			bm.RunOptimize()
		}
	}
}

// intersects reports whether ref and ids share a series.
func (p *postingsIndex) intersects(ref uint32, ids *roaring.Bitmap) bool {
	if ref&postingsListTag == 0 {
		return ids.Contains(ref)
	}
	pl := &p.lists[ref&^postingsListTag]
	if pl.bm != nil {
		return postingsIntersect(pl.bm, ids)
	}
	for _, id := range pl.ids {
		if ids.Contains(id) {
			return true
		}
	}
	return false
}

// postingsIntersect reports whether a and b share an element. roaring's
// Intersects allocates a whole intersection when a holds run containers;
// AndCardinality does not.
func postingsIntersect(a, b *roaring.Bitmap) bool {
	if a.HasRunCompression() {
		return a.AndCardinality(b) != 0
	}
	return a.Intersects(b)
}

// postingsSet is a set of series computed while evaluating matchers. bm is
// shared with the index, and read-only, unless owned is set.
type postingsSet struct {
	bm    *roaring.Bitmap
	owned bool
}

// view returns the postings of ref as a set, sharing the stored bitmap when
// there is one.
func (p *postingsIndex) view(ref uint32) postingsSet {
	if ref&postingsListTag == 0 {
		return postingsSet{bm: roaring.BitmapOf(ref), owned: true}
	}
	pl := &p.lists[ref&^postingsListTag]
	if pl.bm != nil {
		return postingsSet{bm: pl.bm}
	}
	return postingsSet{bm: roaring.BitmapOf(pl.ids...), owned: true}
}

// union returns the series of every ref in refs. It unions with
// roaring.FastOr, because in-place Or into a run container adds the other
// container's values one by one (roaring issue 81).
func (p *postingsIndex) union(refs []uint32) postingsSet {
	if len(refs) == 1 {
		return p.view(refs[0])
	}
	var bms []*roaring.Bitmap
	var ids []uint32
	for _, ref := range refs {
		if ref&postingsListTag == 0 {
			ids = append(ids, ref)
			continue
		}
		if pl := &p.lists[ref&^postingsListTag]; pl.bm != nil {
			bms = append(bms, pl.bm)
		} else {
			ids = append(ids, pl.ids...)
		}
	}
	var own *roaring.Bitmap
	if len(ids) > 0 {
		slices.Sort(ids)
		own = roaring.BitmapOf(ids...)
		if len(bms) == 0 {
			return postingsSet{bm: own, owned: true}
		}
		bms = append(bms, own)
	}
	return postingsSet{bm: roaring.FastOr(bms...), owned: true}
}

// hasMinus returns the series that have label pn but none of the refs.
func (p *postingsIndex) hasMinus(pn *postingsName, refs []uint32) postingsSet {
	if len(refs) == 0 {
		return postingsSet{bm: pn.has}
	}
	u := p.union(refs)
	return postingsSet{bm: roaring.AndNot(pn.has, u.bm), owned: true}
}

// sizeBytes estimates the memory held by the postings.
func (p *postingsIndex) sizeBytes() int64 {
	const mapEntry = 40 // a string key, a uint32 and the map's slack
	n := int64(p.all.GetSizeInBytes()) + int64(cap(p.lists))*32
	for _, pn := range p.names {
		n += 64 + int64(len(pn.vals))*mapEntry + int64(pn.has.GetSizeInBytes())
	}
	for i := range p.lists {
		pl := &p.lists[i]
		n += int64(cap(pl.ids)) * 4
		if pl.bm != nil {
			n += 96 + int64(pl.bm.GetSizeInBytes())
		}
	}
	return n
}
