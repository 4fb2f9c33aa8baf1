package tsdb

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	bolt "go.etcd.io/bbolt"

	"outpost/tsdb/chunkenc"
)

// Salvaging a damaged day file trusts nothing of bbolt's structure: it
// reads every page that says it is a leaf page (live or free, reachable or
// not), takes each record whose checksum vouches for it, and writes them
// into a new file. A chunk's CRC covers its bucket name, so a chunk found
// outside its bucket is placed by trying the sequence numbers of the epoch
// its first timestamp falls in. A truncated file, zeroed meta pages or a
// broken branch page so lose only the records on the pages destroyed.
//
// Salvaged buckets cover no WAL segment (walSeg -1): whatever the WAL still
// holds of the day is replayed on top, and equal samples merge. Chunks of
// format 1 carry no CRC and cannot be salvaged.

// salvageMaxSeq bounds the sequence numbers tried for a chunk found
// outside its bucket; an epoch flushed more often than this loses the
// later flushes' chunks to a salvage.
const salvageMaxSeq = 256

// salvageStats says what salvaging a day file recovered.
type salvageStats struct {
	chunks  int // chunks written to the new file, their CRC checked
	series  int // series entries written
	buckets int // flush buckets written
	bad     int // chunk records that failed their CRC or had none (format 1)
}

func (s salvageStats) String() string {
	if s.chunks == 0 {
		return fmt.Sprintf("nothing salvaged (%d damaged or unchecked chunks); the WAL replays what it still holds of the day", s.bad)
	}
	return fmt.Sprintf("salvaged %d chunks in %d flush buckets and the labels of %d series into a new file; %d damaged or unchecked chunks dropped",
		s.chunks, s.buckets, s.series, s.bad)
}

// salvageChunk is a chunk found in the damaged file, its CRC checked.
type salvageChunk struct {
	start int64
	seq   uint16
	key   [8]byte
	off   int64 // offset of the chunk bytes in the damaged file
	n     int   // chunk bytes, without the CRC
	crc   uint32
	moved bool // placed in another bucket than its own: its CRC is recomputed
}

type salvager struct {
	f       *os.File
	size    int64
	day     int64
	ps      int64 // page size
	chunks  []salvageChunk
	series  map[string][]byte // label blocks by key, as stored
	symbols map[string][]byte
	nseries int // series in the blocks
	bad     int
}

// salvageDayFile copies what can be trusted of the day file src into a new
// bbolt file dst (not written when nothing is found). Only an I/O error
// reading src or writing dst is an error.
func salvageDayFile(src, dst string, day int64) (salvageStats, error) {
	f, err := os.Open(src)
	if err != nil {
		return salvageStats{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return salvageStats{}, err
	}
	s := &salvager{f: f, size: st.Size(), day: day, ps: partitionPageSize, series: make(map[string][]byte), symbols: make(map[string][]byte)}
	c := &boltChecker{f: f, size: s.size}
	if m, err := c.readMeta(); err == nil && m.pageSize >= 512 && m.pageSize <= 1<<24 {
		s.ps = int64(m.pageSize)
	}
	if err := s.scan(); err != nil {
		return salvageStats{}, err
	}
	if err := os.Remove(dst); err != nil && !os.IsNotExist(err) {
		return salvageStats{}, err
	}
	return s.write(dst)
}

// scan reads every leaf page of the file.
func (s *salvager) scan() error {
	le := binary.LittleEndian
	var h [boltPageHeader]byte
	var buf []byte
	for pg := int64(2); pg*s.ps+boltPageHeader <= s.size; pg++ {
		off := pg * s.ps
		if _, err := s.f.ReadAt(h[:], off); err != nil {
			continue // an unreadable sector loses its page
		}
		if le.Uint64(h[0:]) != uint64(pg) || le.Uint16(h[8:]) != boltLeafPage {
			continue
		}
		span := min((int64(le.Uint32(h[12:]))+1)*s.ps, s.size-off)
		if int64(cap(buf)) < span {
			buf = make([]byte, span)
		}
		n, _ := s.f.ReadAt(buf[:span], off)
		s.leaf(buf[:n], off, nil)
	}
	return nil
}

// leaf takes the records of a leaf page held in data, which starts at
// offset base of the file; bucket names the page's bucket when it is known
// (an inline bucket).
func (s *salvager) leaf(data []byte, base int64, bucket []byte) {
	if len(data) < boltPageHeader {
		return
	}
	le := binary.LittleEndian
	count := int(le.Uint16(data[10:]))
	for i := range count {
		eoff := boltPageHeader + i*boltElemSize
		if eoff+boltElemSize > len(data) {
			return
		}
		e := data[eoff:]
		flags := le.Uint32(e)
		kpos := uint64(eoff) + uint64(le.Uint32(e[4:]))
		ksize, vsize := uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		if kpos+ksize+vsize > uint64(len(data)) {
			continue
		}
		k, v := data[kpos:kpos+ksize], data[kpos+ksize:kpos+ksize+vsize]
		voff := base + int64(kpos+ksize)
		if flags&boltBucketLeafFlag == 0 {
			s.entry(bucket, k, v, voff)
			continue
		}
		in := v[min(len(v), boltBucketHeader):]
		if bucket == nil && len(v) > boltBucketHeader && le.Uint64(v) == 0 &&
			len(in) >= boltPageHeader && le.Uint16(in[8:]) == boltLeafPage {
			s.leaf(in, voff+boltBucketHeader, k)
		}
	}
}

// entry takes one key/value record that its checksum vouches for.
func (s *salvager) entry(bucket, k, v []byte, voff int64) {
	switch len(k) {
	case 8: // a chunk
		if len(v) < 5 {
			s.bad++
			return
		}
		c := v[:len(v)-4]
		crc := binary.LittleEndian.Uint32(v[len(c):])
		start, seq, ok := s.place(bucket, k, c, crc)
		if !ok {
			s.bad++
			return
		}
		s.chunks = append(s.chunks, salvageChunk{start: start, seq: seq, key: [8]byte(k), off: voff, n: len(c), crc: crc})
	case 4: // a block of series or symbols
		kind, es, err := decodeLabelBlock(k, v)
		if err != nil {
			return
		}
		blocks := s.symbols
		if kind == labelBlockSeries {
			blocks = s.series
		}
		if _, dup := blocks[string(k)]; !dup {
			blocks[string(k)] = slices.Clone(v)
			if kind == labelBlockSeries {
				s.nseries += len(es)
			}
		}
	}
}

// place finds the bucket a chunk belongs in: the one it was found in, or
// the epoch of its first timestamp and the sequence number its CRC matches.
func (s *salvager) place(bucket, k, c []byte, crc uint32) (int64, uint16, bool) {
	if start, seq, ok := parseBucketName(bucket); ok && chunkCRC(bucket, k, c) == crc {
		return start, seq, true
	}
	mint, _, err := chunkenc.Bounds(c)
	if err != nil {
		return 0, 0, false
	}
	start := epochOf(mint)
	if start < s.day || start >= s.day+dayMs {
		return 0, 0, false
	}
	for seq := range uint16(salvageMaxSeq) {
		if chunkCRC(bucketName(start, seq), k, c) == crc {
			return start, seq, true
		}
	}
	return 0, 0, false
}

// buckets groups the chunks found by bucket, one per key: copies of one
// chunk (free pages keep old copies) are dropped, and a different chunk
// under the same bucket and key (a sequence number reused after a crashed
// flush was dropped) moves to a new bucket after the epoch's last.
func (s *salvager) buckets() [][]salvageChunk {
	slices.SortFunc(s.chunks, func(a, b salvageChunk) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.seq, b.seq), bytes.Compare(a.key[:], b.key[:]), cmp.Compare(a.off, b.off))
	})
	var out [][]salvageChunk
	var extra []salvageChunk
	for i, c := range s.chunks {
		if i > 0 {
			p := s.chunks[i-1]
			if p.start == c.start && p.seq == c.seq && p.key == c.key {
				if p.crc != c.crc || p.n != c.n {
					extra = append(extra, c)
				}
				continue
			}
		}
		if n := len(out); n == 0 || out[n-1][0].start != c.start || out[n-1][0].seq != c.seq {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], c)
	}
	last := make(map[int64]uint16) // epoch -> its largest sequence number
	for _, g := range out {
		last[g[0].start] = max(last[g[0].start], g[0].seq)
	}
	var moved [][]salvageChunk
	for _, c := range extra {
		i := slices.IndexFunc(moved, func(g []salvageChunk) bool {
			return g[0].start == c.start && !slices.ContainsFunc(g, func(o salvageChunk) bool { return o.key == c.key })
		})
		if i < 0 {
			last[c.start]++
			c.seq = last[c.start]
			moved, i = append(moved, nil), len(moved)
		} else {
			c.seq = moved[i][0].seq
		}
		c.moved = true
		moved[i] = append(moved[i], c)
	}
	for _, g := range moved {
		slices.SortFunc(g, func(a, b salvageChunk) int { return bytes.Compare(a.key[:], b.key[:]) })
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(a, b []salvageChunk) int {
		return cmp.Or(cmp.Compare(a[0].start, b[0].start), cmp.Compare(a[0].seq, b[0].seq))
	})
	return out
}

// write writes what was found into a new file at dst.
func (s *salvager) write(dst string) (salvageStats, error) {
	st := salvageStats{bad: s.bad}
	groups := s.buckets()
	if len(groups) == 0 {
		return st, nil
	}
	o := boltOptions
	db, err := bolt.Open(dst, 0o644, &o)
	if err != nil {
		return st, err
	}
	db.AllocSize = partitionAllocSize
	w := &labelWrite{}
	w.serKeys, w.serValues = sortedBlocks(s.series)
	w.symKeys, w.symValues = sortedBlocks(s.symbols)
	err = db.Update(w.put)
	for _, g := range groups {
		if err != nil {
			break
		}
		err = s.writeBucket(db, g)
		st.chunks += len(g)
		st.buckets++
	}
	st.series = s.nseries
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// sortedBlocks returns the blocks in key order.
func sortedBlocks(m map[string][]byte) (keys, values [][]byte) {
	for k := range m {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	for _, k := range keys {
		values = append(values, m[string(k)])
	}
	return keys, values
}

// writeBucket writes one salvaged flush bucket, its chunks re-read from the
// damaged file, and a meta rebuilt from them.
func (s *salvager) writeBucket(db *bolt.DB, g []salvageChunk) error {
	start, seq := g[0].start, g[0].seq
	name := bucketName(start, seq)
	m := flushMeta{version: flushMetaV2, flags: flushMetaSalvaged, start: start, seq: seq,
		walSeg: -1, mint: maxTime, maxt: minTime, ids: roaring.New()}
	var arena []byte
	for i := 0; i < len(g); {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return err
			}
			b.FillPercent = 1.0
			arena = arena[:0]
			for ; i < len(g) && len(arena) < maxTxBytes; i++ {
				c := g[i]
				at := len(arena)
				arena = slices.Grow(arena, c.n+4)[:at+c.n]
				if _, err := s.f.ReadAt(arena[at:], c.off); err != nil {
					return fmt.Errorf("read chunk back: %w", err)
				}
				if c.moved {
					arena = appendChunkCRC(arena, name, c.key[:], c.n)
				} else {
					arena = binary.LittleEndian.AppendUint32(arena, c.crc)
				}
				if mint, maxt, err := chunkenc.Bounds(arena[at : at+c.n]); err == nil {
					m.mint, m.maxt = min(m.mint, mint), max(m.maxt, maxt)
				}
				m.ids.Add(binary.BigEndian.Uint32(c.key[4:]))
				if err := b.Put(slices.Clone(c.key[:]), arena[at:]); err != nil {
					return err
				}
			}
			if i < len(g) {
				return nil
			}
			m.ids.RunOptimize()
			mb, err := m.marshal()
			if err != nil {
				return err
			}
			return b.Put(metaKey, mb)
		})
		if err != nil {
			return fmt.Errorf("write salvaged epoch %d seq %d: %w", start, seq, err)
		}
	}
	return nil
}
