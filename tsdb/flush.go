package tsdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"outpost/tsdb/chunkenc"
)

// sealable returns the epochs to flush now: those past their grace period
// that have been idle for idle, and, while the head is over its memory
// budget, the oldest others.
func (h *head) sealable(now time.Time, grace, idle time.Duration, maxBytes int64) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	nowMs := now.UnixMilli()
	var out []int64
	var all []*headEpoch
	for _, e := range h.epochs {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *headEpoch) int { return cmp.Compare(a.start, b.start) })
	over := h.bytes.Load() - maxBytes
	for _, e := range all {
		past := e.start+epochMs+grace.Milliseconds() <= nowMs
		switch {
		case past && now.Sub(e.lastWrite) >= idle:
			out = append(out, e.start)
			over -= e.bytes
		case over > 0 && e.start+epochMs <= nowMs:
			out = append(out, e.start)
			over -= e.bytes
		}
	}
	return out
}

// allEpochs returns every epoch in memory.
func (h *head) allEpochs() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int64, 0, len(h.epochs))
	for s := range h.epochs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// dropBefore forgets in-memory epochs that ended before cutoff.
func (h *head) dropBefore(cutoff int64) {
	h.mu.Lock()
	var drop []*headEpoch
	for s, e := range h.epochs {
		if s+epochMs <= cutoff {
			drop = append(drop, e)
			delete(h.epochs, s)
		}
	}
	h.mu.Unlock()
	for _, e := range drop {
		for it := e.ids.Iterator(); it.HasNext(); {
			if s := h.lookup(it.Next()); s != nil {
				s.detach(e.start)
			}
		}
		h.bytes.Add(-e.bytes)
	}
}

// detach takes the epochs out of the series under the caller's exclusive
// appendMu, as flush jobs that queries still see.
func (h *head) detach(starts []int64, seg int) []*flushJob {
	var jobs []*flushJob
	for _, start := range starts {
		h.mu.Lock()
		e := h.epochs[start]
		delete(h.epochs, start)
		h.mu.Unlock()
		if e == nil {
			continue
		}
		job := &flushJob{start: start, firstSeg: e.firstSeg, coversSeg: seg - 1, bytes: e.bytes,
			chunks: make(map[uint32]*memChunk, e.ids.GetCardinality())}
		for it := e.ids.Iterator(); it.HasNext(); {
			id := it.Next()
			if s := h.lookup(id); s != nil {
				if c := s.detach(start); c != nil {
					job.chunks[id] = c
				}
			}
		}
		jobs = append(jobs, job)
	}
	h.mu.Lock()
	h.flushing = append(h.flushing, jobs...)
	h.mu.Unlock()
	return jobs
}

// flush seals the given epochs and writes them to their partitions, then
// lets the WAL drop what no longer needs replaying. Failed jobs stay
// visible and are retried by the next flush.
//
// While the WAL cannot append (a full disk) nothing new is sealed, since
// sealing needs a WAL cut, but the jobs already detached are still retried.
func (db *DB) flush(ctx context.Context, starts []int64) error {
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	var errs []error
	if len(starts) > 0 && db.wal.Err() == nil {
		db.appendMu.Lock()
		seg, err := db.wal.Cut()
		if err == nil {
			db.head.detach(starts, seg)
		}
		db.appendMu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("cut WAL before flush: %w", err))
		}
	}
	db.head.mu.Lock()
	jobs := slices.Clone(db.head.flushing)
	db.head.mu.Unlock()
	for _, job := range jobs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := db.writeJob(job); err != nil {
			errs = append(errs, err)
			continue
		}
		db.head.finish(job)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(jobs) == 0 {
		return nil
	}
	return db.truncateWAL()
}

// finish removes a written job: its data is in a partition now.
func (h *head) finish(job *flushJob) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.flushing = slices.DeleteFunc(h.flushing, func(j *flushJob) bool { return j == job })
	h.bytes.Add(-job.bytes)
}

// writeJob writes a job's chunks as one flush bucket. The index is
// persisted first: partition keys carry metric IDs, which are symbol IDs,
// fixed only once index.db holds them.
func (db *DB) writeJob(job *flushJob) error {
	if err := db.ix.persist(); err != nil {
		return fmt.Errorf("persist series index: %w", err)
	}
	src := &jobSource{ix: db.ix, tombs: db.tombs, chunks: make([]jobChunk, 0, len(job.chunks)),
		m: flushMeta{walSeg: job.coversSeg, mint: maxTime, maxt: minTime, ids: roaring.New()}}
	for id, c := range job.chunks {
		if src.allDeleted(id, c) {
			continue // no chunk, and no labels for the day file
		}
		src.chunks = append(src.chunks, jobChunk{db.ix.metricID(id), id, c})
	}
	slices.SortFunc(src.chunks, func(a, b jobChunk) int {
		if c := cmp.Compare(a.metric, b.metric); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	p, err := db.parts.get(floorDiv(job.start, dayMs), true)
	if err != nil {
		return err
	}
	began := time.Now()
	err = p.writeFlush(job.start, src)
	db.ctr.flushNanos.Add(int64(time.Since(began)))
	if err != nil {
		db.ctr.flushFailures.Add(1)
		return err
	}
	db.ctr.flushes.Add(1)
	db.ctr.flushBytes.Add(src.written)
	db.ctr.flushSeries.Add(int64(len(src.chunks)))
	db.parts.cover(job.start, job.coversSeg)
	db.logger.Debug("epoch flushed", "epoch", time.UnixMilli(job.start).UTC().Format(time.RFC3339),
		"series", len(src.chunks), "bytes", job.bytes, "head_bytes", db.head.bytes.Load(), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// jobChunk is one series' chunk of a flush job, with its partition key.
type jobChunk struct {
	metric, id uint32
	c          *memChunk
}

// jobSource is the flushSource of a job: it merges each chunk's late
// samples and encodes it with the smallest encoding as it is written.
type jobSource struct {
	ix     *index      // the labels of new series go into the day file
	tombs  *tombstones // deleted samples are left out
	ivs    []interval
	chunks []jobChunk
	m      flushMeta
	ts     []int64
	vs     []float64
	// written is the encoded chunk bytes encode returned, for the counters.
	written int64
}

// allDeleted reports whether tombstones delete every sample of chunk c of
// series id.
func (s *jobSource) allDeleted(id uint32, c *memChunk) bool {
	if s.ivs = s.tombs.intervals(s.ivs[:0], id, c.start, c.start+epochMs-1); len(s.ivs) == 0 {
		return false
	}
	s.ts, s.vs = c.samples(s.ts[:0], s.vs[:0])
	s.ts, s.vs = dropIntervals(s.ts, s.vs, s.ivs)
	return len(s.ts) == 0
}

func (s *jobSource) count() int { return len(s.chunks) }

func (s *jobSource) series(i int) (uint32, uint32) { return s.chunks[i].metric, s.chunks[i].id }

func (s *jobSource) labels() labelSource { return s.ix }

func (s *jobSource) encode(i int, arena []byte) (uint32, uint32, []byte, []byte, error) {
	jc := s.chunks[i]
	s.ts, s.vs = jc.c.samples(s.ts[:0], s.vs[:0])
	if len(s.ts) > 0 {
		s.ivs = s.tombs.intervals(s.ivs[:0], jc.id, s.ts[0], s.ts[len(s.ts)-1])
		s.ts, s.vs = dropIntervals(s.ts, s.vs, s.ivs)
	}
	if len(s.ts) == 0 {
		return jc.metric, jc.id, nil, arena, nil
	}
	s.m.mint, s.m.maxt = min(s.m.mint, s.ts[0]), max(s.m.maxt, s.ts[len(s.ts)-1])
	s.m.ids.Add(jc.id)
	start := len(arena)
	grown, err := chunkenc.Encode(arena, s.ts, s.vs)
	if err != nil {
		return 0, 0, nil, arena, fmt.Errorf("encode chunk of series %d: %w", jc.id, err)
	}
	s.written += int64(len(grown) - start)
	return jc.metric, jc.id, grown[start:], grown, nil
}

// dropIntervals removes from ts, vs (sorted) the samples inside ivs
// (sorted, merged), in place.
func dropIntervals(ts []int64, vs []float64, ivs []interval) ([]int64, []float64) {
	if len(ivs) == 0 {
		return ts, vs
	}
	k, iv := 0, 0
	for i, t := range ts {
		for iv < len(ivs) && ivs[iv].maxt < t {
			iv++
		}
		if iv < len(ivs) && ivs[iv].mint <= t {
			continue
		}
		ts[k], vs[k] = t, vs[i]
		k++
	}
	return ts[:k], vs[:k]
}

func (s *jobSource) meta() *flushMeta {
	s.m.ids.RunOptimize()
	return &s.m
}

// truncateWAL persists new series to the index, then deletes the WAL
// segments that hold nothing unflushed.
func (db *DB) truncateWAL() error {
	if err := db.ix.persist(); err != nil {
		return fmt.Errorf("persist series index: %w", err)
	}
	_, last, err := db.wal.Segments()
	if err != nil {
		return fmt.Errorf("list WAL segments: %w", err)
	}
	keep := db.head.minSeg()
	if keep < 0 || keep > last {
		keep = last
	}
	if err := db.wal.Truncate(keep); err != nil {
		return fmt.Errorf("truncate WAL: %w", err)
	}
	return nil
}
