package tsdb

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// This file holds the series side of the index: the symbol table, the
// per-series label references and the hash table from label hash to series
// ID. Everything here is guarded by index.mu (see index.go); the types have
// no locks of their own.

// indexSymbols interns label names and values: each distinct string is kept
// once, and a series refers to it by a small ID. Symbol IDs start at 1, are
// assigned in order and are persisted, so they are stable across restarts.
type indexSymbols struct {
	strs []string          // symbol ID -> string; strs[0] is unused
	ids  map[string]uint32 // string -> symbol ID; keys share strs' memory
	size int64             // total bytes of the strings
}

func newIndexSymbols() indexSymbols {
	return indexSymbols{strs: []string{""}, ids: make(map[string]uint32)}
}

// lookup returns the ID of s, or 0 when s is not a symbol.
func (sy *indexSymbols) lookup(s string) uint32 { return sy.ids[s] }

// intern returns the ID of s, adding a private copy of s when it is new.
func (sy *indexSymbols) intern(s string) uint32 {
	if id, ok := sy.ids[s]; ok {
		return id
	}
	return sy.appendNew(strings.Clone(s))
}

// appendNew adds s, which the caller guarantees is new and unshared.
func (sy *indexSymbols) appendNew(s string) uint32 {
	id := uint32(len(sy.strs))
	sy.strs = append(sy.strs, s)
	sy.ids[s] = id
	sy.size += int64(len(s))
	return id
}

// count returns the number of symbols.
func (sy *indexSymbols) count() int { return len(sy.strs) - 1 }

// indexArenaChunk is the size of one arena chunk. A series' encoded labels
// never straddle two chunks, so it is also the largest encoding accepted.
const indexArenaChunk = 1 << 20

// indexArena stores the encoded labels of every series in large chunks, so
// that a series costs its encoding and a 4-byte location, not a slice header
// and an allocation. A location is chunk<<20 | offset; location 0 is never
// used (the first chunk starts with a padding byte), so 0 means "absent".
//
// The encoding is the one index.db stores (see index_persist.go): uvarint
// label count, then per label uvarint name symbol ID and uvarint value
// symbol ID, in label order.
type indexArena struct {
	chunks [][]byte
	size   int64 // bytes reserved by chunks
}

// append stores enc and returns its location.
func (a *indexArena) append(enc []byte) (uint32, error) {
	if len(enc) > indexArenaChunk-1 {
		return 0, fmt.Errorf("series labels encode to %d bytes, over the limit of %d", len(enc), indexArenaChunk-1)
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(enc) > indexArenaChunk {
		if len(a.chunks) >= 1<<12 {
			return 0, fmt.Errorf("series label arena is full (%d bytes)", a.size)
		}
		c := make([]byte, 0, indexArenaChunk)
		if last < 0 {
			c = append(c, 0) // location 0 stays unused
		}
		a.chunks = append(a.chunks, c)
		a.size += indexArenaChunk
		last++
	}
	c := a.chunks[last]
	loc := uint32(last)<<20 | uint32(len(c))
	a.chunks[last] = append(c, enc...)
	return loc, nil
}

// at returns the bytes from location loc to the end of its chunk; the
// encoding at loc is a prefix of them.
func (a *indexArena) at(loc uint32) []byte {
	return a.chunks[loc>>20][loc&(indexArenaChunk-1):]
}

// indexLocsChunk is the number of series locations per directory chunk.
const indexLocsChunk = 1 << 16

// indexLocs maps a series ID to its arena location, in chunks of 64Ki IDs
// allocated on first use, so IDs with gaps cost little.
type indexLocs struct {
	dir [][]uint32
}

func (l *indexLocs) get(id uint32) uint32 {
	c := int(id / indexLocsChunk)
	if c >= len(l.dir) || l.dir[c] == nil {
		return 0
	}
	return l.dir[c][id%indexLocsChunk]
}

func (l *indexLocs) set(id, loc uint32) {
	c := int(id / indexLocsChunk)
	for c >= len(l.dir) {
		l.dir = append(l.dir, nil)
	}
	if l.dir[c] == nil {
		l.dir[c] = make([]uint32, indexLocsChunk)
	}
	l.dir[c][id%indexLocsChunk] = loc
}

func (l *indexLocs) sizeBytes() int64 {
	n := int64(cap(l.dir)) * 24
	for _, c := range l.dir {
		n += int64(cap(c)) * 4
	}
	return n
}

// indexTable is an open-addressing hash table (linear probing, no deletes)
// from a series' label hash to its ID. A slot holds the low 32 bits of the
// hash above the ID; 0 is an empty slot (IDs start at 1). Equal hashes, or
// equal low bits, simply occupy successive slots: lookups compare the
// labels of every candidate, so hash collisions cost time, never
// correctness.
type indexTable struct {
	slots []uint64
	n     int
}

// indexSlot packs a hash and an ID into a table slot.
func indexSlot(h uint64, id uint32) uint64 { return uint64(uint32(h))<<32 | uint64(id) }

// insert adds id under hash h; the caller has checked it is not present.
func (t *indexTable) insert(h uint64, id uint32) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	t.place(indexSlot(h, id))
	t.n++
}

func (t *indexTable) place(s uint64) {
	mask := uint64(len(t.slots) - 1)
	for i := (s >> 32) & mask; ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = s
			return
		}
	}
}

func (t *indexTable) grow() {
	old := t.slots
	n := max(2*len(old), 1024)
	t.slots = make([]uint64, n)
	for _, s := range old {
		if s != 0 {
			t.place(s)
		}
	}
}

// indexAppendEncoded appends the encoding of refs (name, value symbol ID
// pairs) to dst.
func indexAppendEncoded(dst []byte, refs []uint32) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(refs)/2))
	for _, r := range refs {
		dst = binary.AppendUvarint(dst, uint64(r))
	}
	return dst
}

// indexDecodeRefs decodes one series encoding at the start of b into refs
// (appending name, value pairs) and returns them with the encoding's length.
// It checks only the framing; callers check the symbol IDs.
func indexDecodeRefs(refs []uint32, b []byte) ([]uint32, int, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return refs, 0, fmt.Errorf("bad label count")
	}
	if n > uint64(len(b)) { // every label takes at least two bytes
		return refs, 0, fmt.Errorf("label count %d exceeds the %d bytes of the record", n, len(b))
	}
	off := k
	for i := uint64(0); i < 2*n; i++ {
		v, k := binary.Uvarint(b[off:])
		if k <= 0 || v > 1<<32-1 {
			return refs, 0, fmt.Errorf("bad symbol reference in label %d", i/2)
		}
		refs = append(refs, uint32(v))
		off += k
	}
	return refs, off, nil
}

// indexNextRef reads one uvarint from b at off, for the hot paths that walk
// an encoding known to be valid.
func indexNextRef(b []byte, off int) (uint32, int) {
	if c := b[off]; c < 0x80 {
		return uint32(c), off + 1
	}
	v, k := binary.Uvarint(b[off:])
	return uint32(v), off + k
}
