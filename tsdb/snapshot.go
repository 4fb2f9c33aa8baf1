package tsdb

// Snapshots: a consistent copy of the store taken while ingest goes on.
//
// Consistency: the flush lock is held for the whole copy, so no epoch is
// written to a day file, index.db is not persisted and no WAL segment is
// truncated meanwhile. Under the append lock (a few milliseconds) the WAL
// is cut: every write acknowledged before the cut has its record in a
// segment below it, fdatasync'd, and every record there is an acknowledged
// write. The copy holds the day files and index.db (through bbolt read
// transactions) and the WAL segments below the cut, so opening it replays
// exactly the writes acknowledged before the snapshot moment.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"outpost/tsdb/wal"
)

// SnapshotOptions tunes Snapshot.
type SnapshotOptions struct {
	// SkipHead leaves the WAL out: the copy holds only what was flushed to
	// day files (Prometheus' skip_head).
	SkipHead bool
	// Extra is called with the snapshot directory while the store's copy
	// is pinned, for files owned by other packages (alerting.db).
	Extra func(dir string) error
}

// Snapshot writes a consistent copy of the store into
// <data>/snapshots/<name>/ and returns name (20261204T073000Z-<hex>).
func (db *DB) Snapshot(ctx context.Context, opts SnapshotOptions) (string, error) {
	if db.closed.Load() {
		return "", ErrClosed
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", fmt.Errorf("snapshot name: %w", err)
	}
	name := db.now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(rnd[:])
	dir := db.SnapshotPath(name)
	start := time.Now()
	if err := db.snapshotTo(ctx, dir, opts); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("snapshot %s: %w", name, err)
	}
	db.logger.Info("snapshot written", "dir", dir, "took", time.Since(start).Round(time.Millisecond))
	return name, nil
}

// SnapshotPath returns the directory of the snapshot called name.
func (db *DB) SnapshotPath(name string) string {
	return filepath.Join(db.cfg.Path, "snapshots", name)
}

func (db *DB) snapshotTo(ctx context.Context, dir string, opts SnapshotOptions) error {
	for _, d := range []string{filepath.Join(dir, "parts"), filepath.Join(dir, "wal")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create snapshot directory: %w", err)
		}
	}
	db.flushMu.Lock()
	defer db.flushMu.Unlock()
	cut := -1
	if !opts.SkipHead {
		db.appendMu.Lock()
		seg, err := db.wal.Cut()
		db.appendMu.Unlock()
		if err != nil {
			return fmt.Errorf("cut WAL: %w", err)
		}
		cut = seg
	}
	if err := db.ix.copyTo(filepath.Join(dir, "index.db")); err != nil {
		return err
	}
	for _, p := range db.parts.sorted() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.copyTo(filepath.Join(dir, "parts", filepath.Base(p.path))); err != nil {
			return err
		}
	}
	if cut >= 0 {
		if err := copyWAL(filepath.Join(db.cfg.Path, "wal"), filepath.Join(dir, "wal"), cut); err != nil {
			return err
		}
	}
	if opts.Extra != nil {
		if err := opts.Extra(dir); err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// copyTo writes index.db as of now through a read transaction.
func (ix *index) copyTo(path string) error {
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return ErrClosed
	}
	return copyBolt(ix.db, path)
}

// copyTo writes the day file through a read transaction.
func (p *partition) copyTo(path string) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.db == nil || p.broken.Load() {
		return nil // set aside: the copy leaves it out as reads do
	}
	return copyBolt(p.db, path)
}

// copyBolt copies a bbolt file through a read transaction and fsyncs it.
func copyBolt(b *bolt.DB, path string) error {
	err := b.View(func(tx *bolt.Tx) error { return tx.CopyFile(path, 0o644) })
	if err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(path), err)
	}
	return syncFile(path)
}

// copyWAL copies the segments numbered below cut: they are complete and
// fdatasync'd, and no longer written.
func copyWAL(src, dst string, cut int) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("list WAL: %w", err)
	}
	for _, e := range ents {
		n, ok := wal.SegmentNumber(e.Name())
		if !ok || n >= cut {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // truncated since the listing: flushed, so in a day file
			}
			return fmt.Errorf("copy WAL segment %s: %w", e.Name(), err)
		}
	}
	return nil
}

// copyFile copies a plain file and fsyncs the copy.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
