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

// seriesData is what a Series reads its samples from.
type seriesData struct {
	mint, maxt int64
	srcs       []source // sorted by (start, rank)
}

// Iterator walks a series' samples in ascending time order, one per
// timestamp, within the range selected.
type Iterator struct {
	d    seriesData
	next int // index of the first source of the next epoch group

	// The current epoch group is either streamed from one chunk (single)
	// or merged from several sources into ts/vs.
	single bool
	ci     chunkenc.Iterator
	ts     []int64
	vs     []float64
	pos    int

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
	it.ts, it.vs, it.pos = it.ts[:0], it.vs[:0], -1
	for _, s := range group {
		var ts []int64
		var vs []float64
		if len(s.chunk) > 0 {
			var err error
			if ts, vs, err = chunkenc.Decode(s.chunk, nil, nil); err != nil {
				it.err = err
				return false
			}
		}
		if len(s.ooo) > 0 {
			ts, vs = mergeOOO(ts, vs, s.ooo)
		}
		if len(it.ts) == 0 {
			it.ts, it.vs = ts, vs
			continue
		}
		late := make([]Sample, len(ts))
		for k := range ts {
			late[k] = Sample{ts[k], vs[k]}
		}
		it.ts, it.vs = mergeOOO(it.ts, it.vs, late)
	}
	return true
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
				if it.t < it.d.mint {
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
