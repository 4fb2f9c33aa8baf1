package tsdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"
)

// Compaction of day files (issue 10 point 3, issue 13 point 2). A day file
// is rewritten into a new file, parts/YYYYMMDD.db.compact, when one of its
// sealed epochs has several flush buckets (late samples, a restart, an
// explicit Flush) or when it holds a tombstone whose series have data in
// it. The new file has one bucket per epoch (seq 0), merging the epoch's
// buckets as reads do (the newest flush wins on equal timestamps), without
// the samples any tombstone deletes, and only the labels and symbols of
// the series left; it is then renamed over the old file. bbolt never
// shrinks a file, so writing a new one is what gives deleted data's space
// back, and it leaves no trace of a deleted series' labels in the day.
//
// Crash safety: the old file is only read until the rename. The new file
// is written in transactions of at most compactBatchBytes of chunks, each
// epoch's meta after its chunks, then fsync'd once and closed; the rename
// replaces the old file atomically and the directory is synced. A
// crash before the rename leaves the old file and an unfinished .compact
// file, which the next open removes; after it, the new file, complete. So
// at any point exactly one of the two is the day, and no sample is lost or
// doubled.
//
// Concurrency: a compaction runs under the flush lock (one writer per day
// file; flushes and deletes wait for it), and reads go on against the old
// file meanwhile; the swap takes the partition's lock exclusively, so it
// waits for reads in flight and reads after it see the new file. Writes
// (the WAL and the head) never wait for it. Memory is bounded by one batch
// of one epoch's series (compactBatchBytes read, as much again encoded).

// compactSuffix ends the name of a day file being rewritten.
const compactSuffix = ".compact"

// compactCheckEvery spaces the background loop's looks for day files to
// compact (each look reads the flush metas of the files holding tombstones).
const compactCheckEvery = 10 * time.Second

// CompactStats says what a compaction did.
type CompactStats struct {
	Days              int   // day files rewritten
	BucketsBefore     int   // flush buckets in those files before
	BucketsAfter      int   // and after: one per epoch
	BytesBefore       int64 // size of those files before
	BytesAfter        int64 // and after
	SamplesDropped    int64 // deleted samples left out
	TombstonesDropped int   // tombstones dropped from index.db: their data is gone
}

// Compact rewrites now every day file that needs it: one with a sealed
// epoch in several flush buckets, or holding deleted data. It then drops
// the tombstones whose data is gone from every file. The background loop
// does the same, a day file at a time; Compact is for tests, benchmarks and
// operators who want the space of a delete back at once.
func (db *DB) Compact(ctx context.Context) (CompactStats, error) {
	if db.closed.Load() {
		return CompactStats{}, ErrClosed
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	return db.compact(ctx, 0)
}

// compactRetryAfter is how long the background loop leaves a day file
// alone after its compaction failed, so that one file failing again and
// again does not keep the others waiting.
const compactRetryAfter = 10 * time.Minute

// compact rewrites, oldest first, the day files that need it (at most
// limit of them, skipping those that failed lately; 0: all), then drops
// tombstones. The caller holds flushMu.
func (db *DB) compact(ctx context.Context, limit int) (CompactStats, error) {
	var st CompactStats
	for _, p := range db.parts.sorted() {
		if limit > 0 && st.Days >= limit {
			break
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if limit > 0 && time.Now().Before(db.compactFailed[p.day]) {
			continue
		}
		why, err := db.compactReason(p)
		if err != nil {
			return st, err
		}
		if why == "" {
			continue
		}
		if err := db.compactDay(ctx, p, why, &st); err != nil {
			if db.compactFailed == nil {
				db.compactFailed = make(map[int64]time.Time)
			}
			db.compactFailed[p.day] = time.Now().Add(compactRetryAfter)
			return st, err
		}
		delete(db.compactFailed, p.day)
	}
	n, err := db.dropTombstones()
	st.TombstonesDropped = n
	return st, err
}

// maybeCompact is the background loop's compaction: at most one day file
// per look, looks spaced by compactCheckEvery, failures backed off.
func (db *DB) maybeCompact(ctx context.Context) error {
	if !db.compacts.due() || time.Since(db.compactLook) < compactCheckEvery {
		return nil
	}
	db.compactLook = time.Now()
	db.flushMu.Lock()
	_, err := db.compact(ctx, 1)
	db.flushMu.Unlock()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	db.compacts.record(err)
	return err
}

// compactReason says why p needs rewriting, "" when it does not.
func (db *DB) compactReason(p *partition) (string, error) {
	if p.broken.Load() {
		return "", nil
	}
	p.lmu.Lock()
	var multi []int64
	for start, n := range p.flushes {
		if n > 1 {
			multi = append(multi, start)
		}
	}
	p.lmu.Unlock()
	for _, start := range multi {
		if db.epochSettled(start) {
			return "a sealed epoch in several flush buckets", nil
		}
	}
	for _, seq := range p.holdsTombstones() {
		t, ok := db.tombs.get(seq)
		if !ok {
			continue
		}
		has, err := p.hasDataOf(t)
		if err != nil {
			return "", err
		}
		if has {
			return "deleted data", nil
		}
	}
	return "", nil
}

// epochSettled reports whether epoch start is sealed for good: past its
// grace period and idle time, with nothing of it in the head.
func (db *DB) epochSettled(start int64) bool {
	settle := start + epochMs + db.cfg.EpochGrace.Milliseconds() + epochIdle.Milliseconds()
	return settle <= db.now().UnixMilli() && len(db.head.overlapping(start, start)) == 0
}

// compactDay rewrites p's file and swaps the new file in. The caller
// holds flushMu.
func (db *DB) compactDay(ctx context.Context, p *partition, why string, st *CompactStats) error {
	began := time.Now()
	before, _ := fileSize(p.path)
	tmp := p.path + compactSuffix
	r, err := db.rewriteDay(ctx, p, tmp)
	if err == nil {
		err = db.step("written")
	}
	if err == nil {
		err = db.swapDay(p, tmp)
	}
	db.ctr.compactNanos.Add(int64(time.Since(began)))
	if err != nil {
		if rerr := os.Remove(tmp); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		db.ctr.compactFailures.Add(1)
		return fmt.Errorf("compact day file %q: %w", p.path, err)
	}
	after, _ := fileSize(p.path)
	st.Days++
	st.BucketsBefore += r.bucketsIn
	st.BucketsAfter += r.bucketsOut
	st.BytesBefore += before
	st.BytesAfter += after
	st.SamplesDropped += r.samplesDropped
	c := &db.ctr
	c.compactions.Add(1)
	c.compactBucketsIn.Add(int64(r.bucketsIn))
	c.compactWritten.Add(after)
	c.compactReclaimed.Add(max(0, before-after))
	c.compactSamplesDropped.Add(r.samplesDropped)
	db.logger.Info("day file compacted", "path", p.path, "why", why, "buckets_before", r.bucketsIn, "buckets_after", r.bucketsOut,
		"bytes_before", before, "bytes_after", after, "samples_dropped", r.samplesDropped, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// rewriteDay writes the compacted form of p's file into tmp.
func (db *DB) rewriteDay(ctx context.Context, p *partition, tmp string) (r *dayRewriter, err error) {
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	// The new file is synced once, when complete: until the rename it is
	// nobody's data, and a crash leaves it to be removed at the next open.
	o := boltOptions
	o.NoSync, o.NoGrowSync = true, true
	out, err := bolt.Open(tmp, 0o644, &o)
	if err != nil {
		return nil, fmt.Errorf("create %q: %w", tmp, err)
	}
	defer func() {
		if err == nil {
			if err = out.Sync(); err != nil {
				err = fmt.Errorf("sync %q: %w", tmp, err)
			}
		}
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close %q: %w", tmp, cerr)
		}
	}()
	out.AllocSize = partitionAllocSize
	p.lmu.Lock()
	salvaged := !p.unlabeled.IsEmpty()
	p.lmu.Unlock()
	r = &dayRewriter{db: db, p: p, out: out, salvaged: salvaged, kept: roaring.New()}
	ins, err := r.epochInputs()
	if err != nil {
		return nil, err
	}
	for i, in := range ins {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.epoch(in); err != nil {
			return nil, err
		}
		if i == 0 {
			if err := db.step("epoch"); err != nil {
				return nil, err
			}
		}
	}
	if err := r.writeLabels(); err != nil {
		return nil, err
	}
	return r, nil
}

// swapDay renames the rewritten file tmp over p's file and reopens p on
// it. Reads in flight finish first; reads meanwhile wait. When the rename
// fails, p is reopened on its old file.
func (db *DB) swapDay(p *partition, tmp string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.db == nil {
		return ErrClosed
	}
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close %q: %w", p.path, err)
	}
	p.db = nil
	err := os.Rename(tmp, p.path)
	if err == nil {
		err = syncDir(filepath.Dir(p.path))
	}
	if err == nil {
		err = db.step("renamed")
	}
	np, _, oerr := db.parts.openDay(p.day)
	if oerr == nil {
		_, oerr = np.loadTombstones()
	}
	if oerr != nil {
		return errors.Join(err, fmt.Errorf("reopen %q: %w", p.path, oerr))
	}
	p.db, p.readOnly = np.db, np.readOnly
	p.lmu.Lock()
	p.labeled, p.unlabeled, p.syms = np.labeled, np.unlabeled, nil
	p.flushes, p.tombSeqs = np.flushes, np.tombSeqs
	p.lmu.Unlock()
	return err
}

// step runs the test hook at a named step of a compaction: "epoch" (the
// first epoch of the new file written), "written" (the new file complete),
// "renamed" (the new file in place, not yet reopened).
func (db *DB) step(name string) error {
	if db.testHook == nil {
		return nil
	}
	return db.testHook(name)
}

func fileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// countFlushes sets the number of complete flush buckets of each epoch,
// from the metas found at open.
func (p *partition) countFlushes(metas map[string]*flushMeta) {
	n := make(map[int64]int)
	for name := range metas {
		start, _, _ := parseBucketName([]byte(name))
		n[start]++
	}
	p.lmu.Lock()
	p.flushes = n
	p.lmu.Unlock()
}
