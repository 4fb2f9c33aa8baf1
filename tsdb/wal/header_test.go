package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
)

func TestSegmentHeader_Decode(t *testing.T) {
	valid := segmentHeader{seg: 7, prevSeg: 6, prevSize: 64<<20 + 3}
	enc := valid.encode()
	b := enc[:]
	// f decodes in and expects the state st, the header want (if OK) and a
	// reason starting with reason.
	f := func(name string, in []byte, st headerState, want segmentHeader, reason string) {
		t.Run(name, func(t *testing.T) {
			t.Helper()
			h, n, gotSt, gotReason := decodeHeader(in)
			if gotSt != st || !strings.HasPrefix(gotReason, reason) {
				t.Fatalf("state %d (%q), want %d (%q)", gotSt, gotReason, st, reason)
			}
			if st == headerOK && (h != want || n != segmentHeaderSize) {
				t.Fatalf("header %+v of %d bytes, want %+v of %d", h, n, want, segmentHeaderSize)
			}
		})
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	rec := rawRecord(1, []byte("hello"))
	// resigned returns b with byte i set to v and the CRC recomputed.
	resigned := func(i int, v byte) []byte {
		c := bytes.Clone(b)
		c[i] = v
		binary.LittleEndian.PutUint32(c[24:], crc32.Checksum(c[:24], castagnoli))
		return c
	}

	f("valid", b, headerOK, valid, "")
	f("valid, records after", cat(b, rec), headerOK, valid, "")
	f("empty", nil, headerNone, valid, "")
	f("headerless record", rec, headerNone, valid, "")
	f("zeros", make([]byte, 64), headerNone, valid, "")
	f("magic only", []byte(segmentMagic), headerDamaged, valid, "truncated: 4 of 28")
	f("torn", b[:20], headerDamaged, valid, "truncated: 20 of 28")
	f("one byte short", b[:27], headerDamaged, valid, "truncated: 27 of 28")
	f("length too short", resigned(6, 4), headerDamaged, valid, "header length 4")
	f("version 0", resigned(4, 0), headerUnknown, valid, "format version 0")
	f("version 2", resigned(4, 2), headerUnknown, valid, "format version 2")
	for i := range segmentHeaderSize {
		for _, mask := range []byte{0x01, 0x80} {
			c := bytes.Clone(b)
			c[i] ^= mask
			f(fmt.Sprintf("byte %d^%#x", i, mask), c, headerDamaged, valid, "")
		}
	}
}

func TestSegmentHeader_MagicIsNotARecordLength(t *testing.T) {
	if n := binary.LittleEndian.Uint32([]byte(segmentMagic)); n <= MaxRecordSize {
		t.Fatalf("magic read as a record length is %d, within MaxRecordSize", n)
	}
}

// TestWAL_Open_SegmentHeaders checks the header of every segment the WAL
// creates: at Open, on a roll and on Cut.
func TestWAL_Open_SegmentHeaders(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{SegmentSize: 200})
	for i := range 5 {
		mustLog(t, w, Record{Type: 1, Data: testData(2*i+1, 100)}) // one per segment
	}
	if _, err := w.Cut(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = mustOpen(t, dir, Options{}) // segment 7
	sizes := segmentSizes(t, dir)
	if len(sizes) != 7 {
		t.Fatalf("segments %v, want 7", sizes)
	}
	for n := 1; n <= 7; n++ {
		want := segmentHeader{seg: n, prevSeg: n - 1, prevSize: sizes[n-1]}
		if n == 1 {
			want = segmentHeader{seg: 1}
		}
		h, ok, err := readHeader(segmentPath(dir, n))
		if err != nil || !ok || h != want {
			t.Errorf("header of segment %d = %+v, %v, %v; want %+v", n, h, ok, err, want)
		}
	}
	if got, want := w.Size(), sumSizes(sizes); got != want {
		t.Errorf("Size = %d, files hold %d", got, want)
	}
}
