package tsdb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"outpost/tsdb/wal"
)

// writeBatch is the scratch space of one Write call, pooled.
type writeBatch struct {
	ids     []uint32 // series IDs found by Point.Key, 0 when not
	newKeys []int    // points whose Key was not cached but whose series was found
	samples []walSample
	defs    []seriesDef
	defSeen map[uint32]struct{}
	series  []byte
	rec     []byte
	created []newChunk
	touched []epochGrowth
}

type epochGrowth struct {
	start int64
	bytes int64
}

var batchPool = sync.Pool{New: func() any { return &writeBatch{defSeen: make(map[uint32]struct{})} }}

func (b *writeBatch) reset() {
	b.samples, b.defs, b.series, b.rec = b.samples[:0], b.defs[:0], b.series[:0], b.rec[:0]
	b.ids, b.newKeys = b.ids[:0], b.newKeys[:0]
	b.created, b.touched = b.created[:0], b.touched[:0]
	clear(b.defSeen)
}

// Write stores pts. When it returns nil, every point is in a fdatasync'd WAL
// record and visible to queries. Points that cannot be stored (bad labels,
// a timestamp outside retention, a new series past the cardinality limit)
// are dropped and reported in a *PartialWriteError; the others are written.
// ErrOverloaded means nothing was written and the caller should retry;
// so does an error matching ErrUnavailable (the WAL cannot append, see
// Health).
func (db *DB) Write(ctx context.Context, pts []Point) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if err := db.walOutage(); err != nil {
		return err // at once: the WAL recovers in the background
	}
	if err := db.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-db.writeSem }()

	b := batchPool.Get().(*writeBatch)
	defer func() { b.reset(); batchPool.Put(b) }()
	perr := db.resolve(pts, b)
	if len(b.samples) == 0 {
		return perr.orNil()
	}
	recs := make([]wal.Record, 0, 2)
	if len(b.defs) > 0 {
		b.series = encodeSeries(b.series, b.defs)
		recs = append(recs, wal.Record{Type: recSeries, Data: b.series})
	}
	b.rec = encodeSamples(b.rec, b.samples)
	recs = append(recs, wal.Record{Type: recSamples, Data: b.rec})

	db.appendMu.RLock()
	defer db.appendMu.RUnlock()
	seg, err := db.wal.Log(ctx, recs...)
	if err != nil {
		if uerr := unavailable(err); uerr != nil {
			return uerr
		}
		return fmt.Errorf("write to WAL: %w", err)
	}
	for _, d := range b.defs {
		db.head.series(d.id).logged.Store(true)
	}
	db.appendHead(b, seg, db.now())
	return perr.orNil()
}

// maxWriteWait bounds how long one Write waits for a write slot when all
// maxConcurrentWrites are taken; past it the Write fails with
// ErrOverloaded. A context from WithWriteWait bounds the wait of all the
// Writes that share it instead (issue 8: a request used to wait 5 s per
// batch, 94 s in all under overload).
const maxWriteWait = time.Second

// writeWait is the wait for write slots that the Writes of one context
// share; left is in nanoseconds and only decreases.
type writeWait struct{ left atomic.Int64 }

type writeWaitKey struct{}

// WithWriteWait returns a copy of ctx whose Writes together wait at most d
// for a write slot (and each at most one second), then fail with
// ErrOverloaded. A caller that writes one request in several batches, such
// as the InfluxDB write handler, passes the same context to each, so the
// request waits at most d however many batches it has. d <= 0 means no
// wait: a Write that finds every slot taken fails at once.
func WithWriteWait(ctx context.Context, d time.Duration) context.Context {
	ww := new(writeWait)
	ww.left.Store(int64(max(d, 0)))
	return context.WithValue(ctx, writeWaitKey{}, ww)
}

// acquire takes a write slot, waiting at most maxWriteWait, or what is left
// of ctx's WithWriteWait budget when that is less.
func (db *DB) acquire(ctx context.Context) error {
	select {
	case db.writeSem <- struct{}{}:
		return nil
	default:
	}
	wait := maxWriteWait
	ww, _ := ctx.Value(writeWaitKey{}).(*writeWait)
	if ww != nil {
		wait = min(wait, time.Duration(ww.left.Load()))
		if wait <= 0 {
			return ErrOverloaded
		}
		start := time.Now()
		defer func() { ww.left.Add(-int64(time.Since(start))) }()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case db.writeSem <- struct{}{}:
		return nil
	case <-t.C:
		return ErrOverloaded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// partialErr accumulates dropped points.
type partialErr struct {
	dropped int
	first   error
}

func (p *partialErr) add(err error) {
	if p.dropped == 0 {
		p.first = err
	}
	p.dropped++
}

func (p *partialErr) orNil() error {
	if p.dropped == 0 {
		return nil
	}
	return &PartialWriteError{Dropped: p.dropped, First: p.first}
}

// TimeWindow returns the oldest and newest timestamps, in milliseconds,
// that a write at now accepts: now-retention and now+max_future. Samples
// outside are refused with ErrOutOfBounds.
func (db *DB) TimeWindow(now time.Time) (mint, maxt int64) {
	return now.Add(-db.cfg.Retention).UnixMilli(), now.Add(db.cfg.MaxFuture).UnixMilli()
}

// resolve maps points to series IDs, creating series, and fills b with the
// samples and the series definitions the WAL record must carry.
func (db *DB) resolve(pts []Point, b *writeBatch) partialErr {
	var perr partialErr
	mint, maxt := db.TimeWindow(db.now())
	b.ids = db.keys.lookup(pts, b.ids)
	for i := range pts {
		p := &pts[i]
		if p.T < mint || p.T > maxt {
			perr.add(fmt.Errorf("series %s: timestamp %s outside [now-retention, now+max_future]: %w",
				p.Labels, time.UnixMilli(p.T).UTC().Format(time.RFC3339Nano), ErrOutOfBounds))
			continue
		}
		id, created := b.ids[i], false
		if id == 0 {
			ls := p.Labels.WithoutEmpty()
			if err := ls.Validate(); err != nil {
				perr.add(err)
				continue
			}
			var err error
			id, created, err = db.ix.getOrCreate(ls)
			if errors.Is(err, ErrTooManySeries) && isSelfSeries(ls) {
				id, created, err = db.ix.getOrCreateOver(ls, SelfSeriesAllowance)
			}
			if err != nil {
				perr.add(err)
				continue
			}
			if created {
				db.ctr.seriesCreated.Add(1)
			}
			if p.Key != nil {
				b.ids[i] = id
				b.newKeys = append(b.newKeys, i)
			}
		}
		if created || !db.head.series(id).logged.Load() {
			if _, ok := b.defSeen[id]; !ok {
				b.defSeen[id] = struct{}{}
				ls, _ := db.ix.labels(id)
				b.defs = append(b.defs, seriesDef{id, ls})
			}
		}
		b.samples = append(b.samples, walSample{id, p.T, p.V})
	}
	db.keys.add(pts, b.ids, b.newKeys)
	return perr
}

// appendHead appends b's samples to the head, recording new chunks as
// coming from WAL segment seg.
func (db *DB) appendHead(b *writeBatch, seg int, now time.Time) {
	var s *memSeries
	last := uint32(0)
	for _, smp := range b.samples {
		if s == nil || smp.id != last {
			s, last = db.head.series(smp.id), smp.id
		}
		s.mu.Lock()
		created, grew := s.append(smp.t, smp.v)
		s.mu.Unlock()
		start := epochOf(smp.t)
		if created != nil {
			b.created = append(b.created, newChunk{smp.id, start})
		}
		b.touched = addGrowth(b.touched, start, int64(grew))
	}
	db.head.register(b.created, b.touched, seg, now)
}

func addGrowth(gs []epochGrowth, start, n int64) []epochGrowth {
	for i := range gs {
		if gs[i].start == start {
			gs[i].bytes += n
			return gs
		}
	}
	return append(gs, epochGrowth{start, n})
}

// replay rebuilds the head from the WAL, skipping samples whose epoch was
// flushed to a partition after they were logged.
func (db *DB) replay() error {
	coverage := db.parts.coverage()
	cutoff := db.retentionCutoff()
	now := db.now()
	var nSamples, nSkipped, nOrphans int
	b := &writeBatch{defSeen: make(map[uint32]struct{})}
	began := time.Now()
	err := db.wal.Replay(context.Background(), func(seg int, rec wal.Record) error {
		switch rec.Type {
		case recSeries:
			defs, err := decodeSeries(rec.Data)
			if err != nil {
				return fmt.Errorf("segment %d: %w", seg, err)
			}
			for _, d := range defs {
				if err := db.ix.add(d.id, d.labels); err != nil {
					return fmt.Errorf("segment %d: %w", seg, err)
				}
				db.head.series(d.id).logged.Store(true)
			}
		case recSamples:
			b.reset()
			err := decodeSamples(rec.Data, func(s walSample) {
				switch c, ok := coverage[epochOf(s.t)]; {
				case ok && seg <= c, s.t < cutoff:
					nSkipped++
				case !db.hasSeries(s.id):
					nOrphans++
				default:
					b.samples = append(b.samples, s)
				}
			})
			if err != nil {
				return fmt.Errorf("segment %d: %w", seg, err)
			}
			nSamples += len(b.samples)
			db.appendHead(b, seg, now)
		default:
			db.logger.Warn("skipping unknown WAL record type", "segment", seg, "type", rec.Type)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replay WAL: %w", err)
	}
	if nOrphans > 0 {
		// Only damage makes these: a series record the WAL skipped, or a lost index.
		db.logger.Error("WAL samples of unknown series skipped", "samples", nOrphans)
	}
	db.logger.Info("WAL replayed", "samples", nSamples, "already_flushed", nSkipped, "series", db.ix.numSeries(), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

func (db *DB) hasSeries(id uint32) bool {
	_, ok := db.ix.labels(id)
	return ok
}
