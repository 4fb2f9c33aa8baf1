package tsdb

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"outpost/tsdb/chunkenc"
)

// epochMs is the length of an epoch, the unit in which the head seals
// samples and flushes them to a day partition. A day holds 24 epochs.
const epochMs = int64(time.Hour / time.Millisecond)

// dayMs is the span of one partition file.
const dayMs = 24 * epochMs

// floorDiv rounds t down to a multiple of d, also for negative t.
func floorDiv(t, d int64) int64 {
	r := t % d
	if r < 0 {
		r += d
	}
	return t - r
}

func epochOf(t int64) int64 { return floorDiv(t, epochMs) }

// memChunk holds one series' samples of one epoch in memory. In-order
// samples go to the Gorilla chunk; a sample at or before the chunk's last
// timestamp (late, out of order, or a rewrite of a timestamp) goes to ooo,
// and wins over the chunk when they are merged (last write wins).
type memChunk struct {
	start int64 // epoch start, ms
	xor   *chunkenc.XOR
	ooo   []Sample
}

// memSeries is the head's state of one series. mu guards every field but
// logged; a series' chunks are few (the open epochs it has samples in).
type memSeries struct {
	mu     sync.Mutex
	lastT  int64 // the newest sample, for cheap "now" evaluation
	lastV  float64
	chunks []*memChunk // sorted by start

	// logged is set once the series' definition is in a fdatasync'd WAL
	// record. Until then every writer that uses the series logs the
	// definition again (replay is idempotent), so no sample can reach the
	// WAL ahead of its series.
	logged atomic.Bool
}

// append adds a sample and returns the chunk it created, if any, and how
// many bytes the head grew by.
func (s *memSeries) append(t int64, v float64) (created *memChunk, grew int) {
	start := epochOf(t)
	var c *memChunk
	for i := len(s.chunks) - 1; i >= 0; i-- {
		if s.chunks[i].start == start {
			c = s.chunks[i]
			break
		}
	}
	if c == nil {
		c = &memChunk{start: start, xor: chunkenc.NewXOR()}
		i, _ := slices.BinarySearchFunc(s.chunks, start, func(c *memChunk, t int64) int { return cmpInt64(c.start, t) })
		s.chunks = slices.Insert(s.chunks, i, c)
		created = c
	}
	if c.xor.Len() == 0 || t > c.xor.MaxT() {
		before := c.xor.Size()
		_ = c.xor.Append(t, v) // cannot fail: t is past the chunk's last timestamp
		grew = c.xor.Size() - before
	} else {
		c.ooo = append(c.ooo, Sample{t, v})
		grew = sampleSize
		if len(c.ooo) >= max(oooCompactMin, c.xor.Len()/8) {
			grew += c.compact()
		}
	}
	if t >= s.lastT {
		s.lastT, s.lastV = t, v
	}
	return created, grew
}

// sampleSize is the memory of one buffered late sample.
const sampleSize = 16

// oooCompactMin is the least number of late samples a chunk buffers before
// it merges them into its Gorilla chunk. Concurrent writers deliver many
// samples a little out of order; merging once the buffer holds an eighth
// of the chunk keeps them compressed at an amortised O(1) cost per sample.
const oooCompactMin = 32

// compact re-encodes the chunk with its late samples merged in and returns
// the change in bytes held. It streams: the late samples are sorted in
// place and merged with the chunk's into a new chunk sized for both, so it
// allocates nothing else.
func (c *memChunk) compact() int {
	before := c.xor.Size() + len(c.ooo)*sampleSize
	late := c.ooo
	slices.SortStableFunc(late, func(a, b Sample) int { return cmpInt64(a.T, b.T) })
	x := chunkenc.NewXORCap(len(c.xor.Bytes()) + len(late)*9)
	it := c.xor.Iterator(nil)
	ok := it.Next()
	for j := 0; ok || j < len(late); {
		t, v := it.At()
		if j < len(late) && (!ok || late[j].T <= t) {
			lt := late[j].T
			for j+1 < len(late) && late[j+1].T == lt {
				j++ // the last write of a timestamp wins
			}
			if ok && t == lt {
				ok = it.Next()
			}
			t, v = lt, late[j].V
			j++
		} else {
			ok = it.Next()
		}
		_ = x.Append(t, v) // merged in ascending order, unique: cannot fail
	}
	clear(late)
	c.xor, c.ooo = x, late[:0]
	if cap(late) > 2*oooCompactMin {
		c.ooo = nil // do not hold a large buffer for the rest of the hour
	}
	return c.xor.Size() - before
}

// detach removes and returns the chunk of epoch start, or nil.
func (s *memSeries) detach(start int64) *memChunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, c := range s.chunks {
		if c.start == start {
			s.chunks = slices.Delete(s.chunks, i, i+1)
			return c
		}
	}
	return nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// headEpoch tracks one epoch's open chunks across all series.
type headEpoch struct {
	start     int64
	ids       *roaring.Bitmap // series with a chunk of this epoch
	firstSeg  int             // oldest WAL segment with a sample of it
	lastWrite time.Time       // wall clock of the last append
	bytes     int64           // approximate memory held
}

// flushJob is an epoch detached from the series for flushing. Its chunks
// no longer change, and stay visible to queries until the partition holding
// them is committed.
type flushJob struct {
	start     int64
	firstSeg  int   // oldest WAL segment holding its samples
	coversSeg int   // every sample of the epoch logged in segments <= coversSeg is in the job
	bytes     int64 // approximate memory held
	chunks    map[uint32]*memChunk
}

// head is the in-memory part of the store: per-series state and the open
// epochs.
type head struct {
	mu       sync.Mutex // guards epochs and flushing
	epochs   map[int64]*headEpoch
	flushing []*flushJob

	// pages holds the series state by ID in pages of 4096 slots. Readers
	// load it without a lock; growMu serialises growth (copy on write).
	pages  atomic.Pointer[[]*seriesPage]
	growMu sync.Mutex
	bytes  atomic.Int64 // approximate memory of all open chunks
}

const seriesPageBits = 12

type seriesPage [1 << seriesPageBits]atomic.Pointer[memSeries]

func newHead() *head {
	h := &head{epochs: make(map[int64]*headEpoch)}
	h.pages.Store(new([]*seriesPage))
	return h
}

// lookup returns the state of series id, or nil when it has none.
func (h *head) lookup(id uint32) *memSeries {
	pages := *h.pages.Load()
	if page := int(id >> seriesPageBits); page < len(pages) {
		return pages[page][id&(1<<seriesPageBits-1)].Load()
	}
	return nil
}

// series returns the state of series id, creating it when absent.
func (h *head) series(id uint32) *memSeries {
	if s := h.lookup(id); s != nil {
		return s
	}
	h.growMu.Lock()
	defer h.growMu.Unlock()
	pages := *h.pages.Load()
	page := int(id >> seriesPageBits)
	if page >= len(pages) {
		grown := make([]*seriesPage, page+1)
		copy(grown, pages)
		for i := len(pages); i < len(grown); i++ {
			grown[i] = new(seriesPage)
		}
		h.pages.Store(&grown)
		pages = grown
	}
	slot := &pages[page][id&(1<<seriesPageBits-1)]
	if s := slot.Load(); s != nil {
		return s
	}
	s := &memSeries{lastT: minTime}
	slot.Store(s)
	return s
}

// newChunk records that series id got a chunk in epoch start from WAL
// segment seg.
type newChunk struct {
	id    uint32
	start int64
}

// register records new chunks and the bytes and write time of a batch.
func (h *head) register(created []newChunk, touched []epochGrowth, seg int, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, nc := range created {
		e := h.epochLocked(nc.start, seg)
		e.ids.Add(nc.id)
	}
	for _, g := range touched {
		e := h.epochLocked(g.start, seg)
		e.bytes += g.bytes
		e.lastWrite = now
		h.bytes.Add(g.bytes)
	}
}

func (h *head) epochLocked(start int64, seg int) *headEpoch {
	e := h.epochs[start]
	if e == nil {
		e = &headEpoch{start: start, ids: roaring.New(), firstSeg: seg}
		h.epochs[start] = e
	}
	if seg < e.firstSeg {
		e.firstSeg = seg
	}
	return e
}

// minSeg returns the oldest WAL segment still needed by unflushed
// samples, or -1 when nothing is.
func (h *head) minSeg() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := -1
	for _, e := range h.epochs {
		if m < 0 || e.firstSeg < m {
			m = e.firstSeg
		}
	}
	for _, j := range h.flushing {
		if m < 0 || j.firstSeg < m {
			m = j.firstSeg
		}
	}
	return m
}

// mergeSamples returns c's samples in time order, one per timestamp, the
// last written winning.
func (c *memChunk) samples(ts []int64, vs []float64) ([]int64, []float64) {
	it := c.xor.Iterator(nil)
	for it.Next() {
		t, v := it.At()
		ts, vs = append(ts, t), append(vs, v)
	}
	if len(c.ooo) == 0 {
		return ts, vs
	}
	return mergeOOO(ts, vs, c.ooo)
}

// mergeOOO merges late samples into the sorted ts/vs, the late ones
// winning on equal timestamps and the later of two late ones winning.
func mergeOOO(ts []int64, vs []float64, ooo []Sample) ([]int64, []float64) {
	late := slices.Clone(ooo)
	slices.SortStableFunc(late, func(a, b Sample) int { return cmpInt64(a.T, b.T) })
	outT := make([]int64, 0, len(ts)+len(late))
	outV := make([]float64, 0, len(ts)+len(late))
	i, j := 0, 0
	for i < len(ts) || j < len(late) {
		switch {
		case j == len(late) || (i < len(ts) && ts[i] < late[j].T):
			outT, outV = append(outT, ts[i]), append(outV, vs[i])
			i++
		default:
			t := late[j].T
			for j+1 < len(late) && late[j+1].T == t {
				j++
			}
			if i < len(ts) && ts[i] == t {
				i++
			}
			outT, outV = append(outT, t), append(outV, late[j].V)
			j++
		}
	}
	return outT, outV
}
