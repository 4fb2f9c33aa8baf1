package tsdb

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

func TestFlushMeta_RoundTrip(t *testing.T) {
	m := flushMeta{version: flushMetaV2, flags: flushMetaSalvaged, start: 1_700_000_000_000, seq: 3,
		walSeg: -1, mint: 1_700_000_000_001, maxt: 1_700_000_360_000, ids: roaring.BitmapOf(1, 5, 70000)}
	b, err := m.marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := unmarshalFlushMeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.version != 2 || got.flags != m.flags || got.start != m.start || got.seq != m.seq || got.walSeg != -1 ||
		got.mint != m.mint || got.maxt != m.maxt || !got.ids.Equals(m.ids) {
		t.Fatalf("round trip: %+v, want %+v", got, m)
	}
	if err := got.checkName(m.start, 4); err == nil {
		t.Fatal("checkName accepted another bucket's seq")
	}
	for i := range b {
		for bit := range 8 {
			c := slices.Clone(b)
			c[i] ^= 1 << bit
			if _, err := unmarshalFlushMeta(c); err == nil {
				t.Fatalf("a flipped bit %d of byte %d went unnoticed", bit, i)
			}
		}
	}
	// Format 1: version, walSeg, mint, maxt, bitmap; no CRC.
	v1 := []byte{flushMetaV1}
	v1 = binary.AppendVarint(v1, 7)
	v1 = binary.AppendVarint(v1, 10)
	v1 = binary.AppendVarint(v1, 20)
	bm, _ := roaring.BitmapOf(2).ToBytes()
	got, err = unmarshalFlushMeta(append(v1, bm...))
	if err != nil || got.version != 1 || got.walSeg != 7 || got.mint != 10 || got.maxt != 20 || !got.ids.Contains(2) {
		t.Fatalf("format 1: %+v, %v", got, err)
	}
	if err := got.checkName(99, 9); err != nil {
		t.Fatalf("format 1 names no bucket: %v", err)
	}
}

func TestChunkCRC(t *testing.T) {
	name, key := bucketName(3_600_000, 1), chunkKey(2, 7)
	chunk := []byte("a chunk's bytes")
	v := appendChunkCRC(slices.Clone(chunk), name, key, len(chunk))
	if c, err := verifyChunk(name, key, v); err != nil || string(c) != string(chunk) {
		t.Fatalf("verify = %q, %v", c, err)
	}
	for _, tc := range []struct {
		what      string
		name, key []byte
		v         []byte
	}{
		{"another epoch", bucketName(7_200_000, 1), key, v},
		{"another seq", bucketName(3_600_000, 2), key, v},
		{"another series", name, chunkKey(2, 8), v},
		{"short", name, key, v[:3]},
	} {
		if _, err := verifyChunk(tc.name, tc.key, tc.v); !errors.Is(err, errChecksum) {
			t.Errorf("%s: %v, want a checksum error", tc.what, err)
		}
	}
	for i := range v {
		c := slices.Clone(v)
		c[i] ^= 0x40
		if _, err := verifyChunk(name, key, c); !errors.Is(err, errChecksum) {
			t.Fatalf("flipped byte %d: %v", i, err)
		}
	}
}

func TestLabelBlock_RoundTrip(t *testing.T) {
	f := func(kind byte, ids []uint32, entries [][]byte, check func(es []labelEntry) bool) {
		t.Helper()
		k, v := appendLabelBlock(nil, kind, ids, entries)
		gotKind, es, err := decodeLabelBlock(k, v)
		if err != nil || gotKind != kind || len(es) != len(ids) || !check(es) {
			t.Fatalf("decode: kind %d, %+v, %v", gotKind, es, err)
		}
		for i := range es {
			if es[i].id != ids[i] {
				t.Fatalf("entry %d has ID %d, want %d", i, es[i].id, ids[i])
			}
		}
		for i := range v {
			c := slices.Clone(v)
			c[i] ^= 0x01
			if _, _, err := decodeLabelBlock(k, c); err == nil {
				t.Fatalf("flipped byte %d went unnoticed", i)
			}
		}
		if _, _, err := decodeLabelBlock(binary.BigEndian.AppendUint32(nil, ids[0]+1), v); err == nil {
			t.Fatal("a block under another key went unnoticed")
		}
	}
	f(labelBlockSymbols, []uint32{1, 2, 9}, [][]byte{appendString(nil, MetricName), appendString(nil, "up"), appendString(nil, "")},
		func(es []labelEntry) bool { return es[0].str == MetricName && es[1].str == "up" && es[2].str == "" })
	f(labelBlockSeries, []uint32{40, 41}, [][]byte{indexAppendEncoded(nil, []uint32{1, 2, 3, 4}), indexAppendEncoded(nil, []uint32{1, 2})},
		func(es []labelEntry) bool {
			return slices.Equal(es[0].refs, []uint32{1, 2, 3, 4}) && slices.Equal(es[1].refs, []uint32{1, 2})
		})
}
