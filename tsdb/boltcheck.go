package tsdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// checkBoltFile validates the structure of the bbolt file at path before
// bbolt is allowed to map it. bbolt trusts its pages: a truncated file, a
// page ID or element offset off by one flipped bit, or a cycle of branch
// pages makes it read past its mapping (a fault no recover catches), loop,
// or panic in a goroutine of its own (the free-page scan of a writable
// open). This walk reads the file with ordinary bounds-checked reads and
// returns a *damageError naming the first thing wrong, so that a damaged
// file is reported and set aside instead of crashing the process (a file
// that cannot be opened or read at all is a plain error).
//
// It checks: a valid meta page (the one bbolt would use), the file long
// enough for the pages the meta claims, the freelist page, and every page
// reachable from the root (in range, referenced once, the right type, its
// elements and their keys and values inside the page, inline buckets,
// branch keys in order). With leafKeys it also checks the order of leaf
// keys, which bbolt's own scan of a writable open asserts (and which costs
// reading every page whole); without, it reads only the headers and
// element arrays of leaf pages, enough for a file bbolt opens read-only,
// whose reads only binary-search leaf keys. Values are not checked: chunks,
// flush metas and label blocks carry their own CRC.
//
// The on-disk layout read here is bbolt's (go.etcd.io/bbolt/internal/common),
// stable since bbolt 1.0, in the machine's byte order (little-endian on
// every platform outpost is built for).
func checkBoltFile(path string, leafKeys bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := &boltChecker{f: f, size: st.Size(), leafKeys: leafKeys}
	if err := c.check(); err != nil {
		return &damageError{path: path, what: err.Error()}
	}
	return nil
}

// bbolt's on-disk constants.
const (
	boltMagic          = 0xED0CDAED
	boltVersion        = 2
	boltPageHeader     = 16 // id u64, flags u16, count u16, overflow u32
	boltElemSize       = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	boltBucketHeader   = 16 // root pgid u64, sequence u64
	boltMetaSize       = 64
	boltBranchPage     = 0x01
	boltLeafPage       = 0x02
	boltMetaPage       = 0x04
	boltFreelistPage   = 0x10
	boltBucketLeafFlag = 0x01
	boltNoFreelist     = ^uint64(0)
	boltMaxDepth       = 64 // far deeper than any real B+tree of a file that fits on a disk
)

// errBoltNoMeta means neither meta page of a bbolt file is valid.
var errBoltNoMeta = errors.New("no valid meta page (both are damaged or zeroed)")

// boltMeta is the decoded meta page of a bbolt file.
type boltMeta struct {
	pageSize uint64
	root     uint64 // page of the root bucket
	freelist uint64
	hwm      uint64 // pages in use: the high-water mark
	txid     uint64
}

func parseBoltMeta(b []byte) (boltMeta, bool) {
	if len(b) < boltMetaSize {
		return boltMeta{}, false
	}
	le := binary.LittleEndian
	h := fnv.New64a()
	h.Write(b[:56])
	if le.Uint32(b[0:]) != boltMagic || le.Uint32(b[4:]) != boltVersion || le.Uint64(b[56:]) != h.Sum64() {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: uint64(le.Uint32(b[8:])), root: le.Uint64(b[16:]), freelist: le.Uint64(b[32:]),
		hwm: le.Uint64(b[40:]), txid: le.Uint64(b[48:])}, true
}

type boltChecker struct {
	f        *os.File
	size     int64
	leafKeys bool
	m        boltMeta
	seen     []uint64 // bitset of the pages reached
	bufs     [][]byte // page buffers by tree depth: a page's bytes live while its subtree is walked
}

// pageBytes is one page with its overflow pages: read whole, or (a leaf
// checked without its keys) only its header and elements, the rest read
// on demand.
type pageBytes struct {
	data []byte // from the start of the page
	n    uint64 // length of the page with its overflow
	f    *os.File
	off  int64 // of the page in the file
}

// at returns n bytes at offset off of the page.
func (pb *pageBytes) at(off, n uint64) ([]byte, error) {
	if off+n > pb.n {
		return nil, fmt.Errorf("%d bytes at %d run past the page's %d", n, off, pb.n)
	}
	if off+n <= uint64(len(pb.data)) {
		return pb.data[off : off+n], nil
	}
	b := make([]byte, n)
	if _, err := pb.f.ReadAt(b, pb.off+int64(off)); err != nil {
		return nil, noEOF(err)
	}
	return b, nil
}

// readMeta finds the meta page bbolt would use: of the valid ones, the one
// with the higher transaction ID.
func (c *boltChecker) readMeta() (boltMeta, error) {
	var ms []boltMeta
	buf := make([]byte, boltPageHeader+boltMetaSize)
	if n, _ := c.f.ReadAt(buf, 0); n == len(buf) {
		if m, ok := parseBoltMeta(buf[boltPageHeader:]); ok {
			ms = append(ms, m)
		}
	}
	// The second meta page sits one page in; try every page size bbolt
	// would, as it does when the first is damaged.
	for sh := 10; sh <= 24; sh++ {
		pos := int64(1) << sh
		if len(ms) == 1 && uint64(pos) != ms[0].pageSize {
			continue
		}
		if n, _ := c.f.ReadAt(buf, pos); n == len(buf) {
			if m, ok := parseBoltMeta(buf[boltPageHeader:]); ok && m.pageSize == uint64(pos) {
				ms = append(ms, m)
				break
			}
		}
	}
	switch {
	case len(ms) == 0:
		return boltMeta{}, errBoltNoMeta
	case len(ms) == 2 && ms[1].txid > ms[0].txid:
		return ms[1], nil
	}
	return ms[0], nil
}

func (c *boltChecker) check() error {
	if c.size == 0 {
		return errors.New("file is empty (0 bytes)")
	}
	m, err := c.readMeta()
	if err != nil {
		return err
	}
	c.m = m
	if m.pageSize < 512 || m.pageSize > 1<<24 || m.pageSize&(m.pageSize-1) != 0 {
		return fmt.Errorf("meta page: page size %d", m.pageSize)
	}
	if m.hwm < 2 {
		return fmt.Errorf("meta page: %d pages", m.hwm)
	}
	if m.hwm > uint64(c.size)/m.pageSize {
		return fmt.Errorf("truncated: file is %d bytes, its meta page says %d pages of %d bytes",
			c.size, m.hwm, m.pageSize)
	}
	if m.root < 2 || m.root >= m.hwm {
		return fmt.Errorf("meta page: root page %d outside [2, %d)", m.root, m.hwm)
	}
	c.seen = make([]uint64, (m.hwm+63)/64)
	c.mark(0)
	c.mark(1)
	if err := c.walk(m.root, nil, nil, 0); err != nil {
		return err
	}
	if m.freelist != boltNoFreelist {
		return c.checkFreelist(m.freelist)
	}
	return nil
}

func (c *boltChecker) mark(id uint64) bool {
	w, bit := id/64, uint64(1)<<(id%64)
	if c.seen[w]&bit != 0 {
		return false
	}
	c.seen[w] |= bit
	return true
}

func (c *boltChecker) isSeen(id uint64) bool { return c.seen[id/64]&(1<<(id%64)) != 0 }

// readPage reads page id with its overflow pages, checking its header: a
// leaf without its keys unless leafKeys (or whole).
func (c *boltChecker) readPage(id uint64, whole bool, depth int) (flags uint16, count int, pb *pageBytes, err error) {
	ps := c.m.pageSize
	var h [boltPageHeader]byte
	if _, err := c.f.ReadAt(h[:], int64(id*ps)); err != nil {
		return 0, 0, nil, fmt.Errorf("page %d: %w", id, noEOF(err))
	}
	le := binary.LittleEndian
	if got := le.Uint64(h[0:]); got != id {
		return 0, 0, nil, fmt.Errorf("page %d: header says page %d", id, got)
	}
	flags, count = le.Uint16(h[8:]), int(le.Uint16(h[10:]))
	over := uint64(le.Uint32(h[12:]))
	if id+over >= c.m.hwm {
		return 0, 0, nil, fmt.Errorf("page %d: %d overflow pages run past the last page %d", id, over, c.m.hwm-1)
	}
	for i := id; i <= id+over; i++ {
		if !c.mark(i) {
			return 0, 0, nil, fmt.Errorf("page %d: referenced twice", i)
		}
	}
	pb = &pageBytes{n: (over + 1) * ps, f: c.f, off: int64(id * ps)}
	read := pb.n
	if flags == boltLeafPage && !c.leafKeys && !whole {
		read = min(read, boltPageHeader+uint64(count)*boltElemSize)
	}
	for len(c.bufs) <= depth {
		c.bufs = append(c.bufs, nil)
	}
	if uint64(cap(c.bufs[depth])) < read {
		c.bufs[depth] = make([]byte, read)
	}
	pb.data = c.bufs[depth][:read]
	if _, err := c.f.ReadAt(pb.data, pb.off); err != nil {
		return 0, 0, nil, fmt.Errorf("page %d: %w", id, noEOF(err))
	}
	return flags, count, pb, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// walk checks the subtree at page id, whose keys must lie in [lo, hi)
// (nil: unbounded), and the buckets its leaves hold.
func (c *boltChecker) walk(id uint64, lo, hi []byte, depth int) error {
	if depth > boltMaxDepth {
		return fmt.Errorf("page %d: tree deeper than %d levels", id, boltMaxDepth)
	}
	if id < 2 || id >= c.m.hwm {
		return fmt.Errorf("page %d: outside [2, %d)", id, c.m.hwm)
	}
	if c.isSeen(id) {
		return fmt.Errorf("page %d: referenced twice", id)
	}
	flags, count, pb, err := c.readPage(id, false, depth)
	if err != nil {
		return err
	}
	switch flags {
	case boltBranchPage:
		return c.walkBranch(id, count, pb.data, lo, hi, depth)
	case boltLeafPage:
		return c.checkLeaf(fmt.Sprintf("page %d", id), count, pb, lo, hi, depth)
	}
	return fmt.Errorf("page %d: type %#x where a branch or leaf page belongs", id, flags)
}

// elem returns element i's fields and the page bytes from it on.
func elem(data []byte, i int) (a, b, c2, d uint32, rest []byte) {
	off := boltPageHeader + i*boltElemSize
	le := binary.LittleEndian
	e := data[off : off+boltElemSize]
	return le.Uint32(e), le.Uint32(e[4:]), le.Uint32(e[8:]), le.Uint32(e[12:]), data[off:]
}

func (c *boltChecker) walkBranch(id uint64, count int, data, lo, hi []byte, depth int) error {
	if count == 0 || boltPageHeader+count*boltElemSize > len(data) {
		return fmt.Errorf("page %d: branch with %d elements in %d bytes", id, count, len(data))
	}
	keys := make([][]byte, count)
	kids := make([]uint64, count)
	for i := range count {
		pos, ksize, _, _, rest := elem(data, i)
		if uint64(pos)+uint64(ksize) > uint64(len(rest)) {
			return fmt.Errorf("page %d: branch element %d key runs past the page", id, i)
		}
		keys[i] = rest[pos : pos+ksize]
		kids[i] = binary.LittleEndian.Uint64(rest[8:])
		if err := keyInRange(keys[i], lo, hi, i > 0, keys[max(i-1, 0)]); err != nil {
			return fmt.Errorf("page %d: branch element %d: %w", id, i, err)
		}
	}
	for i, kid := range kids {
		next := hi
		if i+1 < count {
			next = keys[i+1]
		}
		if err := c.walk(kid, keys[i], next, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// keyInRange checks lo <= k < hi, and prev < k when hasPrev.
func keyInRange(k, lo, hi []byte, hasPrev bool, prev []byte) error {
	switch {
	case hasPrev && bytes.Compare(prev, k) >= 0:
		return fmt.Errorf("key %x not above the previous key %x", k, prev)
	case lo != nil && bytes.Compare(k, lo) < 0:
		return fmt.Errorf("key %x below the parent's key %x", k, lo)
	case hi != nil && bytes.Compare(k, hi) >= 0:
		return fmt.Errorf("key %x not below the next parent key %x", k, hi)
	}
	return nil
}

// checkLeaf checks the elements of a leaf page (or an inline bucket's page)
// and walks the buckets it holds. Without leafKeys, only the keys of
// buckets are read and ordered.
func (c *boltChecker) checkLeaf(where string, count int, pb *pageBytes, lo, hi []byte, depth int) error {
	if boltPageHeader+uint64(count)*boltElemSize > uint64(len(pb.data)) {
		return fmt.Errorf("%s: leaf with %d elements in %d bytes", where, count, pb.n)
	}
	le := binary.LittleEndian
	var prev []byte
	for i := range count {
		eoff := boltPageHeader + i*boltElemSize
		e := pb.data[eoff : eoff+boltElemSize]
		flags := le.Uint32(e)
		kpos := uint64(eoff) + uint64(le.Uint32(e[4:]))
		ksize, vsize := uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		if kpos+ksize+vsize > pb.n {
			return fmt.Errorf("%s: leaf element %d runs past the page", where, i)
		}
		bucket := flags&boltBucketLeafFlag != 0
		if !c.leafKeys && !bucket {
			continue
		}
		kv, err := pb.at(kpos, ksize+vsize)
		if err != nil {
			return fmt.Errorf("%s: leaf element %d: %w", where, i, err)
		}
		k := kv[:ksize]
		if err := keyInRange(k, lo, hi, prev != nil, prev); err != nil {
			return fmt.Errorf("%s: leaf element %d: %w", where, i, err)
		}
		prev = k
		if !bucket {
			continue
		}
		if err := c.checkBucket(k, kv[ksize:], depth); err != nil {
			return fmt.Errorf("%s: bucket %x: %w", where, k, err)
		}
	}
	return nil
}

// checkBucket checks a bucket value: a header and either a root page or an
// inline page.
func (c *boltChecker) checkBucket(name, v []byte, depth int) error {
	if len(v) < boltBucketHeader {
		return fmt.Errorf("bucket header is %d bytes", len(v))
	}
	if root := binary.LittleEndian.Uint64(v); root != 0 {
		return c.walk(root, nil, nil, depth+1)
	}
	in := v[boltBucketHeader:]
	if len(in) < boltPageHeader {
		return fmt.Errorf("inline page is %d bytes", len(in))
	}
	le := binary.LittleEndian
	if flags := le.Uint16(in[8:]); flags != boltLeafPage {
		return fmt.Errorf("inline page of type %#x", flags)
	}
	return c.checkLeaf("inline bucket", int(le.Uint16(in[10:])), &pageBytes{data: in, n: uint64(len(in))}, nil, nil, depth+1)
}

// checkFreelist checks the freelist page: in range, its IDs in range,
// none repeated or reachable.
func (c *boltChecker) checkFreelist(id uint64) error {
	if id < 2 || id >= c.m.hwm {
		return fmt.Errorf("meta page: freelist page %d outside [2, %d)", id, c.m.hwm)
	}
	if c.isSeen(id) {
		return fmt.Errorf("freelist page %d: also a data page", id)
	}
	flags, count, pb, err := c.readPage(id, true, 0)
	if err != nil {
		return fmt.Errorf("freelist %w", err)
	}
	data := pb.data
	if flags != boltFreelistPage {
		return fmt.Errorf("freelist page %d: type %#x", id, flags)
	}
	le := binary.LittleEndian
	off := boltPageHeader
	n := uint64(count)
	if count == 0xFFFF {
		if len(data) < off+8 {
			return fmt.Errorf("freelist page %d: no count", id)
		}
		n, off = le.Uint64(data[off:]), off+8
	}
	if n > uint64(len(data)-off)/8 {
		return fmt.Errorf("freelist page %d: %d IDs do not fit", id, n)
	}
	for i := range int(n) {
		fid := le.Uint64(data[off+8*i:])
		if fid < 2 || fid >= c.m.hwm {
			return fmt.Errorf("freelist page %d: free page %d outside [2, %d)", id, fid, c.m.hwm)
		}
		if !c.mark(fid) {
			return fmt.Errorf("freelist page %d: free page %d is in use or listed twice", id, fid)
		}
	}
	return nil
}
