package host

import (
	"strings"

	"outpost/tsdb"
)

// arenaChunk is how many labels one block of a batch's label arena holds.
const arenaChunk = 4096

// batch accumulates the points of one collection. Its label sets are cut
// from an arena that is reused by the next collection: the Writer keeps
// neither the points nor their Labels (collectors.Writer), so nothing
// outlives the write.
type batch struct {
	t      int64          // the collection's timestamp, ms
	common []tsdb.Label   // db and host, sorted, on every series
	pts    []tsdb.Point   // the points so far
	arena  []tsdb.Label   // the current arena block; later blocks when full
	blocks [][]tsdb.Label // every block cut from, the first reused
}

// reset starts a collection stamped t (ms).
func (b *batch) reset(t int64) {
	b.t = t
	clear(b.pts) // drop references to the previous collection's strings
	b.pts = b.pts[:0]
	if len(b.blocks) > 1 { // one block of the size the last collection took
		n := 0
		for _, bl := range b.blocks {
			n += cap(bl)
		}
		b.blocks = [][]tsdb.Label{make([]tsdb.Label, 0, n)}
	}
	if len(b.blocks) > 0 {
		b.arena = b.blocks[0][:0]
		b.blocks = b.blocks[:1]
	}
}

// alloc returns n labels from the arena.
func (b *batch) alloc(n int) []tsdb.Label {
	if len(b.arena)+n > cap(b.arena) {
		b.arena = make([]tsdb.Label, 0, max(arenaChunk, n))
		b.blocks = append(b.blocks, b.arena)
	}
	s := b.arena[len(b.arena) : len(b.arena)+n : len(b.arena)+n]
	b.arena = b.arena[:len(b.arena)+n]
	return s
}

// tags returns the label set of one series group: the common labels and
// tags (name, value pairs, in any order), sorted by name, without the
// metric name.
func (b *batch) tags(nv ...string) []tsdb.Label {
	ls := b.alloc(len(b.common) + len(nv)/2)
	n := copy(ls, b.common)
	for i := 0; i+1 < len(nv); i += 2 {
		// insertion into the sorted prefix: a handful of labels
		l := tsdb.Label{Name: nv[i], Value: nv[i+1]}
		j := n
		for j > 0 && strings.Compare(ls[j-1].Name, l.Name) > 0 {
			ls[j] = ls[j-1]
			j--
		}
		ls[j] = l
		n++
	}
	return ls
}

// add appends the sample name{tags...} = v. tags comes from b.tags; its
// names sort after the metric name's label, as every lower-case name does.
func (b *batch) add(name string, v float64, tags []tsdb.Label) {
	ls := b.alloc(len(tags) + 1)
	ls[0] = tsdb.Label{Name: tsdb.MetricName, Value: name}
	copy(ls[1:], tags)
	b.pts = append(b.pts, tsdb.Point{Labels: ls, T: b.t, V: v})
}
