package tsdb

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// DeleteSeries deletes the samples in [mint, maxt] (milliseconds,
// inclusive) of the series matching any of sets, as Prometheus'
// delete_series does. It writes a tombstone to the day files the range
// overlaps and to index.db, synced, before it returns; every read path
// then leaves those samples out, and a series with no sample left in a
// range is not listed for it. Flushes from then on leave them out, and the
// next compaction of each day file drops them from it (compact.go).
// It waits for a flush or compaction in progress.
//
// The range is cut at the time of the delete: samples written later with
// newer timestamps are visible (Prometheus keeps data appended after a
// delete). A sample written after the delete with a timestamp inside the
// deleted range stays hidden. It returns the number of series the
// tombstone names.
func (db *DB) DeleteSeries(ctx context.Context, mint, maxt int64, sets ...[]*Matcher) (int, error) {
	if db.closed.Load() {
		return 0, ErrClosed
	}
	if now := db.now().UnixMilli(); maxt > now {
		maxt = now
	}
	if mint > maxt {
		return 0, nil
	}
	ids, err := db.postingsUnion(sets)
	if err != nil {
		return 0, fmt.Errorf("delete series: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if ids.IsEmpty() {
		return 0, nil
	}
	// No flush or compaction meanwhile: a compaction applies every
	// tombstone known when it starts, and the day files written here are
	// the ones holding the data.
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	// The series must be in index.db before a tombstone names their IDs:
	// a WAL replay gives the unpersisted ones the same IDs, but a rebuild
	// would not.
	if err := db.ix.persist(); err != nil {
		return 0, fmt.Errorf("delete series: %w", err)
	}
	days, err := db.tombstoneDays(mint, maxt)
	if err != nil {
		return 0, fmt.Errorf("delete series: %w", err)
	}
	// Only deletes (under flushMu) move the sequence on.
	db.tombs.mu.RLock()
	t := tombstone{seq: db.tombs.next, ids: ids.Clone(), mint: mint, maxt: maxt}
	db.tombs.mu.RUnlock()
	t.ids.RunOptimize()
	// Day files first: index.db rebuilt from them keeps the tombstone, and
	// one that crashed before index.db is found there at the next open.
	// Not under tombs.mu: reopening a read-only day file for writing waits
	// for its readers, which may be waiting for tombs.mu.
	for _, p := range days {
		if err := p.putTombstone(t); err != nil {
			return 0, fmt.Errorf("delete series: %w", err)
		}
	}
	db.tombs.mu.Lock()
	defer db.tombs.mu.Unlock()
	if err := db.ix.putTombstone(t.seq, t); err != nil {
		return 0, fmt.Errorf("delete series: write tombstone: %w", err)
	}
	db.tombs.next++
	db.tombs.add(t)
	db.logger.Info("series deleted", "series", ids.GetCardinality(), "mint", mint, "maxt", maxt)
	return int(ids.GetCardinality()), nil
}

// Tombstones returns the number of deletes recorded.
func (db *DB) Tombstones() int {
	db.tombs.mu.RLock()
	defer db.tombs.mu.RUnlock()
	return len(db.tombs.list)
}

// selectIDs is SelectWith of the series ids, unsorted, with no budget.
func (db *DB) selectIDs(ctx context.Context, ids *roaring.Bitmap, mint, maxt int64) *SeriesSet {
	s := &SeriesSet{db: db, ctx: ctx, mint: mint, maxt: maxt, batchBytes: DefaultBatchBytes,
		want: firstBatchSeries, n: int(ids.GetCardinality()), unsorted: true, ids: ids, idIt: ids.Iterator()}
	return s
}

// withoutDeleted removes from ids (matching series with data in [mint,
// maxt]) those whose every sample in the range is deleted. Only series
// with a tombstone are read.
func (db *DB) withoutDeleted(ctx context.Context, ids *roaring.Bitmap, mint, maxt int64) (*roaring.Bitmap, error) {
	hit := db.tombs.touched(ids)
	if hit == nil {
		return ids, nil
	}
	out := ids.Clone()
	var ivs []interval
	check := roaring.New()
	for it := hit.Iterator(); it.HasNext(); {
		id := it.Next()
		ivs = db.tombs.intervals(ivs[:0], id, mint, maxt)
		if covers(ivs, mint, maxt) {
			out.Remove(id)
		} else if len(ivs) > 0 {
			check.Add(id)
		}
	}
	if check.IsEmpty() {
		return out, nil
	}
	s := db.selectIDs(ctx, check, mint, maxt)
	left := roaring.New()
	for s.Next() {
		sr := s.At()
		if sr.Iterator().Next() {
			left.Add(sr.id)
		}
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	check.AndNot(left)
	out.AndNot(check)
	return out, nil
}
