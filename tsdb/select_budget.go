package tsdb

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// ReadBudget is charged for the memory a SeriesSet holds: its list of
// series when SelectWith returns, and each batch of chunks before they are
// copied out of the store, their sizes taken from the head and from the
// day files without copying anything (a batch read ahead is charged
// before its goroutine starts). Reserve is called before the memory is
// taken and may refuse it; its error ends the Select or the iteration and
// reaches the caller unwrapped (errors.Is works), except for a batch to
// read ahead, which is then read when the iteration reaches it, once the
// batch before it is given back. Release gives back what the set no longer
// holds. The calls come from the goroutine that calls SelectWith, Next or
// NextBatch; a budget shared by several sets must be safe for concurrent
// use.
type ReadBudget interface {
	Reserve(bytes int64) error
	Release(bytes int64)
}

// SelectOptions says what SelectWith reads and under which budget.
type SelectOptions struct {
	// Mint and Maxt bound the samples read (milliseconds, inclusive);
	// MinTime and MaxTime mean all time.
	Mint, Maxt int64
	// Budget is charged for what the set holds; nil charges nothing.
	Budget ReadBudget
	// Unsorted yields the series in ID order (the order they were created
	// in) instead of label order: their labels are then read a batch at a
	// time, so the set holds a bounded amount however many series match.
	Unsorted bool
	// BatchBytes is how much the set's batches may hold at once (chunk
	// bytes plus bookkeeping): the one in use and the one read ahead, half
	// each (all of it for one batch when GOMAXPROCS is 1, which reads
	// nothing ahead); zero means DefaultBatchBytes. A single series larger
	// than that is a batch of its own.
	BatchBytes int64
}

// DefaultBatchBytes is the size of one batch of a SeriesSet unless
// SelectOptions says otherwise: small next to a query's memory limit, and
// large enough that the per-batch costs (a pass over each day file's flush
// metas) stay small.
const DefaultBatchBytes = 8 << 20

// Bookkeeping costs a SeriesSet charges besides chunk bytes: an entry of
// the sorted series list with its labels (estimated at four), a series in
// a batch (its Series, its entry in the batch's list by ID, its ID and its
// slice of sources), one chunk source, and a series' labels read in
// unsorted mode.
const (
	entrySize  = 48 // a selEntry
	entryCost  = entrySize + 4*labelCost
	seriesCost = 80 + entrySize + 4 + 24
	sourceCost = 64
	labelCost  = 32
)

// SelectWith returns the series matching every matcher of at least one of
// sets that have samples in [o.Mint, o.Maxt], each once, sorted by labels
// unless o.Unsorted. Only their IDs are found before it returns, so Len is
// known before anything else is read; the first Next or NextBatch of a
// sorted set reads and sorts their labels (charged to o.Budget), and
// chunks are read as the set is iterated, in batches of about
// o.BatchBytes (half of it when read ahead) whose sizes are taken from
// o.Budget before a byte is copied.
func (db *DB) SelectWith(ctx context.Context, o SelectOptions, sets ...[]*Matcher) (*SeriesSet, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	db.ctr.selects.Add(1)
	ids, err := db.postingsUnion(sets)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Keep only the series with data in the range, so that Len tells a
	// caller that charges for every series what the range holds, unless
	// they are few: then the first batch finds out, at no extra pass.
	present := ids
	if ids.GetCardinality() > firstBatchSeries {
		if present, err = db.seriesIn(ids, o.Mint, o.Maxt); err != nil {
			return nil, fmt.Errorf("select %v: %w", sets, err)
		}
	}
	s := &SeriesSet{db: db, ctx: ctx, mint: o.Mint, maxt: o.Maxt, budget: o.Budget,
		batchBytes: o.BatchBytes, want: firstBatchSeries, n: int(present.GetCardinality())}
	if s.batchBytes <= 0 {
		s.batchBytes = DefaultBatchBytes
	}
	s.unsorted = o.Unsorted
	s.readAhead = runtime.GOMAXPROCS(0) > 1
	s.ids = present
	s.idIt = present.Iterator()
	return s, nil
}

// sortEntries reads the labels of every selected series and sorts them,
// the list charged to the budget (an estimate first, then what it holds).
// It sizes every series' chunks on the way, in one pass in ID order, which
// walks each day file's keys in order: sizing a batch of series in label
// order instead would seek all over the files for every batch.
func (s *SeriesSet) sortEntries() error {
	if err := s.reserve(&s.base, int64(s.n)*entryCost); err != nil {
		return err
	}
	s.entries = make([]selEntry, 0, s.n)
	var cost int64
	for it := s.ids.Iterator(); it.HasNext(); {
		id := it.Next()
		if ls, ok := s.db.ix.labels(id); ok {
			s.entries = append(s.entries, selEntry{id: id, labels: ls})
			cost += entrySize + int64(cap(ls))*labelCost
		}
	}
	if err := s.settle(&s.base, cost); err != nil {
		return err
	}
	err := s.db.chunkSizes(s.ids, s.mint, s.maxt, func(id uint32, n int) {
		if i, ok := slices.BinarySearchFunc(s.entries, id, func(e selEntry, id uint32) int { return cmp.Compare(e.id, id) }); ok {
			s.entries[i].bytes += int64(n)
			s.entries[i].chunks++
		}
	})
	if err != nil {
		return err
	}
	slices.SortFunc(s.entries, func(a, b selEntry) int { return Compare(a.labels, b.labels) })
	s.sorted = true
	return nil
}

// postingsUnion returns the series matching any of sets, in a bitmap of
// the caller's.
func (db *DB) postingsUnion(sets [][]*Matcher) (*roaring.Bitmap, error) {
	all := make([]*roaring.Bitmap, 0, len(sets))
	for _, ms := range sets {
		ids, err := db.ix.postings(ms)
		if err != nil {
			return nil, fmt.Errorf("select %v: %w", ms, err)
		}
		all = append(all, ids)
	}
	switch len(all) {
	case 0:
		return roaring.New(), nil
	case 1:
		return all[0], nil
	}
	return roaring.FastOr(all...), nil
}

// chunkSizes calls add with the size of every chunk of ids overlapping
// [mint, maxt] in the head, the flush jobs and the day files, in the order
// a batch reads them, copying nothing.
func (db *DB) chunkSizes(ids *roaring.Bitmap, mint, maxt int64, add func(id uint32, n int)) error {
	for it := ids.Iterator(); it.HasNext(); {
		id := it.Next()
		s := db.head.lookup(id)
		if s == nil {
			continue
		}
		s.mu.Lock()
		for _, c := range s.chunks {
			if c.start > maxt || c.start+epochMs <= mint || c.xor.Len() == 0 && len(c.ooo) == 0 {
				continue
			}
			add(id, len(c.xor.Bytes())+len(c.ooo)*sampleSize)
		}
		s.mu.Unlock()
	}
	db.head.mu.Lock()
	jobs := slices.Clone(db.head.flushing)
	db.head.mu.Unlock()
	for _, j := range jobs {
		if j.start > maxt || j.start+epochMs <= mint {
			continue
		}
		for it := ids.Iterator(); it.HasNext(); {
			id := it.Next()
			if c := j.chunks[id]; c != nil {
				add(id, len(c.xor.Bytes())+len(c.ooo)*sampleSize)
			}
		}
	}
	for _, p := range db.parts.overlapping(mint, maxt) {
		if err := p.chunkSizes(mint, maxt, ids, db.ix.metricID, add); err != nil {
			return err
		}
	}
	return nil
}
