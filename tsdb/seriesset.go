package tsdb

import (
	"cmp"
	"context"
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
// day files by several goroutines (see readSlots).
const parallelReadBytes = 1 << 20

// SeriesSet iterates the series a Select found, in label order (or ID
// order, SelectOptions.Unsorted). It reads their chunks a batch at a time
// as it is iterated: each batch is sized first, its bytes taken from the
// budget, then copied into an arena; moving past a batch gives its bytes
// back, and its arena holds a later batch. While one batch is in use, the
// next is read on a goroutine of its own (read ahead), each then at most
// half the batch size, so that the two together hold no more than one
// batch would. A SeriesSet is used by one goroutine; the Series of the
// current batch may be read from others.
//
// Each batch is a consistent view of its series (the head, then flush
// jobs, then day files, so a chunk being flushed meanwhile is seen at
// least once), read when the iteration reaches it or, ahead, when the
// iteration reaches the batch before it.
type SeriesSet struct {
	db         *DB
	ctx        context.Context // the Select's: ends the iteration when done
	mint, maxt int64
	budget     ReadBudget
	batchBytes int64
	n          int  // series selected
	readAhead  bool // read the next batch while one is in use

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

	batch     []Series   // the current batch
	bi        int        // index of the current series in batch
	cur       *batchRead // what batch was read from
	ahead     *batchRead // the next batch, being read; nil when none is
	spare     *chunkBuf  // the arena of the batch given back last, for the next
	base      int64      // bytes reserved for entries
	held      int64      // bytes reserved for batch
	aheadHeld int64      // bytes reserved for ahead
	err       error
	done      bool
}

// selEntry is one selected series; labels is nil until read in unsorted
// mode. bytes and chunks are the size of its chunks in [mint, maxt], found
// for every series when a sorted set sorts its entries and for the
// candidates of each batch of an unsorted set (sized then says so).
type selEntry struct {
	id     uint32
	chunks int32
	sized  bool
	labels Labels
	bytes  int64
}

// cost is what reading e charges: its chunks and their bookkeeping.
func (e *selEntry) cost() int64 { return seriesCost + e.bytes + int64(e.chunks)*sourceCost }

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

// At returns the current series. It may be read from another goroutine
// until the set moves past its batch (a Next that reads the next batch,
// or NextBatch): its chunks' memory then holds a later batch, and an
// Iterator of it fails with ErrBatchReleased at its next chunk. Its labels
// stay valid.
func (s *SeriesSet) At() Series { return s.batch[s.bi] }

// NextBatch reads the next batch and returns its series, nil at the end or
// on error (see Err). The slice and the series' chunks belong to the set
// and are valid until the next call of NextBatch or Next (see At); a set is
// read either with Next and At or with NextBatch.
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

// load replaces the current batch with the next non-empty one: the one
// read ahead, or else one planned, charged and read now.
func (s *SeriesSet) load() bool {
	s.drop()
	if !s.unsorted && !s.sorted && !s.done {
		if err := s.sortEntries(); err != nil {
			s.fail(err)
			return false
		}
	}
	for !s.done {
		if err := s.ctx.Err(); err != nil {
			s.fail(err)
			return false
		}
		if s.db.closed.Load() {
			s.fail(ErrClosed)
			return false
		}
		b := s.ahead
		if b != nil {
			s.ahead = nil
			<-b.done
			s.held, s.aheadHeld = s.aheadHeld, 0
		} else {
			var err error
			if b, err = s.plan(); err != nil {
				s.fail(err)
				return false
			}
			if b == nil {
				s.finish()
				return false
			}
			if err := s.reserve(&s.held, b.cost); err != nil {
				s.fail(err)
				return false
			}
			s.consume(len(b.series))
			s.db.read(s.ctx, s.mint, s.maxt, b, readSlots(b, false))
		}
		s.cur = b
		if b.err != nil {
			s.fail(b.err)
			return false
		}
		if err := s.assemble(b); err != nil {
			s.fail(err)
			return false
		}
		if len(s.batch) > 0 {
			s.startAhead()
			return true
		}
		s.drop()
	}
	return false
}

// startAhead plans and charges the batch after the current one and reads
// it on a goroutine of its own. It does nothing when there is none, or
// when the budget refuses it while the current batch is held: the next
// load then asks again, with the current batch given back.
func (s *SeriesSet) startAhead() {
	if !s.readAhead {
		return
	}
	b, err := s.plan()
	if err != nil || b == nil {
		return // the next load plans again and reports the error
	}
	if err := s.reserve(&s.aheadHeld, b.cost); err != nil {
		if b.buf != nil {
			s.spare = b.buf
		}
		return
	}
	s.consume(len(b.series))
	b.done = make(chan struct{})
	db, ctx, mint, maxt, slots := s.db, s.ctx, s.mint, s.maxt, readSlots(b, true)
	go func() {
		defer close(b.done)
		db.read(ctx, mint, maxt, b, slots)
	}()
	s.ahead = b
}

// drop gives the current batch back, keeping its arena for the next.
func (s *SeriesSet) drop() {
	clear(s.batch)
	s.batch = s.batch[:0]
	if s.cur != nil && s.cur.buf != nil {
		s.spare = s.cur.buf
	}
	s.cur = nil
	s.release(&s.held)
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

// consume drops the first k candidates, planned into a batch, and adapts
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

// plan sizes the next candidates (an unsorted set's; a sorted set's were
// sized with the list), copying nothing, and returns the longest prefix
// that fits a batch (at least one series), nil when none is left. The
// candidates are consumed only once the plan is charged.
//
// A batch is charged for its bookkeeping and its arena: the set's spare
// one when its chunks fit there (its whole capacity, which the batch
// holds), else a new one of their size, or of all the batch size leaves
// when the batch is cut short by it, so that the batches after it, about
// as large, fit in it too.
func (s *SeriesSet) plan() (*batchRead, error) {
	cand := s.candidates()
	if len(cand) == 0 {
		return nil, nil
	}
	if s.unsorted {
		if err := s.size(cand); err != nil {
			return nil, err
		}
	}
	limit := s.batchBytes
	if s.readAhead {
		limit = max(limit/2, 1)
	}
	var spare int64
	if s.spare != nil {
		spare = int64(cap(s.spare.b))
	}
	var books, bytes int64
	k := 0
	for ; k < len(cand); k++ {
		c := cand[k].cost() - cand[k].bytes
		if s.unsorted {
			c += 4 * labelCost
		}
		if k > 0 && books+c+max(bytes+cand[k].bytes, spare) > limit {
			break
		}
		books += c
		bytes += cand[k].bytes
	}
	b := &batchRead{byID: slices.Clone(cand[:k]), bytes: bytes}
	switch {
	case bytes <= spare:
		b.buf, b.arena = s.spare, spare
		s.spare = nil
	case k < len(cand):
		b.arena = max(bytes, limit-books)
	default:
		b.arena = bytes
	}
	b.cost = books + b.arena
	if s.unsorted { // candidates come in ID order
		b.series = b.byID
	} else {
		b.series = cand[:k]
		slices.SortFunc(b.byID, func(a, b selEntry) int { return cmp.Compare(a.id, b.id) })
	}
	b.ids = make([]uint32, k)
	for i, e := range b.byID {
		b.ids[i] = e.id
	}
	return b, nil
}

// size sizes the candidates of an unsorted set not sized yet (in ID
// order).
func (s *SeriesSet) size(cand []selEntry) error {
	ids := roaring.New()
	for _, e := range cand {
		if !e.sized {
			ids.Add(e.id)
		}
	}
	if ids.IsEmpty() {
		return nil
	}
	err := s.db.chunkSizes(ids, s.mint, s.maxt, func(id uint32, n int) {
		if i, ok := slices.BinarySearchFunc(cand, id, func(e selEntry, id uint32) int { return cmp.Compare(e.id, id) }); ok {
			cand[i].bytes += int64(n)
			cand[i].chunks++
		}
	})
	if err != nil {
		return err
	}
	for i := range cand {
		cand[i].sized = true
	}
	return nil
}

// assemble makes s.batch of the series of b that have chunks and settles
// the batch's charge on what it holds: its arena (which the sizing pass
// made room in for flush jobs' chunks and late samples too, though they
// are not copied there), the chunks that no longer fitted it and the
// bookkeeping.
func (s *SeriesSet) assemble(b *batchRead) error {
	actual := int64(cap(b.buf.b)) + b.extra
	gen := b.buf.gen.Load()
	for k, e := range b.series {
		i := k
		if !s.unsorted {
			i, _ = slices.BinarySearch(b.ids, e.id)
		}
		ss := b.srcs[i]
		if len(ss) == 0 {
			continue
		}
		dels := s.db.tombs.intervals(nil, e.id, s.mint, s.maxt)
		if covers(dels, s.mint, s.maxt) {
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
		actual += seriesCost + int64(len(ss))*sourceCost
		sr := Series{Labels: ls, id: e.id, src: seriesData{mint: s.mint, maxt: s.maxt, srcs: ss, buf: b.buf, gen: gen, dels: dels}}
		if dels != nil && !sr.Iterator().Next() {
			continue // every sample in range deleted
		}
		s.batch = append(s.batch, sr)
	}
	return s.settle(&s.held, actual)
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

// finish ends the iteration and gives everything back to the budget, once
// a batch being read ahead is done.
func (s *SeriesSet) finish() {
	s.done = true
	if s.ahead != nil {
		<-s.ahead.done
		s.ahead = nil
	}
	s.drop()
	s.spare = nil
	s.ids, s.idIt, s.entries, s.pending = nil, nil, nil, nil
	s.release(&s.aheadHeld)
	s.release(&s.base)
}
