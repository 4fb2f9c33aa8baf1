package tsdb

// # index.db, format version 2
//
// index.db is a bbolt file holding the symbols and the series, never the
// postings (they are rebuilt in memory at open). Every bucket is
// append-only: IDs are assigned in ascending order and never reused, so
// each persist appends at the right edge of its buckets (FillPercent 1.0)
// in one transaction, and no page is ever rewritten.
//
//	bucket "meta"
//	    "version"  uint32 big-endian: the format version, 2
//	bucket "symbols"
//	    key    uint32 big-endian symbol ID: 1, 2, 3, ... without gaps
//	    value  the string's bytes (a label name or value; may be empty),
//	           then crc32c(key | string) (4 bytes, little-endian)
//	bucket "series"
//	    key    uint32 big-endian series ID, 1 <= ID < 1<<31, gaps allowed
//	           (an ID may die with a process before its series record
//	           reached the WAL)
//	    value  uvarint n, then n times (uvarint name symbol ID, uvarint
//	           value symbol ID), label names strictly ascending, then
//	           crc32c(key | all before) (4 bytes, little-endian)
//
// A series' symbols are written in the same transaction as the series, or
// an earlier one. Symbol 1 is "__name__" in files written by outpost. A file
// whose version is newer than indexFormatVersion is refused; a version
// change that readers of older files must handle gets a new number.
// Version 1 (no CRCs) is still read, and appended to in its own format.
//
// A value whose CRC does not match, like any other inconsistency, makes the
// file damaged: the store sets it aside and rebuilds it from the day files
// (index_rebuild.go).

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// indexMmapSize is the initial size of index.db's mapping, and
// indexAllocSize how much the file grows at a time.
const (
	indexMmapSize  = 1 << 30
	indexAllocSize = 1 << 20
)

const (
	indexFormatVersion = 2
	indexBucketMeta    = "meta"
	indexBucketSymbols = "symbols"
	indexBucketSeries  = "series"
	indexKeyVersion    = "version"
)

// errIndexForeign means index.db is some other bbolt file: the store
// refuses to start rather than set it aside as damaged.
var errIndexForeign = errors.New("not a series index")

// indexNewerError means index.db is of a newer format: the store refuses to
// start rather than set it aside as damaged.
type indexNewerError struct{ version uint32 }

func (e *indexNewerError) Error() string {
	return fmt.Sprintf("format version %d is newer than this outpost supports (%d)", e.version, indexFormatVersion)
}

// openIndex opens the index file at path, creating it when absent, and
// loads every symbol and series into memory. maxSeries > 0 caps the number
// of series getOrCreate creates; a nil logger discards. The file is checked
// before bbolt maps it: a damaged one is a *damageError.
func openIndex(path string, maxSeries int, logger *slog.Logger) (*index, error) {
	ix := newIndex(maxSeries, logger)
	ix.path = path
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		if err := checkBoltFile(path, true); err != nil {
			return nil, fmt.Errorf("open series index: %w", err)
		}
	}
	db, err := openBolt(path, &bolt.Options{
		Timeout:      5 * time.Second,
		FreelistType: bolt.FreelistMapType,
		// Address space only: growing the file within it needs no remap,
		// and so no copy of every dirty node of a large persist.
		InitialMmapSize: indexMmapSize,
	})
	if err != nil {
		return nil, fmt.Errorf("open series index %q: %w", path, err)
	}
	// With a mapping larger than AllocSize bbolt grows the file by
	// AllocSize (16 MiB by default) at a time.
	db.AllocSize = indexAllocSize
	ix.db = db
	start := time.Now()
	if err := ix.load(); err != nil {
		_ = db.Close()
		var newer *indexNewerError
		if !errors.As(err, &newer) && !errors.Is(err, errIndexForeign) {
			err = &damageError{path: path, what: err.Error()}
		}
		return nil, fmt.Errorf("open series index %q: %w", path, err)
	}
	// Outpost's files start with __name__ as symbol 1; interning it here
	// makes that so for a new file.
	ix.nameSym = ix.syms.intern(MetricName)
	ix.post.optimize()
	ix.post.optimizeAt = max(2*ix.post.n, postingsOptMin)
	ix.logger.Info("series index loaded", "path", path, "series", ix.table.n,
		"symbols", ix.syms.count(), "duration", time.Since(start))
	return ix, nil
}

// load initializes a new file or reads an existing one. It runs before the
// index is shared, so it takes no locks.
func (ix *index) load() (err error) {
	// bbolt panics on some corrupt pages; report them as errors.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt file: %v", r)
		}
	}()
	var fresh bool
	err = ix.db.View(func(tx *bolt.Tx) error {
		var err error
		fresh, err = indexCheckBuckets(tx)
		return err
	})
	if err == nil && fresh {
		err = ix.db.Update(indexCreateBuckets)
	}
	if err != nil {
		return err
	}
	return ix.db.View(func(tx *bolt.Tx) error {
		ver, err := indexCheckVersion(tx.Bucket([]byte(indexBucketMeta)))
		if err != nil {
			return err
		}
		ix.crc = ver >= 2
		if err := ix.loadSymbols(tx.Bucket([]byte(indexBucketSymbols))); err != nil {
			return err
		}
		return ix.loadSeries(tx.Bucket([]byte(indexBucketSeries)))
	})
}

// indexBuckets are the buckets of index.db, meta first.
func indexBuckets() []string {
	return []string{indexBucketMeta, indexBucketSymbols, indexBucketSeries}
}

// indexCheckBuckets reports whether the file is new (it has no bucket at
// all), and fails when it has some of index.db's buckets but not all, or
// other buckets instead.
func indexCheckBuckets(tx *bolt.Tx) (fresh bool, err error) {
	missing := 0
	for _, n := range indexBuckets() {
		if tx.Bucket([]byte(n)) == nil {
			missing++
		}
	}
	switch missing {
	case 0:
		return false, nil
	case len(indexBuckets()):
		if k, _ := tx.Cursor().First(); k != nil {
			return false, fmt.Errorf("%w: unexpected bucket %q", errIndexForeign, k)
		}
		return true, nil
	}
	return false, fmt.Errorf("corrupt file: %d of the buckets meta, symbols, series are missing", missing)
}

// indexCreateBuckets initializes a new file.
func indexCreateBuckets(tx *bolt.Tx) error {
	for _, n := range indexBuckets() {
		if _, err := tx.CreateBucket([]byte(n)); err != nil {
			return fmt.Errorf("create bucket %q: %w", n, err)
		}
	}
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], indexFormatVersion) // a new file is always of the newest format
	return tx.Bucket([]byte(indexBucketMeta)).Put([]byte(indexKeyVersion), v[:])
}

// indexCheckVersion returns the file's format version, 1 or 2.
func indexCheckVersion(meta *bolt.Bucket) (uint32, error) {
	v := meta.Get([]byte(indexKeyVersion))
	if len(v) != 4 {
		return 0, fmt.Errorf("corrupt file: format version is %d bytes long, want 4", len(v))
	}
	switch ver := binary.BigEndian.Uint32(v); {
	case ver > indexFormatVersion && ver < 1<<16:
		return 0, &indexNewerError{ver}
	case ver != 1 && ver != 2:
		return 0, fmt.Errorf("unknown format version %d", ver)
	default:
		return ver, nil
	}
}

// indexValue returns a stored value without its CRC, checking it in files
// of format 2.
func (ix *index) indexValue(k, v []byte) ([]byte, error) {
	if !ix.crc {
		return v, nil
	}
	if len(v) < 4 {
		return nil, fmt.Errorf("value of %d bytes: %w", len(v), errChecksum)
	}
	body := v[:len(v)-4]
	if crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, body) != binary.LittleEndian.Uint32(v[len(body):]) {
		return nil, errChecksum
	}
	return body, nil
}

// indexAppendCRC appends the CRC of a format-2 value body (the last n bytes
// of b) under key k.
func indexAppendCRC(b, k []byte, n int) []byte {
	c := crc32.Update(crc32.Checksum(k, castagnoli), castagnoli, b[len(b)-n:])
	return binary.LittleEndian.AppendUint32(b, c)
}

// loadSymbols reads every symbol, checking that the IDs run 1, 2, 3...
func (ix *index) loadSymbols(b *bolt.Bucket) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		want := uint32(len(ix.syms.strs))
		if len(k) != 4 || binary.BigEndian.Uint32(k) != want {
			return fmt.Errorf("corrupt symbol table: key %x where symbol %d belongs", k, want)
		}
		v, err := ix.indexValue(k, v)
		if err != nil {
			return fmt.Errorf("corrupt symbol %d: %w", want, err)
		}
		s := string(v) // copies out of the mmap
		if _, dup := ix.syms.ids[s]; dup {
			return fmt.Errorf("corrupt symbol table: symbol %d %q is a duplicate", want, s)
		}
		ix.syms.appendNew(s)
	}
	ix.persistedSyms = ix.syms.count()
	return nil
}

// loadSeries reads every series into the arena, the hash table and the
// postings, validating each record.
func (ix *index) loadSeries(b *bolt.Bucket) error {
	var refs []uint32
	var ls Labels
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if len(k) != 4 {
			return fmt.Errorf("corrupt series table: key %x is not 4 bytes", k)
		}
		id := binary.BigEndian.Uint32(k)
		v, err := ix.indexValue(k, v)
		if err == nil {
			refs, ls, err = ix.decodeSeries(refs[:0], ls[:0], v)
		}
		if err == nil && (id == 0 || id > indexMaxID) {
			err = errors.New("ID out of range")
		}
		if err != nil {
			return fmt.Errorf("corrupt series %d: %w", id, err)
		}
		h := ls.Hash(ix.seed) & ix.hashMask
		if other := ix.lookupLocked(ls, h); other != 0 {
			return fmt.Errorf("corrupt series %d: same labels as series %d", id, other)
		}
		loc, err := ix.arena.append(v)
		if err != nil {
			return fmt.Errorf("load series %d: %w", id, err)
		}
		ix.locs.set(id, loc)
		ix.table.insert(h, id)
		ix.post.add(id, ls)
		ix.nextID = max(ix.nextID, id+1)
	}
	return nil
}

// decodeSeries decodes a stored series record into refs and labels made of
// interned strings, checking every symbol ID and the label order.
func (ix *index) decodeSeries(refs []uint32, ls Labels, v []byte) ([]uint32, Labels, error) {
	refs, n, err := indexDecodeRefs(refs, v)
	if err != nil {
		return refs, ls, err
	}
	if n != len(v) {
		return refs, ls, fmt.Errorf("%d trailing bytes", len(v)-n)
	}
	strs := ix.syms.strs
	for i := 0; i < len(refs); i += 2 {
		nr, vr := refs[i], refs[i+1]
		if nr == 0 || int(nr) >= len(strs) || vr == 0 || int(vr) >= len(strs) {
			return refs, ls, fmt.Errorf("label %d refers to a missing symbol", i/2)
		}
		name := strs[nr]
		if name == "" || (len(ls) > 0 && ls[len(ls)-1].Name >= name) {
			return refs, ls, fmt.Errorf("label %d name %q is empty or out of order", i/2, name)
		}
		ls = append(ls, Label{Name: name, Value: strs[vr]})
	}
	return refs, ls, nil
}

// persist appends to index.db, in one fsync'd transaction, every series
// created or added since the last persist, with the symbols they introduced.
// The store calls it before deleting WAL segments (so series outlive the
// WAL) and before writing metric IDs to disk (see metricID). Series can be
// created while it runs; they are left for the next persist.
func (ix *index) persist() error {
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return fmt.Errorf("persist series index %q: %w", ix.path, ErrClosed)
	}
	// Snapshot under the read lock. Arena chunks never move and their
	// bytes below the current length never change, and symbol strings are
	// immutable, so the snapshot stays valid after the lock is released.
	ix.mu.RLock()
	ids := slices.Clone(ix.pending)
	locs := make([]uint32, len(ids))
	for i, id := range ids {
		locs[i] = ix.locs.get(id)
	}
	chunks := slices.Clone(ix.arena.chunks)
	symFrom := ix.persistedSyms + 1
	syms := ix.syms.strs[symFrom:]
	ix.mu.RUnlock()
	if len(ids) == 0 && len(syms) == 0 {
		return nil
	}
	err := ix.db.Update(func(tx *bolt.Tx) error {
		if err := indexPutSymbols(tx.Bucket([]byte(indexBucketSymbols)), symFrom, syms, ix.crc); err != nil {
			return err
		}
		return indexPutSeries(tx.Bucket([]byte(indexBucketSeries)), ids, locs, chunks, ix.crc)
	})
	if err != nil {
		return fmt.Errorf("persist series index %q: %w", ix.path, err)
	}
	ix.mu.Lock()
	if rest := ix.pending[len(ids):]; len(rest) > 0 || cap(ix.pending) > 1<<12 {
		ix.pending = slices.Clone(rest)
	} else {
		ix.pending = ix.pending[:0]
	}
	ix.persistedSyms += len(syms)
	ix.mu.Unlock()
	ix.logger.Debug("series index persisted", "path", ix.path, "series", len(ids), "symbols", len(syms))
	return nil
}

// indexPutSymbols appends symbols from, from+1, ...; with crc (format 2)
// each value carries its CRC32C.
func indexPutSymbols(b *bolt.Bucket, from int, syms []string, crc bool) error {
	b.FillPercent = 1.0
	size := 0
	for _, s := range syms {
		size += 8 + len(s)
	}
	buf := make([]byte, 0, size) // keys and values must live until commit
	for i, s := range syms {
		buf = binary.BigEndian.AppendUint32(buf, uint32(from+i))
		k := buf[len(buf)-4:]
		buf = append(buf, s...)
		n := len(s)
		if crc {
			buf = indexAppendCRC(buf, k, len(s))
			n += 4
		}
		if err := b.Put(k, buf[len(buf)-n:]); err != nil {
			return fmt.Errorf("put symbol %d: %w", from+i, err)
		}
	}
	return nil
}

// indexPutSeries appends series ids, their encodings at locs in chunks;
// with crc (format 2) each value carries its CRC32C.
func indexPutSeries(b *bolt.Bucket, ids, locs []uint32, chunks [][]byte, crc bool) error {
	b.FillPercent = 1.0
	order := make([]int, len(ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(x, y int) int { return int(ids[x]) - int(ids[y]) })
	keys := make([]byte, 4*len(ids))
	var refs []uint32
	var vals []byte // values with their CRC, in slabs; they must live until commit
	for j, i := range order {
		loc := locs[i]
		enc := chunks[loc>>20][loc&(indexArenaChunk-1):]
		var n int
		var err error
		if refs, n, err = indexDecodeRefs(refs[:0], enc); err != nil {
			return fmt.Errorf("encode series %d: %w", ids[i], err)
		}
		k := keys[4*j : 4*j+4]
		binary.BigEndian.PutUint32(k, ids[i])
		v := enc[:n]
		if crc {
			if cap(vals)-len(vals) < n+4 {
				vals = make([]byte, 0, max(1<<20, n+4))
			}
			vals = indexAppendCRC(append(vals, v...), k, n)
			v = vals[len(vals)-n-4:]
		}
		if err := b.Put(k, v); err != nil {
			return fmt.Errorf("put series %d: %w", ids[i], err)
		}
	}
	return nil
}

// close persists what is pending and closes index.db. The in-memory index
// stays readable; creating series fails with ErrClosed from then on. A
// second close returns nil.
func (ix *index) close() error {
	ix.mu.Lock()
	ix.closed = true
	ix.mu.Unlock()
	err := ix.persist()
	ix.persistMu.Lock()
	defer ix.persistMu.Unlock()
	if ix.db == nil {
		return nil
	}
	if cerr := ix.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close series index %q: %w", ix.path, cerr))
	}
	ix.db = nil
	return err
}
