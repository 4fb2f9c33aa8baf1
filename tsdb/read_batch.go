package tsdb

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
)

// batchRead is one batch of a SeriesSet: planned (its series and their
// sizes, from the sizing pass) and charged on the set's goroutine, then
// read, there or on a goroutine of its own while the set's previous batch
// is in use (read ahead).
type batchRead struct {
	series []selEntry // in the order the set yields them
	byID   []selEntry // the same series by ID, the order they are read in
	ids    []uint32   // the IDs of byID
	bytes  int64      // chunk bytes found by the sizing pass
	cost   int64      // what the plan charged: the arena and bookkeeping
	buf    *chunkBuf  // the arena to reuse, or nil to allocate one of arena bytes
	arena  int64      // the arena's capacity

	// Filled by read; done is closed when it returns (read ahead only).
	srcs  [][]source // the chunks of byID[i], sorted by (start, rank)
	extra int64      // chunk bytes that did not fit buf (they grew after the sizing pass)
	err   error
	done  chan struct{}
}

// chunkBuf is the arena holding the chunk bytes of one batch, copied out of
// the head and the day files: one allocation for a batch instead of one a
// chunk, and none for the batches after it, which reuse it. gen counts the
// batches it has held, so that an Iterator of a Series whose batch was
// given back finds out (ErrBatchReleased) instead of reading the chunks of
// a later batch.
type chunkBuf struct {
	b   []byte
	gen atomic.Uint32
}

// ErrBatchReleased is the error of an Iterator that read a Series after
// its SeriesSet had moved past the Series' batch, whose memory holds
// another batch's chunks by then.
var ErrBatchReleased = errors.New("tsdb: series read after its SeriesSet moved past its batch")

// released reports whether the chunks d reads were given back.
func (d *seriesData) released() bool { return d.buf != nil && d.buf.gen.Load() != d.gen }

// chunkArena is one reader's share of a chunkBuf. A chunk that no longer
// fits (it grew after the sizing pass) is copied on its own and counted in
// over.
type chunkArena struct {
	buf  []byte
	over int64
}

func (a *chunkArena) copy(b []byte) []byte {
	if len(b) > cap(a.buf)-len(a.buf) {
		a.over += int64(len(b))
		return slices.Clone(b)
	}
	n := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[n:len(a.buf):len(a.buf)]
}

// readSlots is how many goroutines read a batch's day files: several for a
// large batch (copying chunks out of bbolt is most of its time), one less
// than the processors when the set's reader works meanwhile (ahead).
func readSlots(b *batchRead, ahead bool) int {
	procs := runtime.GOMAXPROCS(0)
	if ahead {
		procs--
	}
	return max(1, min(procs, 4, max(int(b.bytes/parallelReadBytes), len(b.ids)/parallelReadMin)))
}

// read reads the chunks of b's series overlapping [mint, maxt] into b.srcs
// and b.buf (allocated if nil): the head first, then flush jobs, then day
// files, so a chunk moving from one to the next meanwhile is seen at least
// once (duplicates merge). The day files are read by slots goroutines,
// each over its own range of IDs and its own part of the arena; they end
// before read returns.
func (db *DB) read(ctx context.Context, mint, maxt int64, b *batchRead, slots int) {
	n := len(b.byID)
	chunks := 0
	for _, e := range b.byID {
		chunks += int(e.chunks)
	}
	backing := make([]source, chunks)
	b.srcs = make([][]source, n)
	off := 0
	for i, e := range b.byID {
		b.srcs[i] = backing[off:off:min(off+int(e.chunks), chunks)]
		off += int(e.chunks)
	}
	if b.buf == nil {
		b.buf = &chunkBuf{b: make([]byte, b.arena)}
	}
	b.buf.gen.Add(1) // what it held before is given back
	arena := b.buf.b[:cap(b.buf.b)]

	// Each slot a range of IDs and of the arena, sized from the plan; the
	// last one has what is left.
	slots = max(1, min(slots, n))
	bounds := make([]int, slots+1)
	regions := make([]chunkArena, slots)
	var pos int64
	for j := range slots {
		lo, hi := n*j/slots, n*(j+1)/slots
		bounds[j+1] = hi
		end := int64(len(arena))
		if j+1 < slots {
			size := int64(0)
			for _, e := range b.byID[lo:hi] {
				size += e.bytes
			}
			end = min(pos+size, end)
		}
		regions[j] = chunkArena{buf: arena[pos:pos:end]}
		pos = end
	}

	for j := range slots {
		db.head.readChunks(b.ids[bounds[j]:bounds[j+1]], mint, maxt, b.srcs[bounds[j]:bounds[j+1]], &regions[j])
	}
	db.head.readFlushing(b.ids, mint, maxt, b.srcs)
	if b.err = ctx.Err(); b.err != nil {
		return
	}

	parts := db.parts.overlapping(mint, maxt)
	errs := make([]error, slots)
	var wg sync.WaitGroup
	for j := range slots {
		lo, hi := bounds[j], bounds[j+1]
		read := func() {
			ids, srcs, r := b.ids[lo:hi], b.srcs[lo:hi], &regions[j]
			if len(parts) > 0 {
				want := roaring.BitmapOf(ids...)
				add := func(i int, start int64, seq uint16, chunk []byte) {
					srcs[i] = append(srcs[i], source{start: start, rank: int(seq), chunk: r.copy(chunk)})
				}
				for _, p := range parts {
					if errs[j] = p.readChunks(mint, maxt, ids, want, db.ix.metricID, add); errs[j] != nil {
						return
					}
					if errs[j] = ctx.Err(); errs[j] != nil {
						return
					}
				}
			}
			for _, ss := range srcs {
				slices.SortStableFunc(ss, func(a, b source) int {
					if c := cmp.Compare(a.start, b.start); c != 0 {
						return c
					}
					return cmp.Compare(a.rank, b.rank)
				})
			}
		}
		if j+1 == slots {
			read() // the last range on this goroutine
			continue
		}
		wg.Go(read)
	}
	wg.Wait()
	for _, r := range regions {
		b.extra += r.over
	}
	b.err = errors.Join(errs...)
}

// readChunks appends the head chunks of ids overlapping [mint, maxt] to
// srcs (srcs[i] for ids[i]), their bytes copied into a.
func (h *head) readChunks(ids []uint32, mint, maxt int64, srcs [][]source, a *chunkArena) {
	for i, id := range ids {
		s := h.lookup(id)
		if s == nil {
			continue
		}
		s.mu.Lock()
		for _, c := range s.chunks {
			if c.start > maxt || c.start+epochMs <= mint || c.xor.Len() == 0 && len(c.ooo) == 0 {
				continue
			}
			srcs[i] = append(srcs[i], source{start: c.start, rank: rankHead, chunk: a.copy(c.xor.Bytes()), ooo: slices.Clone(c.ooo)})
		}
		s.mu.Unlock()
	}
}

// readFlushing appends the chunks of flush jobs still in progress to srcs
// (srcs[i] for ids[i], ascending). They are shared with the job, never
// written again, and not copied.
func (h *head) readFlushing(ids []uint32, mint, maxt int64, srcs [][]source) {
	h.mu.Lock()
	jobs := slices.Clone(h.flushing)
	h.mu.Unlock()
	add := func(i int, start int64, c *memChunk) {
		srcs[i] = append(srcs[i], source{start: start, rank: rankFlushing, chunk: c.xor.Bytes(), ooo: c.ooo})
	}
	for _, j := range jobs {
		if j.start > maxt || j.start+epochMs <= mint {
			continue
		}
		// Detached chunks never change again: no lock needed to read them.
		if len(j.chunks) < len(ids) {
			for id, c := range j.chunks {
				if i, ok := slices.BinarySearch(ids, id); ok {
					add(i, j.start, c)
				}
			}
			continue
		}
		for i, id := range ids {
			if c := j.chunks[id]; c != nil {
				add(i, j.start, c)
			}
		}
	}
}
