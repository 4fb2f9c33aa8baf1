package tsdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/RoaringBitmap/roaring/v2"
)

// The records of a day file, and their checksums. The layout is drawn in
// doc.go ("Files"). Every record a reader trusts carries a CRC32C
// (Castagnoli) in its last 4 bytes, little-endian, over the bytes that
// identify it and its contents, so a flipped bit anywhere (in the value, its
// key, or the name of its bucket) is an error for that record and never a
// wrong sample or a series under the wrong name.
//
// Flush metas of format 1 (files written before checksums) still read:
// their chunks carry no CRC and are trusted as they are.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// metaKey is the key of a flush bucket's meta, after every chunk key.
var metaKey = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}

// seriesBucket and symbolsBucket are the top-level buckets of a day file
// holding the labels of every series whose chunks the file stores, so that
// a lost index.db can be rebuilt from the day files.
var (
	seriesBucket  = []byte("series")
	symbolsBucket = []byte("symbols")
)

// Flush meta formats: 1 has no checksums anywhere in its bucket; 2 adds a
// CRC32C to the meta and to every chunk, and names its bucket.
const (
	flushMetaV1 = 1
	flushMetaV2 = 2
)

// flushMetaSalvaged marks a bucket rebuilt from a damaged file: the labels
// of its series may be missing from the file.
const flushMetaSalvaged = 1

// Errors of single records of a day file.
var (
	// errChecksum means a record's CRC32C does not match its bytes.
	errChecksum = errors.New("checksum mismatch")
	// errMissingChunk means a flush meta lists a series whose chunk its
	// bucket does not hold.
	errMissingChunk = errors.New("chunk listed in the flush meta is missing")
)

// flushMeta describes one flushed bucket.
type flushMeta struct {
	version uint8
	flags   uint8           // flushMetaSalvaged
	start   int64           // the bucket's epoch (format 2)
	seq     uint16          // the bucket's sequence number (format 2)
	walSeg  int             // every sample of the epoch in WAL segments <= walSeg is in this or an earlier bucket
	mint    int64           // smallest timestamp in the bucket
	maxt    int64           // largest timestamp in the bucket
	ids     *roaring.Bitmap // series present
}

// marshal encodes m in format 2:
//
//	version(1)=2 | flags(1) | varint start | uvarint seq | varint walSeg |
//	varint mint | varint maxt | roaring bitmap | crc32c(4) of all before
func (m *flushMeta) marshal() ([]byte, error) {
	b := []byte{flushMetaV2, m.flags}
	b = binary.AppendVarint(b, m.start)
	b = binary.AppendUvarint(b, uint64(m.seq))
	b = binary.AppendVarint(b, int64(m.walSeg))
	b = binary.AppendVarint(b, m.mint)
	b = binary.AppendVarint(b, m.maxt)
	bm, err := m.ids.ToBytes()
	if err != nil {
		return nil, fmt.Errorf("encode series bitmap: %w", err)
	}
	b = append(b, bm...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli)), nil
}

// unmarshalFlushMeta decodes a flush meta of format 1 or 2.
func unmarshalFlushMeta(b []byte) (*flushMeta, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("flush meta: empty")
	}
	m := flushMeta{version: b[0]}
	switch m.version {
	case flushMetaV1:
		b = b[1:]
	case flushMetaV2:
		if len(b) < 6 {
			return nil, fmt.Errorf("flush meta: truncated")
		}
		body := b[:len(b)-4]
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[len(body):]) {
			return nil, fmt.Errorf("flush meta: %w", errChecksum)
		}
		m.flags = body[1]
		b = body[2:]
	default:
		return nil, fmt.Errorf("flush meta: unknown version %d", b[0])
	}
	r := recReader{b: b}
	if m.version == flushMetaV2 {
		m.start = r.varint()
		seq := r.uvarint()
		if seq > 0xffff {
			return nil, fmt.Errorf("flush meta: sequence number %d", seq)
		}
		m.seq = uint16(seq)
	}
	m.walSeg, m.mint, m.maxt = int(r.varint()), r.varint(), r.varint()
	if r.err != nil {
		return nil, fmt.Errorf("flush meta: truncated")
	}
	b = r.b
	m.ids = roaring.New()
	if err := m.ids.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("flush meta: series bitmap: %w", err)
	}
	return &m, nil
}

// checkName reports whether a format-2 meta belongs in the bucket name
// (a flipped bit in a bucket name would move its chunks to another epoch).
func (m *flushMeta) checkName(start int64, seq uint16) error {
	if m.version == flushMetaV2 && (m.start != start || m.seq != seq) {
		return fmt.Errorf("flush meta of epoch %d seq %d in bucket of epoch %d seq %d", m.start, m.seq, start, seq)
	}
	return nil
}

// epochKey encodes an epoch start so that byte order is time order.
func epochKey(start int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(start)^(1<<63))
}

func bucketName(start int64, seq uint16) []byte {
	return binary.BigEndian.AppendUint16(epochKey(start), seq)
}

func parseBucketName(name []byte) (start int64, seq uint16, ok bool) {
	if len(name) != 10 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(name) ^ (1 << 63)), binary.BigEndian.Uint16(name[8:]), true
}

func chunkKey(metric, id uint32) []byte {
	var k [8]byte
	binary.BigEndian.PutUint32(k[:4], metric)
	binary.BigEndian.PutUint32(k[4:], id)
	return k[:]
}

// chunkCRC is the checksum of a format-2 chunk: CRC32C of its bucket name,
// its key and its bytes.
func chunkCRC(bucket, key, chunk []byte) uint32 {
	c := crc32.Update(0, castagnoli, bucket)
	c = crc32.Update(c, castagnoli, key)
	return crc32.Update(c, castagnoli, chunk)
}

// appendChunkCRC appends the checksum of the chunk that ends arena.
func appendChunkCRC(arena, bucket, key []byte, chunkLen int) []byte {
	return binary.LittleEndian.AppendUint32(arena, chunkCRC(bucket, key, arena[len(arena)-chunkLen:]))
}

// verifyChunk returns the chunk of a format-2 value, checking its CRC.
func verifyChunk(bucket, key, v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("chunk of %d bytes: %w", len(v), errChecksum)
	}
	c := v[:len(v)-4]
	if chunkCRC(bucket, key, c) != binary.LittleEndian.Uint32(v[len(c):]) {
		return nil, errChecksum
	}
	return c, nil
}

// Label blocks: the series and symbols buckets of a day file hold blocks
// of up to labelBlockMax entries, keyed by the uint32 big-endian ID of
// their first entry, IDs ascending within a block:
//
//	kind(1) | uvarint count | count x (uvarint ID - previous ID (the key for the first), entry) |
//	crc32c(4) of the key and all before
//
// A symbols entry (kind 1) is uvarint length, then the string; a series
// entry (kind 2) is the series' encoding in index.db (uvarint n, then n
// pairs of uvarint name and value symbol IDs). Symbol IDs are index.db's,
// so a rebuilt index gets every symbol back at its ID and the chunk keys
// (which lead with the metric name's symbol ID) resolve again. A day file
// holds the symbols its series refer to.
const (
	labelBlockSymbols = 1
	labelBlockSeries  = 2
	labelBlockMax     = 128
)

// appendLabelBlock encodes one block of entries with ascending IDs.
func appendLabelBlock(b []byte, kind byte, ids []uint32, entries [][]byte) (key, value []byte) {
	key = binary.BigEndian.AppendUint32(nil, ids[0])
	start := len(b)
	b = append(b, kind)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	prev := ids[0]
	for i, id := range ids {
		b = binary.AppendUvarint(b, uint64(id-prev))
		b = append(b, entries[i]...)
		prev = id
	}
	c := crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, b[start:])
	b = binary.LittleEndian.AppendUint32(b, c)
	return key, b[start:]
}

// labelEntry is one decoded entry of a label block.
type labelEntry struct {
	id   uint32
	str  string   // a symbols entry's string
	refs []uint32 // a series entry's name and value symbol IDs, in pairs
}

// decodeLabelBlock checks a block's CRC and decodes its entries.
func decodeLabelBlock(key, v []byte) (byte, []labelEntry, error) {
	if len(key) != 4 || len(v) < 6 {
		return 0, nil, fmt.Errorf("label block: key of %d bytes, value of %d", len(key), len(v))
	}
	body := v[:len(v)-4]
	if crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, body) != binary.LittleEndian.Uint32(v[len(body):]) {
		return 0, nil, fmt.Errorf("label block %x: %w", key, errChecksum)
	}
	kind := body[0]
	r := recReader{b: body[1:]}
	n := r.uvarint()
	if r.err != nil || n == 0 || n > labelBlockMax || (kind != labelBlockSymbols && kind != labelBlockSeries) {
		return 0, nil, fmt.Errorf("label block %x: malformed", key)
	}
	out := make([]labelEntry, 0, n)
	id := uint64(binary.BigEndian.Uint32(key))
	for i := range n {
		d := r.uvarint()
		if i > 0 && d == 0 || id+d > 1<<32-1 {
			r.err = errBadRecord
		}
		if r.err != nil {
			break
		}
		id += d
		e := labelEntry{id: uint32(id)}
		if kind == labelBlockSymbols {
			e.str = r.string()
		} else {
			var k int
			var err error
			if e.refs, k, err = indexDecodeRefs(nil, r.b); err != nil {
				r.err = err
				break
			}
			r.b = r.b[k:]
		}
		out = append(out, e)
	}
	if r.err != nil || len(r.b) != 0 {
		return 0, nil, fmt.Errorf("label block %x: malformed", key)
	}
	return kind, out, nil
}
