package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// How the store handles damaged files (issue 8, "damage found and named"):
//
//   - Every bbolt file is checked (checkBoltFile) before bbolt maps it, and
//     bbolt is opened and read under recover with faults turned into
//     panics, so a damaged file is an error naming it, never a crash.
//   - A damaged day file is set aside (renamed YYYYMMDD.db.damaged-<time>),
//     what its checksums vouch for is salvaged into a new YYYYMMDD.db
//     (salvage.go), and every other day keeps serving.
//   - A damaged, empty or missing index.db, or one that lacks series the
//     day files hold, is set aside and rebuilt from the day files' series
//     buckets (index_rebuild.go), then the WAL replays on top. When some
//     day file holds chunks of series no file names, startup refuses with
//     one line naming it.
//   - A chunk or flush meta whose CRC32C fails on read (or a chunk its
//     meta lists that is not there: its key is damaged) is left out,
//     counted once and logged with its file.
//
// Damaged lists what was found for /health; CorruptChunks counts for
// /metrics.

// DamagedFile is a store file found damaged (or an index.db found missing
// while the day files hold series), and what the store did about it.
type DamagedFile struct {
	// Path is the file's path when it was found.
	Path string
	// MovedTo is where the damaged file was set aside, or "" when it was
	// not (missing or empty, or still in place until the next flush into
	// its day).
	MovedTo string
	// Reason says what is wrong, e.g. "truncated: file is 1048576 bytes,
	// its meta page says 64 pages of 65536 bytes".
	Reason string
	// Recovery says what the store did: "salvaged 812 chunks of 90 series
	// into a new file", "rebuilt from 3 day files: 1200 series".
	Recovery string
	// Found is when the damage was found (for a file set aside by an
	// earlier run: its modification time).
	Found time.Time
}

// Damaged returns the store files found damaged, in the order found: those
// set aside by this run, and those an earlier run set aside that are still
// in the data directory (remove them to clear the list). Empty when
// nothing was ever found.
func (db *DB) Damaged() []DamagedFile {
	return db.parts.dmg.list()
}

// CorruptChunks returns how many chunks or flush metas reads found failing
// their CRC32C (or missing) since Open, each counted once. Such a chunk is left out of
// the answer (an error for that chunk, never a wrong value) and logged at
// ERROR with its file.
func (db *DB) CorruptChunks() uint64 {
	return db.parts.dmg.chunks.Load()
}

// damageError reports a file whose contents are damaged, as opposed to
// one that cannot be read at all (permissions, I/O): the store sets the
// first aside and refuses to start on the second.
type damageError struct {
	path string
	what string
}

func (e *damageError) Error() string { return fmt.Sprintf("%s is damaged: %s", e.path, e.what) }

func isDamage(err error) bool {
	var de *damageError
	return errors.As(err, &de)
}

// errBoltPanic wraps a panic bbolt raised reading a damaged page.
var errBoltPanic = errors.New("bbolt panicked")

func isBoltPanic(err error) bool { return errors.Is(err, errBoltPanic) }

// openBolt opens a bbolt file that checkBoltFile has passed. A panic in
// bbolt (or a fault reading its mapping) on this goroutine becomes a
// *damageError, as do bbolt's own errors for bad meta pages.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, &damageError{path: path, what: fmt.Sprintf("%v: %v", errBoltPanic, r)}
		}
	}()
	db, err = bolt.Open(path, 0o644, o)
	if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) || errors.Is(err, berrors.ErrVersionMismatch) {
		return nil, &damageError{path: path, what: err.Error()}
	}
	return db, err
}

// maxReported bounds the corrupt records remembered so that each is
// counted and logged once; past it, more are counted but not logged.
const maxReported = 1 << 16

// damageLog records damage for one store: the files found damaged and the
// corrupt records reads skipped. It is safe for concurrent use.
type damageLog struct {
	logger *slog.Logger
	now    func() time.Time
	chunks atomic.Uint64 // corrupt chunks and metas found by reads

	mu       sync.Mutex // guards files and reported
	files    []DamagedFile
	reported map[string]struct{} // path, bucket and key of each corrupt record counted
}

func newDamageLog(logger *slog.Logger, now func() time.Time) *damageLog {
	return &damageLog{logger: logger, now: now, reported: make(map[string]struct{})}
}

func (d *damageLog) list() []DamagedFile {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.files)
}

// add records a damaged file and logs it at ERROR. It replaces the record
// of the same file still in place (a broken file now set aside), keeping
// its reason.
func (d *damageLog) add(f DamagedFile) {
	if f.Found.IsZero() {
		f.Found = d.now()
	}
	d.mu.Lock()
	i := slices.IndexFunc(d.files, func(o DamagedFile) bool { return o.Path == f.Path && o.MovedTo == "" })
	if i >= 0 {
		f.Reason = d.files[i].Reason
		d.files[i] = f
	} else {
		d.files = append(d.files, f)
	}
	d.mu.Unlock()
	d.logger.Error("damaged file", "path", f.Path, "reason", f.Reason, "moved_to", f.MovedTo, "recovery", f.Recovery)
}

// corruptRecord counts and logs, once, a chunk or flush meta that failed
// its checksum.
func (d *damageLog) corruptRecord(path string, bucket, key []byte, err error) {
	k := path + "\x00" + string(bucket) + "\x00" + string(key)
	d.mu.Lock()
	_, dup := d.reported[k]
	full := len(d.reported) >= maxReported
	if !dup && !full {
		d.reported[k] = struct{}{}
	}
	d.mu.Unlock()
	if dup {
		return
	}
	d.chunks.Add(1)
	if full {
		return
	}
	epoch, seq := "?", 0
	if start, s, ok := parseBucketName(bucket); ok {
		epoch, seq = time.UnixMilli(start).UTC().Format(time.RFC3339), int(s)
	}
	record := "flush meta"
	switch len(key) {
	case 8:
		record = fmt.Sprintf("chunk of series %d", binary.BigEndian.Uint32(key[4:]))
	case 4:
		record = fmt.Sprintf("%s block %d", bucket, binary.BigEndian.Uint32(key))
	}
	d.logger.Error("corrupt record left out of reads", "path", path, "epoch", epoch, "seq", seq, "record", record, "err", err)
}

// fileBroken records a day file bbolt could not read after it was opened.
func (d *damageLog) fileBroken(path string, err error) {
	d.mu.Lock()
	for _, f := range d.files {
		if f.Path == path && f.MovedTo == "" {
			d.mu.Unlock()
			return
		}
	}
	d.mu.Unlock()
	d.add(DamagedFile{Path: path, Reason: err.Error(),
		Recovery: "skipped by reads; salvaged and set aside at the next flush into its day or the next start"})
}

// setAside renames a damaged file to <path>.damaged-<UTC time> and returns
// the new path.
func (d *damageLog) setAside(path string) (string, error) {
	base := path + ".damaged-" + d.now().UTC().Format("20060102T150405Z")
	to := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("%s.%d", base, i)
	}
	if err := os.Rename(path, to); err != nil {
		return "", fmt.Errorf("set aside damaged file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return "", err
	}
	return to, nil
}

// findSetAside records the files an earlier run set aside in dir, so that
// /health keeps showing them until an operator removes them.
func (d *damageLog) findSetAside(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %q: %w", dir, err)
	}
	for _, e := range ents {
		i := strings.Index(e.Name(), ".damaged-")
		if i < 0 || e.IsDir() {
			continue
		}
		f := DamagedFile{Path: filepath.Join(dir, e.Name()[:i]), MovedTo: filepath.Join(dir, e.Name()),
			Reason: "set aside by an earlier run", Recovery: "see that run's log"}
		if info, err := e.Info(); err == nil {
			f.Found = info.ModTime()
		}
		d.mu.Lock()
		d.files = append(d.files, f)
		d.mu.Unlock()
		d.logger.Warn("damaged file set aside earlier is still present", "path", f.MovedTo)
	}
	return nil
}

// expire deletes the day files set aside in dir whose day ended at or
// before cutoff, and forgets them; it returns how many it deleted.
func (d *damageLog) expire(dir string, cutoff int64) (int, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.db.damaged-*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		base := filepath.Base(name)
		day, ok := parseDayFileName(base[:strings.Index(base, ".damaged-")])
		if !ok || day+dayMs > cutoff {
			continue
		}
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("delete expired damaged file: %w", err)
		}
		n++
		d.logger.Info("retention: deleted damaged file set aside", "path", name)
		d.mu.Lock()
		d.files = slices.DeleteFunc(d.files, func(f DamagedFile) bool { return f.MovedTo == name })
		d.mu.Unlock()
	}
	return n, nil
}
