package promrw

import (
	"unsafe"

	"outpost/tsdb"
)

// What a batch of points may hold before it is written.
const (
	// maxBatchBytes ends a batch once its points, label arrays, series keys
	// and copied strings take this much, even short of BatchPoints.
	maxBatchBytes = 1 << 20
	// maxSeriesBytes is the most one series adds to a batch besides its
	// points: MaxLabels labels, and its key and strings (a metric object
	// of an import line is at most maxMetricBytes, its strings no longer).
	maxSeriesBytes = MaxLabels*labelBytes + 2*(maxMetricBytes+len(importKeyPrefix))
	// batchReserve is what a request reserves for its batch: a batch ends
	// past maxBatchBytes by at most one series, and its slices, grown by
	// append, may hold up to twice what they use.
	batchReserve = 2 * (maxBatchBytes + maxSeriesBytes)

	pointBytes = int(unsafe.Sizeof(tsdb.Point{})) // 64 on 64-bit platforms
	labelBytes = int(unsafe.Sizeof(tsdb.Label{})) // 32
)

// Key prefixes (tsdb.Point.Key) of the two formats, so that their keys
// never meet each other's or another protocol's.
const (
	remoteWriteKeyPrefix = "promrw\x00"
	importKeyPrefix      = "vmimport\x00"
)

// batch gathers points for one Writer call. Points of one series share its
// labels and key; the labels live in the batch's label arena, their
// strings in the request's decoded body (remote write) or in the batch's
// string arena (import, whose lines are read into a window that moves on).
// A batch is for one goroutine; handlers pool them.
type batch struct {
	pts    []tsdb.Point
	labels []tsdb.Label // arena of the series' label arrays
	keys   []byte       // arena of the series' keys
	strs   []byte       // arena of copied label strings
	max    int          // points per batch

	// The series being added, which a flush in its middle adds again.
	ls     tsdb.Labels
	key    []byte
	copied bool // ls's strings are in strs
}

// reset empties b for the next Writer call, keeping its arrays.
func (b *batch) reset() {
	clear(b.pts) // drop references to the strings of a body that will be reused
	b.pts, b.labels, b.keys, b.strs = b.pts[:0], b.labels[:0], b.keys[:0], b.strs[:0]
	b.ls, b.key, b.copied = nil, nil, false
}

// full reports whether b should be written before it takes another point.
func (b *batch) full() bool {
	return len(b.pts) >= b.max ||
		len(b.pts)*pointBytes+len(b.labels)*labelBytes+len(b.keys)+len(b.strs) >= maxBatchBytes
}

// setSeries makes ls (already normalized) the labels of the points added
// next, with key prefix+raw (no key when raw is nil). With copyStrings,
// the label strings are copied into the batch first. ls may be the tail of
// b's own label arena.
func (b *batch) setSeries(ls tsdb.Labels, prefix string, raw []byte, copyStrings bool) {
	start := len(b.labels)
	if !inArena(b.labels, ls) {
		b.labels = append(b.labels, ls...)
	} else {
		start = len(b.labels) - len(ls)
	}
	b.ls = b.labels[start:len(b.labels):len(b.labels)]
	b.copied = copyStrings
	if copyStrings {
		for i := range b.ls {
			b.ls[i].Name = b.copyString(b.ls[i].Name)
			b.ls[i].Value = b.copyString(b.ls[i].Value)
		}
	}
	b.key = nil
	if raw != nil {
		k := len(b.keys)
		b.keys = append(append(b.keys, prefix...), raw...)
		b.key = b.keys[k:len(b.keys):len(b.keys)]
	}
}

// again adds the current series again after a flush emptied b: its labels
// and key, which still point into the arenas' old contents, are copied to
// their starts (copy and append move overlapping bytes correctly).
func (b *batch) again() {
	b.labels = append(b.labels[:0], b.ls...)
	b.ls = b.labels[:len(b.labels):len(b.labels)]
	if b.key != nil {
		b.keys = append(b.keys[:0], b.key...)
		b.key = b.keys[:len(b.keys):len(b.keys)]
	}
	// The strings copied into strs before the flush lie past where the
	// next series will copy its own: copy them to the start too, in order,
	// each to a place at or before its own (so none is overwritten before
	// it is copied).
	if b.copied {
		for i := range b.ls {
			b.ls[i].Name = b.copyString(b.ls[i].Name)
			b.ls[i].Value = b.copyString(b.ls[i].Value)
		}
	}
}

// add appends one point of the current series.
func (b *batch) add(t int64, v float64) {
	b.pts = append(b.pts, tsdb.Point{Labels: b.ls, T: t, V: v, Key: b.key})
}

// copyString copies s into the string arena and returns the copy.
func (b *batch) copyString(s string) string {
	if s == "" {
		return ""
	}
	start := len(b.strs)
	b.strs = append(b.strs, s...)
	return bytesString(b.strs[start:])
}

// inArena reports whether ls is the tail of arena.
func inArena(arena []tsdb.Label, ls tsdb.Labels) bool {
	return len(ls) > 0 && len(arena) >= len(ls) &&
		unsafe.SliceData(arena[len(arena)-len(ls):]) == unsafe.SliceData(ls)
}
