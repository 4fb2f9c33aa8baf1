package tsdb

import (
	"context"
	"fmt"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Select returns the series matching every matcher that have samples in
// [mint, maxt] (milliseconds, inclusive), sorted by labels: SelectWith
// with one matcher set and no budget. The chunks are read a batch at a
// time as the set is iterated.
func (db *DB) Select(ctx context.Context, mint, maxt int64, ms ...*Matcher) (*SeriesSet, error) {
	return db.SelectWith(ctx, SelectOptions{Mint: mint, Maxt: maxt}, ms)
}

// parallelReadMin is the number of series from which a batch is read
// from the day files with several goroutines: copying chunks out of bbolt
// is most of a large batch's time.
const parallelReadMin = 256

// Ranks order an epoch's sources from oldest to newest write: partition
// flushes by sequence number, then flush jobs, then the head.
const (
	rankFlushing = 1 << 20
	rankHead     = 1 << 21
)

// seriesIn returns the IDs among ids with samples in [mint, maxt]: every
// id when the range is unbounded, else those in matching head epochs,
// flush jobs and partition buckets.
func (db *DB) seriesIn(ids *roaring.Bitmap, mint, maxt int64) (*roaring.Bitmap, error) {
	if mint == minTime && maxt == maxTime {
		return ids, nil
	}
	present := roaring.New()
	db.head.mu.Lock()
	for start, e := range db.head.epochs {
		if start <= maxt && start+epochMs > mint {
			present.Or(e.ids)
		}
	}
	for _, j := range db.head.flushing {
		if j.start <= maxt && j.start+epochMs > mint {
			for id := range j.chunks {
				present.Add(id)
			}
		}
	}
	db.head.mu.Unlock()
	if err := db.parts.seriesIn(mint, maxt, present); err != nil {
		return nil, err
	}
	present.And(ids)
	return present, nil
}

func (db *DB) matching(ctx context.Context, mint, maxt int64, ms []*Matcher) (*roaring.Bitmap, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	ids, err := db.ix.postings(ms)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ids, err = db.seriesIn(ids, mint, maxt); err != nil {
		return nil, err
	}
	return db.withoutDeleted(ctx, ids, mint, maxt)
}

// LabelNames returns the sorted label names of the series matching ms
// with samples in [mint, maxt]. Pass minTime/maxTime-wide bounds (see
// MinTime, MaxTime) for all time.
func (db *DB) LabelNames(ctx context.Context, mint, maxt int64, ms ...*Matcher) ([]string, error) {
	ids, err := db.matching(ctx, mint, maxt, ms)
	if err != nil {
		return nil, fmt.Errorf("label names: %w", err)
	}
	return db.ix.labelNames(ids), nil
}

// LabelValues returns the sorted values of label name among the series
// matching ms with samples in [mint, maxt].
func (db *DB) LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*Matcher) ([]string, error) {
	ids, err := db.matching(ctx, mint, maxt, ms)
	if err != nil {
		return nil, fmt.Errorf("label values of %q: %w", name, err)
	}
	return db.ix.labelValues(name, ids), nil
}

// Series returns the label sets of the series matching ms with samples in
// [mint, maxt], sorted.
func (db *DB) Series(ctx context.Context, mint, maxt int64, ms ...*Matcher) ([]Labels, error) {
	ids, err := db.matching(ctx, mint, maxt, ms)
	if err != nil {
		return nil, fmt.Errorf("series: %w", err)
	}
	out := make([]Labels, 0, ids.GetCardinality())
	for it := ids.Iterator(); it.HasNext(); {
		if ls, ok := db.ix.labels(it.Next()); ok {
			out = append(out, ls)
		}
	}
	slices.SortFunc(out, Compare)
	return out, nil
}

// MinTime and MaxTime are the bounds that mean "all time" to the listing
// methods and to Select.
const (
	MinTime int64 = minTime
	MaxTime int64 = maxTime
)

// Series is one selected series: its labels and its samples in the
// selected range. The samples are read from the chunks of the Series'
// batch, which are valid until its SeriesSet moves past that batch (see
// SeriesSet.At); the labels stay valid.
type Series struct {
	Labels Labels
	id     uint32
	src    seriesData
}

// Iterator returns a new iterator over the series' samples in [mint, maxt]
// in time order, one sample per timestamp. Iterators of one Series are
// independent and may run in different goroutines, while the Series'
// batch is current.
func (s Series) Iterator() *Iterator { return newIterator(s.src) }

// ReuseIterator is Iterator reusing the memory of it, an iterator its
// caller no longer uses (nil allocates a new one). Reading many series one
// after the other through one iterator saves an allocation per chunk.
func (s Series) ReuseIterator(it *Iterator) *Iterator {
	if it == nil {
		return newIterator(s.src)
	}
	*it = Iterator{d: s.src, bts: it.bts[:0], bvs: it.bvs[:0], ts: it.ts[:0], vs: it.vs[:0],
		dts: it.dts[:0], dvs: it.dvs[:0], mts: it.mts[:0], mvs: it.mvs[:0]}
	return it
}
