package wal

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/golang/snappy"
)

// rawRecord frames one record by hand, independent of the encoder.
func rawRecord(typ byte, payload []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, recordCRC(typ, payload))
	b = append(b, typ)
	return append(b, payload...)
}

func TestSegmentReader_Next(t *testing.T) {
	// f decodes seg and expects the records want, then the corruption reason
	// prefix wantBad at offset wantOff ("" for a clean end).
	f := func(name string, seg []byte, want []Record, wantBad string, wantOff int64) {
		t.Run(name, func(t *testing.T) {
			t.Helper()
			r := newSegmentReader(16)
			r.reset(bytes.NewReader(seg), 0, int64(len(seg)))
			var got []Record
			var err error
			for {
				var rec Record
				if rec, err = r.next(); err != nil {
					break
				}
				got = append(got, Record{Type: rec.Type, Data: bytes.Clone(rec.Data)})
			}
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Type != want[i].Type || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("record %d = %d %q, want %d %q", i, got[i].Type, got[i].Data, want[i].Type, want[i].Data)
				}
			}
			c := asCorruption(err)
			switch {
			case wantBad == "" && err != io.EOF:
				t.Fatalf("end = %v, want io.EOF", err)
			case wantBad != "" && c == nil:
				t.Fatalf("end = %v, want corruption %q", err, wantBad)
			case wantBad != "" && (!strings.HasPrefix(c.reason, wantBad) || c.off != wantOff):
				t.Fatalf("corruption %q at %d, want %q at %d", c.reason, c.off, wantBad, wantOff)
			}
		})
	}
	a, b := rawRecord(1, []byte("hello")), rawRecord(127, nil)
	z := rawRecord(5|flagSnappy, snappy.Encode(nil, bytes.Repeat([]byte("x"), 1000)))
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	flip := func(p []byte, i int) []byte { p = bytes.Clone(p); p[i] ^= 0x10; return p }
	hugeLen := bytes.Clone(a)
	binary.LittleEndian.PutUint32(hugeLen, MaxRecordSize+1)

	f("empty", nil, nil, "", 0)
	f("two records", cat(a, b), []Record{{1, []byte("hello")}, {127, nil}}, "", 0)
	f("compressed", z, []Record{{5, bytes.Repeat([]byte("x"), 1000)}}, "", 0)
	f("partial header", cat(a, b[:5]), []Record{{1, []byte("hello")}}, "truncated header", int64(len(a)))
	f("partial payload", cat(b, a[:len(a)-1]), []Record{{127, nil}}, "truncated record", int64(len(b)))
	f("crc flipped", cat(b, flip(a, 5)), []Record{{127, nil}}, "checksum mismatch", int64(len(b)))
	f("payload flipped", cat(flip(a, 10), b), nil, "checksum mismatch", 0)
	f("type flipped", flip(a, 8), nil, "checksum mismatch", 0)
	f("length over limit", hugeLen, nil, "length", 0)
	f("zeros", make([]byte, 64), nil, "checksum mismatch", 0)
	f("flag on plain data", rawRecord(1|flagSnappy, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), nil, "snappy", 0)
	f("snappy claiming too much", rawRecord(1|flagSnappy, []byte{0x80, 0x80, 0x80, 0x04, 0x00}), nil, "snappy", 0)
}

// writeRecords logs n records of 20..59 bytes, one call each, into a fresh
// WAL in dir and returns them and the segment's record offsets (after its
// header), then its size.
func writeRecords(t *testing.T, dir string, n int) (recs []Record, offs []int64, seg int) {
	t.Helper()
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := int64(segmentHeaderSize)
	for i := range n {
		r := Record{Type: byte(i), Data: testData(2*i+1, 20+i%40)}
		seg = mustLog(t, w, r)
		recs = append(recs, r)
		offs = append(offs, off)
		off += int64(headerSize + len(r.Data))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return recs, append(offs, off), seg
}

// checkRecovery opens a copy of seg (content data), replays it, and checks
// that want comes back, the file is cut to wantSize, and a record logged
// after reopening replays cleanly after them.
func checkRecovery(t *testing.T, data []byte, want []Record, wantSize int64) {
	t.Helper()
	dir := t.TempDir()
	p := segmentPath(dir, 1)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	logger, logs := testLogger()
	w, err := Open(dir, Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	got := replayAll(t, w)
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].rec.Type != want[i].Type || !bytes.Equal(got[i].rec.Data, want[i].Data) {
			t.Fatalf("record %d differs", i)
		}
	}
	if st, err := os.Stat(p); err != nil || st.Size() != wantSize {
		t.Fatalf("segment size after replay = %v (%v), want %d", st.Size(), err, wantSize)
	}
	if int64(len(data)) > wantSize && !strings.Contains(logs.String(), "torn wal tail") {
		t.Fatalf("no torn-tail warning logged: %q", logs.String())
	}
	if w.Size() != wantSize+segmentHeaderSize {
		t.Fatalf("Size = %d after repair, want %d and the new segment's header", w.Size(), wantSize)
	}
	mustLog(t, w, Record{Type: 99, Data: []byte("after reopen")})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	logger2, logs2 := testLogger()
	again := reopenReplay(t, dir, Options{Logger: logger2})
	if len(again) != len(want)+1 || again[len(want)].rec.Type != 99 {
		t.Fatalf("second replay has %d records, want %d plus the new one", len(again), len(want))
	}
	if logs2.String() != "" {
		t.Fatalf("second replay logged %q, want a clean log", logs2.String())
	}
}

func TestWAL_Replay_TornTail(t *testing.T) {
	const n = 10
	src := t.TempDir()
	recs, offs, seg := writeRecords(t, src, n)
	data, err := os.ReadFile(segmentPath(src, seg))
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != offs[n] {
		t.Fatalf("segment has %d bytes, want %d", len(data), offs[n])
	}
	last := offs[n-1]
	for cut := last; cut < offs[n]; cut++ {
		t.Run(fmt.Sprintf("truncated at %d", cut), func(t *testing.T) {
			checkRecovery(t, data[:cut], recs[:n-1], last)
		})
	}
	for i := last; i < offs[n]; i++ {
		t.Run(fmt.Sprintf("byte %d flipped", i), func(t *testing.T) {
			d := bytes.Clone(data)
			d[i] ^= 0x01
			checkRecovery(t, d, recs[:n-1], last)
		})
	}
	t.Run("zero-filled tail", func(t *testing.T) {
		checkRecovery(t, append(bytes.Clone(data), make([]byte, 4096)...), recs, offs[n])
	})
}

func TestWAL_Replay_CorruptMiddleSegment(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	type logged struct {
		seg int
		off int64
		rec Record
	}
	var all []logged
	offs := map[int]int64{}
	for i := range 40 {
		r := Record{Type: 1, Data: testData(2*i+1, 100)}
		seg := mustLog(t, w, r)
		if _, ok := offs[seg]; !ok {
			offs[seg] = segmentHeaderSize
		}
		all = append(all, logged{seg, offs[seg], r})
		offs[seg] += int64(headerSize + len(r.Data))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Damage the third record of segment 2.
	var bad logged
	for i, l := range all {
		if l.seg == 2 && all[i-3].seg == 1 {
			bad = l
			break
		}
	}
	if bad.seg != 2 || len(offs) < 4 {
		t.Fatalf("fixture: %d segments, bad record in %d", len(offs), bad.seg)
	}
	p := segmentPath(dir, 2)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[bad.off+headerSize+5] ^= 0x40
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}

	logger, logs := testLogger()
	got := reopenReplay(t, dir, Options{Logger: logger})
	var want []logged // all but the damaged record
	for _, l := range all {
		if l.seg != 2 || l.off != bad.off {
			want = append(want, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].seg != want[i].seg || !bytes.Equal(got[i].rec.Data, want[i].rec.Data) {
			t.Fatalf("record %d: segment %d, want %d", i, got[i].seg, want[i].seg)
		}
	}
	if s := logs.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "segment=2") ||
		!strings.Contains(s, fmt.Sprintf("offset=%d", bad.off)) ||
		!strings.Contains(s, fmt.Sprintf("skipped_bytes=%d", headerSize+len(bad.rec.Data))) {
		t.Fatalf("log %q does not report segment 2 at offset %d, one record skipped", s, bad.off)
	}
	if st, err := os.Stat(p); err != nil || st.Size() != int64(len(data)) {
		t.Fatalf("damaged middle segment was changed: size %d, want %d", st.Size(), len(data))
	}
}

func TestWAL_Replay_CallbackError(t *testing.T) {
	dir := t.TempDir()
	writeRecords(t, dir, 5)
	w := mustOpen(t, dir, Options{})
	stop := errors.New("stop here")
	calls := 0
	err := w.Replay(t.Context(), func(int, Record) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("Replay = %v after %d calls, want the callback's error after 3", err, calls)
	}
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := w.Replay(ctx, func(int, Record) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Replay = %v, want Canceled", err)
		}
	})
}

// maxFuzzInput caps a FuzzReplay input.
const maxFuzzInput = 1 << 20

// FuzzReplay treats arbitrary bytes as a segment file left by an earlier
// process: Open and Replay must not panic or hang, and must leave a prefix of
// the input that replays the same records with no further repair (damage
// before the torn tail, if any, is skipped and reported again), and whose
// size is the one the header of the next segment recorded.
//
//	go test -run '^$' -fuzz FuzzReplay -fuzztime 30s ./tsdb/wal/
func FuzzReplay(f *testing.F) {
	two := bytes.Join([][]byte{rawRecord(1, []byte("hello")), rawRecord(2, nil)}, nil)
	hdr := segmentHeader{seg: 1}.encode()
	f.Add([]byte{})
	f.Add(two)
	f.Add(rawRecord(3|flagSnappy, snappy.Encode(nil, bytes.Repeat([]byte("abc"), 100))))
	f.Add(hdr[:])
	f.Add(slices.Concat(hdr[:], two))
	f.Add(hdr[:10])
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			t.Skip()
		}
		dir := t.TempDir()
		p := filepath.Join(dir, segmentName(1))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		first := reopenReplay(t, dir, Options{})
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > int64(len(data)) || !bytes.HasPrefix(data, mustRead(t, p)) {
			t.Fatalf("repair did not leave a prefix of the input")
		}
		logger, logs := testLogger()
		w, err := Open(dir, Options{Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		second := replayAll(t, w)
		if len(second) != len(first) || strings.Contains(logs.String(), "torn wal tail") ||
			strings.Contains(logs.String(), "cut short") || strings.Contains(logs.String(), "longer than") {
			t.Fatalf("second replay: %d records (first %d), log %q", len(second), len(first), logs.String())
		}
		if again, err := os.Stat(p); err != nil || again.Size() != st.Size() {
			t.Fatalf("second replay changed the segment: %v", err)
		}
		for i := range first {
			if first[i].rec.Type != second[i].rec.Type || !bytes.Equal(first[i].rec.Data, second[i].rec.Data) {
				t.Fatalf("record %d differs between replays", i)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
