package tsdb

import (
	"sort"

	"outpost/tsdb/chunkenc"
)

// source is one chunk of a series' samples: a sealed chunk from a
// partition, or a head chunk with its late samples. Sources of one epoch
// are ordered by rank, oldest write first.
type source struct {
	start int64  // epoch
	rank  int    // write order within the epoch
	chunk []byte // chunkenc bytes (sealed or Gorilla), may be empty
	ooo   []Sample
}

// seriesData is what a Series reads its samples from. Chunks read from the
// store are in buf, as long as buf's generation is gen.
type seriesData struct {
	mint, maxt int64
	srcs       []source // sorted by (start, rank)
	buf        *chunkBuf
	gen        uint32
	dels       []interval // deleted ranges (tombstones) within [mint, maxt]
}

// Iterator walks a series' samples in ascending time order, one per
// timestamp, within the range selected.
type Iterator struct {
	d    seriesData
	next int // index of the first source of the next epoch group
	di   int // index of the first deleted interval not before the last sample

	// The current epoch group is either streamed from one chunk (single)
	// or merged from several sources into ts/vs. NextBatch decodes into
	// bts/bvs, reused from group to group; dts/dvs and mts/mvs are the
	// scratch of mergeGroup.
	single   bool
	bts, dts []int64
	bvs, dvs []float64
	mts      []int64
	mvs      []float64
	ci       chunkenc.Iterator
	ts       []int64
	vs       []float64
	pos      int

	t   int64
	v   float64
	err error
	ok  bool // positioned on a sample
}

func newIterator(d seriesData) *Iterator {
	return &Iterator{d: d}
}

// loadGroup positions the iterator before the first sample of the next
// epoch group; false when there is none.
func (it *Iterator) loadGroup() bool {
	if it.next >= len(it.d.srcs) || it.err != nil {
		return false
	}
	if it.d.released() {
		it.err = ErrBatchReleased
		return false
	}
	i, start := it.next, it.d.srcs[it.next].start
	j := i + 1
	for j < len(it.d.srcs) && it.d.srcs[j].start == start {
		j++
	}
	it.next = j
	group := it.d.srcs[i:j]
	if len(group) == 1 && len(group[0].ooo) == 0 {
		it.single = true
		if err := it.ci.Reset(group[0].chunk); err != nil {
			it.err = err
			return false
		}
		return true
	}
	it.single = false
	it.pos = -1
	var err error
	if it.ts, it.vs, err = it.mergeGroup(group, it.ts, it.vs); err != nil {
		it.err = err
		return false
	}
	return true
}

// mergeGroup decodes the sources of one epoch group, oldest write first,
// and merges them into ts[:0], vs[:0]: one sample per timestamp, the newest
// write winning. Each source is decoded right after the samples so far;
// one that follows them (the common case: an epoch flushed in parts) needs
// nothing more, another is merged through the iterator's scratch buffers,
// so reading many groups allocates little.
func (it *Iterator) mergeGroup(group []source, ts []int64, vs []float64) ([]int64, []float64, error) {
	ts, vs = ts[:0], vs[:0]
	for _, s := range group {
		n := len(ts)
		var err error
		if len(s.ooo) > 0 { // head chunks with late samples: rare
			dts, dvs := it.dts[:0], it.dvs[:0]
			if len(s.chunk) > 0 {
				if dts, dvs, err = chunkenc.Decode(s.chunk, dts, dvs); err != nil {
					return ts, vs, err
				}
			}
			it.dts, it.dvs = dts, dvs
			dts, dvs = mergeOOO(dts, dvs, s.ooo)
			ts, vs = append(ts, dts...), append(vs, dvs...)
		} else if len(s.chunk) > 0 {
			// Decode straight after the samples so far; most sources follow them.
			if ts, vs, err = chunkenc.Decode(s.chunk, ts, vs); err != nil {
				return ts, vs, err
			}
		}
		if n == 0 || len(ts) == n || ts[n] > ts[n-1] {
			continue
		}
		mts, mvs := mergeNewer(ts[:n], vs[:n], ts[n:], vs[n:], it.mts[:0], it.mvs[:0])
		it.mts, it.mvs = ts, vs // the old result becomes the scratch
		ts, vs = mts, mvs
	}
	return ts, vs, nil
}

// mergeNewer merges the sorted samples a and b (b newer: it wins on equal
// timestamps) into dst.
func mergeNewer(aT []int64, aV []float64, bT []int64, bV []float64, dstT []int64, dstV []float64) ([]int64, []float64) {
	if len(aT) > 0 && len(bT) > 0 && bT[len(bT)-1] < aT[0] { // b precedes a
		dstT, dstV = append(dstT, bT...), append(dstV, bV...)
		return append(dstT, aT...), append(dstV, aV...)
	}
	i, j := 0, 0
	for i < len(aT) && j < len(bT) {
		switch {
		case aT[i] < bT[j]:
			dstT, dstV = append(dstT, aT[i]), append(dstV, aV[i])
			i++
		case aT[i] > bT[j]:
			dstT, dstV = append(dstT, bT[j]), append(dstV, bV[j])
			j++
		default:
			dstT, dstV = append(dstT, bT[j]), append(dstV, bV[j])
			i++
			j++
		}
	}
	dstT, dstV = append(dstT, aT[i:]...), append(dstV, aV[i:]...)
	return append(dstT, bT[j:]...), append(dstV, bV[j:]...)
}

// step advances within the current group.
func (it *Iterator) step() bool {
	if it.single {
		if !it.ci.Next() {
			if err := it.ci.Err(); err != nil {
				it.err = err
			}
			return false
		}
		it.t, it.v = it.ci.At()
		return true
	}
	it.pos++
	if it.pos >= len(it.ts) {
		return false
	}
	it.t, it.v = it.ts[it.pos], it.vs[it.pos]
	return true
}

// Next moves to the next sample.
func (it *Iterator) Next() bool {
	for {
		if it.next > 0 || it.ok {
			if it.step() {
				if it.t > it.d.maxt {
					it.ok = false
					it.next = len(it.d.srcs)
					return false
				}
				if it.t < it.d.mint || (it.d.dels != nil && it.deleted(it.t)) {
					continue
				}
				it.ok = true
				return true
			}
		}
		if !it.loadGroup() {
			it.ok = false
			return false
		}
	}
}

// SeekTo moves to the first sample at or after t and reports whether there
// is one. It never moves backwards.
func (it *Iterator) SeekTo(t int64) bool {
	if it.ok && it.t >= t {
		return true
	}
	if t < it.d.mint {
		t = it.d.mint
	}
	// Skip whole epoch groups that end before t.
	if !it.ok || epochOf(it.t) < epochOf(t) {
		for it.next < len(it.d.srcs) && it.d.srcs[it.next].start+epochMs <= t {
			it.next++
		}
		if !it.loadGroup() {
			it.ok = false
			return false
		}
	}
	for {
		var found bool
		if it.single {
			found = it.ci.SeekTo(t)
			if found {
				it.t, it.v = it.ci.At()
			} else if err := it.ci.Err(); err != nil {
				it.err = err
			}
		} else {
			k := sort.Search(len(it.ts)-max(it.pos, 0), func(k int) bool { return it.ts[max(it.pos, 0)+k] >= t }) + max(it.pos, 0)
			it.pos = k
			if found = k < len(it.ts); found {
				it.t, it.v = it.ts[k], it.vs[k]
			}
		}
		if found {
			it.ok = it.t <= it.d.maxt
			if it.ok && it.d.dels != nil && it.deleted(it.t) {
				return it.Next()
			}
			return it.ok
		}
		if !it.loadGroup() {
			it.ok = false
			return false
		}
	}
}

// At returns the current sample.
func (it *Iterator) At() (int64, float64) { return it.t, it.v }

// Err returns the first error met while decoding, if any.
func (it *Iterator) Err() error { return it.err }

// Samples appends the remaining samples to dst.
func (it *Iterator) Samples(dst []Sample) []Sample {
	for it.Next() {
		dst = append(dst, Sample{it.t, it.v})
	}
	return dst
}

// NextBatch returns the samples of the next epoch group in [mint, maxt],
// at least one, in time order, decoding whole chunks at a time. The slices
// belong to the iterator and are valid until its next call. An Iterator is
// read either with NextBatch and SkipTo or with Next and SeekTo, not both.
func (it *Iterator) NextBatch() ([]int64, []float64, bool) {
	for it.next < len(it.d.srcs) && it.err == nil {
		if it.d.released() {
			it.err = ErrBatchReleased
			return nil, nil, false
		}
		i, start := it.next, it.d.srcs[it.next].start
		j := i + 1
		for j < len(it.d.srcs) && it.d.srcs[j].start == start {
			j++
		}
		it.next = j
		group := it.d.srcs[i:j]
		var err error
		if len(group) == 1 && len(group[0].ooo) == 0 {
			it.bts, it.bvs, err = chunkenc.Decode(group[0].chunk, it.bts[:0], it.bvs[:0])
		} else {
			it.bts, it.bvs, err = it.mergeGroup(group, it.bts, it.bvs)
		}
		if err != nil {
			it.err = err
			return nil, nil, false
		}
		ts, vs := it.bts, it.bvs
		lo, hi := 0, len(ts)
		if lo < hi && ts[lo] < it.d.mint {
			lo = sort.Search(hi, func(k int) bool { return ts[k] >= it.d.mint })
		}
		if lo < hi && ts[hi-1] > it.d.maxt {
			hi = sort.Search(hi, func(k int) bool { return ts[k] > it.d.maxt })
		}
		if lo < hi && it.d.dels != nil {
			var dt []int64
			dt, vs = it.dropDeleted(ts[lo:hi], vs[lo:hi])
			ts, lo, hi = dt, 0, len(dt)
		}
		if lo < hi {
			return ts[lo:hi], vs[lo:hi], true
		}
	}
	return nil, nil, false
}

// SkipTo makes NextBatch skip the epoch groups that end before t, without
// decoding them. The next batch may still start before t.
func (it *Iterator) SkipTo(t int64) {
	for it.next < len(it.d.srcs) && it.d.srcs[it.next].start+epochMs <= t {
		it.next++
	}
}
