package tsdb

import (
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// indexMaxID is the largest series ID: the postings keep IDs below 1<<31 in
// their references (see postingsIndex).
const indexMaxID = 1<<31 - 1

// index is the series index: it assigns series IDs, interns label strings,
// keeps each series' labels and answers label matchers through an in-memory
// inverted index. Series and symbols are persisted, append-only, in index.db
// (format in index_persist.go); the postings are rebuilt at open.
//
// # Concurrency
//
// An index is safe for concurrent use. Two read-write locks split it:
//
//   - mu guards the series side: symbols, the label arena and locations, the
//     hash table, nextID and the persist bookkeeping. getOrCreate on an
//     existing series takes only mu's read lock and does not allocate.
//   - pmu guards the postings. Matcher evaluation holds pmu's read lock, so a
//     slow regexp scan never blocks the ingest hot path.
//
// No goroutine holds both locks at once: creating a series takes mu, releases
// it, then takes pmu to add the postings. getOrCreate returns only after
// both steps, so a series is in the postings before its creator can write a
// sample for it. (A concurrent getOrCreate of the same new series may return
// its ID a moment before the postings have it.)
//
// persistMu serializes persist and close, which run their bbolt transaction
// without holding mu.
type index struct {
	path      string
	logger    *slog.Logger
	maxSeries int // 0 means no limit
	seed      maphash.Seed
	// hashMask is ANDed into every label hash. It is ^0 except in tests,
	// which clear bits to force hash collisions.
	hashMask uint64

	persistMu sync.Mutex // serializes persist and close
	db        *bolt.DB   // nil after close; guarded by persistMu
	crc       bool       // index.db values carry a CRC32C (format 2); set at open

	mu      sync.RWMutex // guards every field down to pmu
	syms    indexSymbols
	arena   indexArena
	locs    indexLocs
	table   indexTable
	nextID  uint32   // the ID getOrCreate assigns next
	nameSym uint32   // symbol ID of MetricName
	pending []uint32 // series IDs not yet in index.db, in creation order
	// persistedSyms is the number of symbols already in index.db.
	persistedSyms int
	closed        bool
	encBuf        []byte   // scratch for encoding a new series
	refBuf        []uint32 // scratch for its symbol references

	pmu  sync.RWMutex // guards post
	post postingsIndex
}

// newIndex returns an empty in-memory index with no file behind it.
func newIndex(maxSeries int, logger *slog.Logger) *index {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ix := &index{
		logger:    logger,
		maxSeries: maxSeries,
		seed:      maphash.MakeSeed(),
		hashMask:  ^uint64(0),
		syms:      newIndexSymbols(),
		nextID:    1,
		post:      newPostingsIndex(),
	}
	return ix
}

// getOrCreate returns the ID of the series with labels ls, creating it when
// it is new (created is then true). ls must be sorted and valid (the caller
// checks with Labels.Validate); it is not retained. When maxSeries is set
// and reached, a new series is refused with an error wrapping
// ErrTooManySeries; existing series still resolve.
func (ix *index) getOrCreate(ls Labels) (id uint32, created bool, err error) {
	h := ls.Hash(ix.seed) & ix.hashMask
	ix.mu.RLock()
	id = ix.lookupLocked(ls, h)
	ix.mu.RUnlock()
	if id != 0 {
		return id, false, nil
	}
	return ix.create(ls, h, 0)
}

// getOrCreateOver is getOrCreate with room for extra series past
// maxSeries, for outpost's own series (see SelfSeriesAllowance).
func (ix *index) getOrCreateOver(ls Labels, extra int) (id uint32, created bool, err error) {
	return ix.create(ls, ls.Hash(ix.seed)&ix.hashMask, extra)
}

// create is getOrCreate's slow path; extra is the room past maxSeries.
func (ix *index) create(ls Labels, h uint64, extra int) (uint32, bool, error) {
	ix.mu.Lock()
	if id := ix.lookupLocked(ls, h); id != 0 {
		ix.mu.Unlock()
		return id, false, nil
	}
	var err error
	switch {
	case ix.closed:
		err = ErrClosed
	case ix.maxSeries > 0 && ix.table.n >= ix.maxSeries+extra:
		err = fmt.Errorf("%w (limit %d)", ErrTooManySeries, ix.maxSeries+extra)
	case ix.nextID > indexMaxID:
		err = fmt.Errorf("series IDs exhausted")
	}
	if err != nil {
		ix.mu.Unlock()
		return 0, false, fmt.Errorf("create series %s: %w", ls, err)
	}
	id := ix.nextID
	interned, err := ix.insertLocked(id, ls, h)
	if err == nil {
		ix.nextID++
	}
	ix.mu.Unlock()
	if err != nil {
		return 0, false, fmt.Errorf("create series %s: %w", ls, err)
	}
	ix.pmu.Lock()
	ix.post.add(id, interned)
	ix.pmu.Unlock()
	return id, true, nil
}

// add registers series id with labels ls, as replaying a WAL series record
// written by an earlier process does. It is idempotent, ignores maxSeries
// (the series already exists) and keeps nextID above id. It fails when id
// already names other labels, or ls already has another ID.
func (ix *index) add(id uint32, ls Labels) error {
	if id == 0 || id > indexMaxID {
		return fmt.Errorf("add series %d %s: ID out of range", id, ls)
	}
	h := ls.Hash(ix.seed) & ix.hashMask
	ix.mu.Lock()
	if ix.locs.get(id) != 0 {
		same := ix.equalLocked(id, ls)
		var cur Labels
		if !same {
			cur = ix.appendLabelsLocked(nil, id)
		}
		ix.mu.Unlock()
		if same {
			return nil
		}
		return fmt.Errorf("add series %d %s: the ID already belongs to %s", id, ls, cur)
	}
	if other := ix.lookupLocked(ls, h); other != 0 {
		ix.mu.Unlock()
		return fmt.Errorf("add series %d %s: already registered as series %d", id, ls, other)
	}
	if ix.closed {
		ix.mu.Unlock()
		return fmt.Errorf("add series %d %s: %w", id, ls, ErrClosed)
	}
	interned, err := ix.insertLocked(id, ls, h)
	if err == nil && id >= ix.nextID {
		ix.nextID = id + 1
	}
	ix.mu.Unlock()
	if err != nil {
		return fmt.Errorf("add series %d %s: %w", id, ls, err)
	}
	ix.pmu.Lock()
	ix.post.add(id, interned)
	ix.pmu.Unlock()
	return nil
}

// insertLocked stores a new series under id and returns its labels built
// from interned strings, for the postings. mu must be held for writing.
func (ix *index) insertLocked(id uint32, ls Labels, h uint64) (Labels, error) {
	refs := ix.refBuf[:0]
	interned := make(Labels, len(ls))
	for i, l := range ls {
		n, v := ix.syms.intern(l.Name), ix.syms.intern(l.Value)
		refs = append(refs, n, v)
		interned[i] = Label{Name: ix.syms.strs[n], Value: ix.syms.strs[v]}
	}
	ix.refBuf = refs
	ix.encBuf = indexAppendEncoded(ix.encBuf[:0], refs)
	loc, err := ix.arena.append(ix.encBuf)
	if err != nil {
		return nil, err
	}
	ix.locs.set(id, loc)
	ix.table.insert(h, id)
	ix.pending = append(ix.pending, id)
	return interned, nil
}

// lookupLocked returns the ID of the series with labels ls and hash h, or 0.
// mu must be held.
func (ix *index) lookupLocked(ls Labels, h uint64) uint32 {
	t := ix.table.slots
	if len(t) == 0 {
		return 0
	}
	mask := uint64(len(t) - 1)
	frag := uint64(uint32(h))
	for i := frag & mask; ; i = (i + 1) & mask {
		s := t[i]
		if s == 0 {
			return 0
		}
		if s>>32 == frag && ix.equalLocked(uint32(s), ls) {
			return uint32(s)
		}
	}
}

// equalLocked reports whether series id (which exists) has labels ls.
func (ix *index) equalLocked(id uint32, ls Labels) bool {
	b := ix.arena.at(ix.locs.get(id))
	n, off := indexNextRef(b, 0)
	if int(n) != len(ls) {
		return false
	}
	strs := ix.syms.strs
	var r uint32
	for _, l := range ls {
		r, off = indexNextRef(b, off)
		if strs[r] != l.Name {
			return false
		}
		r, off = indexNextRef(b, off)
		if strs[r] != l.Value {
			return false
		}
	}
	return true
}
