package tsdb

import (
	"cmp"
	"context"
	"runtime"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Batch sizing: the first batch sizes firstBatchSeries candidates; later
// ones adapt to what fitted, between minBatchSeries and maxBatchSeries.
const (
	firstBatchSeries = 512
	minBatchSeries   = 16
	maxBatchSeries   = 8192
)

// parallelReadBytes is the batch size from which a batch is read from the
// day files by several goroutines (see readParts).
const parallelReadBytes = 1 << 20

// SeriesSet iterates the series a Select found, in label order (or ID
// order, SelectOptions.Unsorted). It reads their chunks a batch at a time
// as it is iterated: each batch is sized first, its bytes taken from the
// budget, then copied; moving past a batch gives its bytes back. A
// SeriesSet is used by one goroutine; the Series it yields may be read
// from others.
//
// Each batch is a consistent view of its series (the head, then flush
// jobs, then day files, so a chunk being flushed meanwhile is seen at
// least once), read when the iteration reaches it.
type SeriesSet struct {
	db         *DB
	ctx        context.Context // the Select's: ends the iteration when done
	mint, maxt int64
	budget     ReadBudget
	batchBytes int64
	n          int // series selected

	// ids are the series selected. Sorted: entries holds them with their
	// labels once sorted (at the first batch), pos the next one to read.
	// Unsorted: the IDs left in idIt, pending those peeked at.
	ids      *roaring.Bitmap
	entries  []selEntry
	sorted   bool
	pos      int
	unsorted bool
	idIt     roaring.IntPeekable
	pending  []selEntry
	want     int // candidates to size for the next batch

	batch []Series // the current batch
	bi    int      // index of the current series in batch
	base  int64    // bytes reserved for entries
	held  int64    // bytes reserved for batch
	err   error
	done  bool
}

// selEntry is one selected series; labels is nil until read in unsorted
// mode. size is the bytes of its chunks plus sourceCost each, found when a
// sorted set sorts its entries (an unsorted set sizes each batch).
type selEntry struct {
	id     uint32
	labels Labels
	size   int64
}

// Next advances to the next series, reading the next batch when the
// current one is used up.
func (s *SeriesSet) Next() bool {
	if s.bi+1 < len(s.batch) {
		s.bi++
		return true
	}
	if !s.load() {
		return false
	}
	s.bi = 0
	return true
}

// At returns the current series. The Series stays valid after Next and may
// be read from another goroutine; its chunks stay in memory as long as it
// is held, though the budget has them back once the set moves past their
// batch.
func (s *SeriesSet) At() Series { return s.batch[s.bi] }

// NextBatch reads the next batch and returns its series, nil at the end or
// on error (see Err). The slice belongs to the set and is valid until the
// next call of NextBatch or Next; a set is read either with Next and At or
// with NextBatch.
func (s *SeriesSet) NextBatch() []Series {
	if !s.load() {
		return nil
	}
	s.bi = len(s.batch) - 1
	return s.batch
}

// Err returns the error that stopped the iteration, if any: the budget's
// refusal, the context's error, ErrClosed, or a read error.
func (s *SeriesSet) Err() error { return s.err }

// Len returns the number of series selected, known when Select returns.
// Batches skip series found to have no samples (or gone from the index)
// when they are read, so iterating may yield fewer.
func (s *SeriesSet) Len() int { return s.n }

// load replaces the current batch with the next non-empty one.
func (s *SeriesSet) load() bool {
	clear(s.batch)
	s.batch = s.batch[:0]
	s.release(&s.held)
	if !s.unsorted && !s.sorted && !s.done {
		if err := s.sortEntries(); err != nil {
			s.fail(err)
			return false
		}
	}
	for !s.done {
		cand := s.candidates()
		if len(cand) == 0 {
			s.finish()
			return false
		}
		if err := s.ctx.Err(); err != nil {
			s.fail(err)
			return false
		}
		if s.db.closed.Load() {
			s.fail(ErrClosed)
			return false
		}
		k, err := s.fill(cand)
		if err != nil {
			s.fail(err)
			return false
		}
		s.consume(k)
		if len(s.batch) > 0 {
			return true
		}
	}
	return false
}

// candidates returns up to s.want series to size for the next batch.
func (s *SeriesSet) candidates() []selEntry {
	if !s.unsorted {
		return s.entries[s.pos:min(len(s.entries), s.pos+s.want)]
	}
	for len(s.pending) < s.want && s.idIt.HasNext() {
		s.pending = append(s.pending, selEntry{id: s.idIt.Next()})
	}
	return s.pending
}

// consume drops the first k candidates, read into the batch, and adapts
// the number of candidates sized next to what fitted.
func (s *SeriesSet) consume(k int) {
	if k == s.want {
		s.want = min(2*s.want, maxBatchSeries)
	} else {
		s.want = max(k+k/4+1, minBatchSeries)
	}
	if !s.unsorted {
		s.pos += k
		return
	}
	n := copy(s.pending, s.pending[k:])
	clear(s.pending[n:])
	s.pending = s.pending[:n]
}

// fill sizes cand, takes the longest prefix that fits the batch size (at
// least one series) from the budget, reads it into s.batch and returns its
// length.
func (s *SeriesSet) fill(cand []selEntry) (int, error) {
	k, ids, total, err := s.plan(cand)
	if err != nil {
		return 0, err
	}
	if err := s.reserve(&s.held, total); err != nil {
		return 0, err
	}
	srcs, err := s.db.readSources(s.ctx, s.mint, s.maxt, ids, total)
	if err != nil {
		return 0, err
	}
	var actual int64
	for _, e := range cand[:k] {
		ss := srcs[e.id]
		if len(ss) == 0 {
			continue
		}
		ls := e.labels
		if s.unsorted {
			var ok bool
			if ls, ok = s.db.ix.labels(e.id); !ok {
				continue
			}
			actual += int64(cap(ls)) * labelCost
		}
		slices.SortStableFunc(ss, func(a, b source) int {
			if c := cmp.Compare(a.start, b.start); c != 0 {
				return c
			}
			return cmp.Compare(a.rank, b.rank)
		})
		actual += seriesCost
		for _, src := range ss {
			actual += sourceCost + int64(len(src.chunk)) + int64(len(src.ooo))*sampleSize
		}
		s.batch = append(s.batch, Series{Labels: ls, src: seriesData{mint: s.mint, maxt: s.maxt, srcs: ss}})
	}
	// Chunks may have moved between the sizing and the read (a flush):
	// charge what was read.
	return k, s.settle(&s.held, actual)
}

// plan sizes the chunks of cand, copying nothing, and returns how many of
// them make the next batch, their IDs and their size.
func (s *SeriesSet) plan(cand []selEntry) (int, *roaring.Bitmap, int64, error) {
	ids := roaring.New()
	for _, e := range cand {
		ids.Add(e.id)
	}
	var sizes map[uint32]int64
	if !s.sorted { // sorted entries were sized with the list
		sizes = make(map[uint32]int64, len(cand))
		err := s.db.chunkSizes(ids, s.mint, s.maxt, func(id uint32, n int) { sizes[id] += int64(n) + sourceCost })
		if err != nil {
			return 0, nil, 0, err
		}
	}
	var total int64
	k := 0
	for ; k < len(cand); k++ {
		c := seriesCost + cand[k].size
		if sizes != nil {
			c = seriesCost + sizes[cand[k].id]
		}
		if s.unsorted {
			c += 4 * labelCost
		}
		if k > 0 && total+c > s.batchBytes {
			break
		}
		total += c
	}
	if k < len(cand) {
		ids = roaring.New()
		for _, e := range cand[:k] {
			ids.Add(e.id)
		}
	}
	return k, ids, total, nil
}

// readSources reads the chunks of ids overlapping [mint, maxt]: the head
// first, then flush jobs, then day files, so a chunk moving from one to
// the next meanwhile is seen at least once (duplicates merge). size is
// what the sizing pass found; a large batch is read from the day files by
// several goroutines.
func (db *DB) readSources(ctx context.Context, mint, maxt int64, ids *roaring.Bitmap, size int64) (map[uint32][]source, error) {
	srcs := make(map[uint32][]source, ids.GetCardinality())
	db.head.read(ids, mint, maxt, srcs)
	db.head.readFlushing(ids, mint, maxt, srcs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := min(runtime.GOMAXPROCS(0), 4, max(int(size/parallelReadBytes), int(ids.GetCardinality()/parallelReadMin), 1))
	partss, err := db.readParts(ctx, mint, maxt, ids, k)
	if err != nil {
		return nil, err
	}
	for _, parts := range partss {
		for id, pcs := range parts {
			for _, pc := range pcs {
				srcs[id] = append(srcs[id], source{start: pc.start, rank: int(pc.seq), chunk: pc.data})
			}
		}
	}
	return srcs, nil
}

// reserve takes n bytes from the budget and adds them to *held.
func (s *SeriesSet) reserve(held *int64, n int64) error {
	if s.budget != nil && n > 0 {
		if err := s.budget.Reserve(n); err != nil {
			return err
		}
	}
	*held += n
	return nil
}

// settle makes *held, an estimate reserved, the actual amount: it takes
// more from the budget or gives the surplus back.
func (s *SeriesSet) settle(held *int64, actual int64) error {
	if actual > *held {
		return s.reserve(held, actual-*held)
	}
	s.budgetRelease(*held - actual)
	*held = actual
	return nil
}

// release gives *held back to the budget.
func (s *SeriesSet) release(held *int64) {
	s.budgetRelease(*held)
	*held = 0
}

func (s *SeriesSet) budgetRelease(n int64) {
	if s.budget != nil && n > 0 {
		s.budget.Release(n)
	}
}

// fail ends the iteration with err.
func (s *SeriesSet) fail(err error) {
	s.err = err
	s.finish()
}

// finish ends the iteration and gives everything back to the budget.
func (s *SeriesSet) finish() {
	s.done = true
	clear(s.batch)
	s.batch = s.batch[:0]
	s.ids, s.idIt, s.entries, s.pending = nil, nil, nil, nil
	s.release(&s.held)
	s.release(&s.base)
}
