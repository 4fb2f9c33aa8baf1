package wal

import (
	"context"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

// logEntry is one captured log record, its attributes as text.
type logEntry struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// String formats e for test failures.
func (e logEntry) String() string {
	keys := make([]string, 0, len(e.attrs))
	for k := range e.attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", e.level, e.msg)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, e.attrs[k])
	}
	return b.String()
}

// captureHandler is a slog.Handler that keeps every record in memory, for
// exact assertions on what the WAL logged.
type captureHandler struct {
	mu      *sync.Mutex
	entries *[]logEntry
	attrs   []slog.Attr
}

// newCapture returns a logger and the handler that captures its records.
func newCapture() (*slog.Logger, *captureHandler) {
	h := &captureHandler{mu: &sync.Mutex{}, entries: new([]logEntry)}
	return slog.New(h), h
}

func (h *captureHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *captureHandler) Handle(_ context.Context, r slog.Record) error {
	e := logEntry{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range h.attrs {
		e.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		e.attrs[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	*h.entries = append(*h.entries, e)
	h.mu.Unlock()
	return nil
}

func (h *captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &captureHandler{mu: h.mu, entries: h.entries, attrs: slices.Concat(h.attrs, as)}
}

func (h *captureHandler) WithGroup(string) slog.Handler { return h }

// problems returns the captured WARN and ERROR records.
func (h *captureHandler) problems() []logEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []logEntry
	for _, e := range *h.entries {
		if e.level >= slog.LevelWarn {
			out = append(out, e)
		}
	}
	return out
}

// wantEntry is an expected log record: its level, the start of its message
// and some of its attributes.
type wantEntry struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

// Expected messages, by their start.
const (
	msgCut       = "wal segment cut short"
	msgLonger    = "wal segment longer than when the next segment was created"
	msgHeader    = "wal segment header damaged"
	msgUnknown   = "wal segment has an unknown format"
	msgRenamed   = "wal segment header names another segment"
	msgDamaged   = "damaged wal records skipped"
	msgTorn      = "torn wal tail"
	msgMissing   = "wal segment missing"
	levelWarning = slog.LevelWarn
	levelError   = slog.LevelError
)

// checkLog checks that the WARN and ERROR records of h are exactly want, in
// order.
func checkLog(t *testing.T, h *captureHandler, want ...wantEntry) {
	t.Helper()
	got := h.problems()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		for _, e := range got {
			t.Logf("logged: %s", e)
		}
	}
	if len(got) != len(want) {
		fail("logged %d warnings and errors, want %d", len(got), len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.level != w.level || !strings.HasPrefix(g.msg, w.msg) {
			fail("log %d: %s %q, want %s %q...", i, g.level, g.msg, w.level, w.msg)
			return
		}
		for k, v := range w.attrs {
			if g.attrs[k] != fmt.Sprint(v) {
				fail("log %d (%q): %s=%q, want %v", i, w.msg, k, g.attrs[k], v)
				return
			}
		}
	}
}

// walRecord is a record the fixture logged, with where it landed.
type walRecord struct {
	seg int
	off int64 // offset of its frame in the segment
	rec Record
}

// walFixture is a WAL directory written by the WAL itself.
type walFixture struct {
	dir   string
	recs  []walRecord
	sizes map[int]int64 // size of each segment once closed
}

// write opens a WAL in f.dir and logs n records of 100 bytes, one
// call each, into segments of about 1 KiB, then closes it. Called again on
// the same fixture it appends a later run.
func (f *walFixture) write(t *testing.T, n int) {
	t.Helper()
	w, err := Open(f.dir, Options{SegmentSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		i := len(f.recs)
		r := Record{Type: byte(i % 100), Data: testData(2*i+1, 100)}
		seg := mustLog(t, w, r)
		off := int64(segmentHeaderSize)
		if last := len(f.recs) - 1; last >= 0 && f.recs[last].seg == seg {
			off = f.recs[last].off + int64(headerSize+len(f.recs[last].rec.Data))
		}
		f.recs = append(f.recs, walRecord{seg: seg, off: off, rec: r})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.sizes = segmentSizes(t, f.dir)
}

// newFixture writes a WAL of three full segments of 9 records each.
func newFixture(t *testing.T) *walFixture {
	t.Helper()
	f := &walFixture{dir: t.TempDir()}
	f.write(t, 27)
	if len(f.sizes) != 3 || f.recs[0].seg != 1 || f.recs[len(f.recs)-1].seg != 3 {
		t.Fatalf("fixture: segment sizes %v, last record in segment %d", f.sizes, f.recs[len(f.recs)-1].seg)
	}
	return f
}

// rec returns the index in f.recs of record k of segment seg.
func (f *walFixture) rec(t *testing.T, seg, k int) int {
	t.Helper()
	for i, r := range f.recs {
		if r.seg == seg {
			if k == 0 {
				return i
			}
			k--
		}
	}
	t.Fatalf("fixture: segment %d has no record %d", seg, k)
	return -1
}

// path returns the file of segment n.
func (f *walFixture) path(n int) string { return segmentPath(f.dir, n) }

// replay opens the fixture, replays it and returns the records and the
// log. Open and Replay must succeed whatever the damage.
func (f *walFixture) replay(t *testing.T) ([]entry, *captureHandler) {
	t.Helper()
	logger, h := newCapture()
	return reopenReplay(t, f.dir, Options{Logger: logger}), h
}

// checkRecords checks that got holds the fixture's records but for the
// ones at the indexes in lost, in order.
func (f *walFixture) checkRecords(t *testing.T, got []entry, lost ...int) {
	t.Helper()
	var want []Record
	for i, r := range f.recs {
		if !slices.Contains(lost, i) {
			want = append(want, r.rec)
		}
	}
	checkReplayed(t, got, want)
}

// span returns the indexes from..to-1.
func span(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// truncateFile cuts the file at p to size bytes.
func truncateFile(t *testing.T, p string, size int64) {
	t.Helper()
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
}

// flipByte flips bits of byte i of the file at p.
func flipByte(t *testing.T, p string, i int64, mask byte) {
	t.Helper()
	b := mustRead(t, p)
	b[i] ^= mask
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWAL_Replay_Cuts cuts segments the WAL wrote, at and between record
// boundaries, and checks what Replay returns and logs. A finished segment is
// checked against the size its successor's header recorded, so a cut is an
// ERROR naming the file even at a record boundary; the last segment has no
// successor, so a cut at a record boundary there goes unseen.
func TestWAL_Replay_Cuts(t *testing.T) {
	t.Run("finished segment cut at a record boundary", func(t *testing.T) {
		f := newFixture(t)
		k := f.rec(t, 1, 4)
		truncateFile(t, f.path(1), f.recs[k].off)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(k, f.rec(t, 2, 0))...)
		checkLog(t, h, wantEntry{levelError, msgCut, map[string]any{
			logKeySegment: 1, logKeyFile: f.path(1), logKeyExpected: f.sizes[1],
			logKeyActual: f.recs[k].off, logKeyMissingBytes: f.sizes[1] - f.recs[k].off,
			logKeyRecords: 4, logKeyRecordedBy: "00000002.seg"}})
	})
	t.Run("finished segment cut mid-record", func(t *testing.T) {
		f := newFixture(t)
		k := f.rec(t, 2, 3)
		cut := f.recs[k].off + 5
		truncateFile(t, f.path(2), cut)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(k, f.rec(t, 3, 0))...)
		checkLog(t, h,
			wantEntry{levelError, msgDamaged, map[string]any{logKeySegment: 2, logKeyOffset: f.recs[k].off,
				logKeySkipped: 5, logKeyRegions: 1}},
			wantEntry{levelError, msgCut, map[string]any{logKeySegment: 2, logKeyFile: f.path(2),
				logKeyActual: cut, logKeyMissingBytes: f.sizes[2] - cut, logKeyRecords: 3,
				logKeyRecordedBy: "00000003.seg"}})
	})
	t.Run("finished segment cut to its header", func(t *testing.T) {
		f := newFixture(t)
		truncateFile(t, f.path(1), segmentHeaderSize)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(0, f.rec(t, 2, 0))...)
		checkLog(t, h, wantEntry{levelError, msgCut, map[string]any{logKeySegment: 1,
			logKeyActual: segmentHeaderSize, logKeyRecords: 0}})
	})
	t.Run("finished segment cut inside its header", func(t *testing.T) {
		f := newFixture(t)
		truncateFile(t, f.path(2), 10)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(f.rec(t, 2, 0), f.rec(t, 3, 0))...)
		checkLog(t, h,
			wantEntry{levelError, msgHeader, map[string]any{logKeySegment: 2,
				logKeyReason: "truncated: 10 of 28 bytes"}},
			wantEntry{levelError, msgDamaged, map[string]any{logKeySegment: 2, logKeySkipped: 10}},
			wantEntry{levelError, msgCut, map[string]any{logKeySegment: 2, logKeyActual: 10}})
	})
	t.Run("finished segment cut to zero bytes", func(t *testing.T) {
		f := newFixture(t)
		truncateFile(t, f.path(2), 0)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(f.rec(t, 2, 0), f.rec(t, 3, 0))...)
		checkLog(t, h, wantEntry{levelError, msgCut, map[string]any{logKeySegment: 2,
			logKeyActual: 0, logKeyMissingBytes: f.sizes[2]}})
	})
	t.Run("segment of a previous run cut at a record boundary", func(t *testing.T) {
		// The first run leaves segment 1 as its last; the second run's
		// Open records its size in the header of segment 2.
		f := &walFixture{dir: t.TempDir()}
		f.write(t, 5)
		f.write(t, 5)
		if f.recs[4].seg != 1 || f.recs[5].seg != 2 {
			t.Fatalf("fixture: records in segments %d and %d", f.recs[4].seg, f.recs[5].seg)
		}
		truncateFile(t, f.path(1), f.recs[3].off)
		got, h := f.replay(t)
		f.checkRecords(t, got, 3, 4)
		checkLog(t, h, wantEntry{levelError, msgCut, map[string]any{logKeySegment: 1,
			logKeyFile: f.path(1), logKeyMissingBytes: f.sizes[1] - f.recs[3].off, logKeyRecords: 3,
			logKeyRecordedBy: "00000002.seg"}})
	})
	t.Run("last segment cut at a record boundary goes unseen", func(t *testing.T) {
		// The documented limit: nothing records the last segment's size.
		f := newFixture(t)
		k := f.rec(t, 3, 2)
		truncateFile(t, f.path(3), f.recs[k].off)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(k, len(f.recs))...)
		checkLog(t, h)
	})
	t.Run("last segment cut mid-record is a torn tail", func(t *testing.T) {
		f := newFixture(t)
		k := f.rec(t, 3, 2)
		truncateFile(t, f.path(3), f.recs[k].off+20)
		got, h := f.replay(t)
		f.checkRecords(t, got, span(k, len(f.recs))...)
		checkLog(t, h, wantEntry{levelWarning, msgTorn, map[string]any{logKeySegment: 3,
			logKeyOffset: f.recs[k].off, logKeyDropped: 20}})
		if size := segmentSizes(t, f.dir)[3]; size != f.recs[k].off {
			t.Errorf("last segment has %d bytes, want the torn tail cut at %d", size, f.recs[k].off)
		}
		// The repaired size is what the next segment's header recorded.
		got, h = f.replay(t)
		f.checkRecords(t, got, span(k, len(f.recs))...)
		checkLog(t, h)
	})
	t.Run("finished segment longer than recorded", func(t *testing.T) {
		f := newFixture(t)
		extra := Record{Type: 9, Data: []byte("appended after segment 2 was created")}
		raw := rawRecord(extra.Type, extra.Data)
		appendFile(t, f.path(1), raw)
		got, h := f.replay(t)
		at := f.rec(t, 2, 0)
		want := slices.Concat(recordsOf(f.recs[:at]), []Record{extra}, recordsOf(f.recs[at:]))
		checkReplayed(t, got, want)
		checkLog(t, h, wantEntry{levelWarning, msgLonger, map[string]any{logKeySegment: 1,
			logKeyFile: f.path(1), logKeyExtra: len(raw), logKeyRecordedBy: "00000002.seg"}})
	})
	t.Run("middle segment missing", func(t *testing.T) {
		f := newFixture(t)
		if err := os.Remove(f.path(2)); err != nil {
			t.Fatal(err)
		}
		got, h := f.replay(t)
		f.checkRecords(t, got, span(f.rec(t, 2, 0), f.rec(t, 3, 0))...)
		checkLog(t, h, wantEntry{levelError, msgMissing, map[string]any{logKeyMissing: "00000002.seg",
			logKeyCount: 1}})
	})
	t.Run("segments swapped", func(t *testing.T) {
		f := newFixture(t)
		tmp := f.path(2) + ".tmp"
		for _, mv := range [][2]string{{f.path(2), tmp}, {f.path(3), f.path(2)}, {tmp, f.path(3)}} {
			if err := os.Rename(mv[0], mv[1]); err != nil {
				t.Fatal(err)
			}
		}
		got, h := f.replay(t)
		if len(got) != len(f.recs) {
			t.Errorf("replayed %d records, want all %d", len(got), len(f.recs))
		}
		checkLog(t, h,
			wantEntry{levelError, msgRenamed, map[string]any{logKeySegment: 2, logKeyHeaderSegment: 3}},
			wantEntry{levelError, msgRenamed, map[string]any{logKeySegment: 3, logKeyHeaderSegment: 2}})
	})
}

// TestWAL_Replay_HeaderDamaged flips each byte of the header of a finished
// segment and of the last one: the header is reported damaged, and every
// record after it is still replayed.
func TestWAL_Replay_HeaderDamaged(t *testing.T) {
	for _, seg := range []int{2, 3} {
		for i := range int64(segmentHeaderSize) {
			t.Run(fmt.Sprintf("segment %d byte %d", seg, i), func(t *testing.T) {
				f := newFixture(t)
				flipByte(t, f.path(seg), i, 0x20)
				got, h := f.replay(t)
				f.checkRecords(t, got)
				first, end := f.rec(t, seg, 0), len(f.recs)
				if seg == 2 {
					end = f.rec(t, 3, 0)
				}
				checkLog(t, h,
					wantEntry{levelError, msgHeader, map[string]any{logKeySegment: seg, logKeyFile: f.path(seg)}},
					wantEntry{levelError, msgDamaged, map[string]any{logKeySegment: seg, logKeyOffset: 0,
						logKeySkipped: segmentHeaderSize, logKeyRecovered: end - first}})
			})
		}
	}
	t.Run("header-only last segment damaged", func(t *testing.T) {
		f := newFixture(t)
		f.replay(t) // creates segment 4, which holds only its header
		flipByte(t, f.path(4), 5, 0x01)
		got, h := f.replay(t)
		f.checkRecords(t, got)
		checkLog(t, h, wantEntry{levelWarning, msgTorn, map[string]any{logKeySegment: 4, logKeyOffset: 0,
			logKeyDropped: segmentHeaderSize}})
	})
	t.Run("unknown format version", func(t *testing.T) {
		f := newFixture(t)
		b := mustRead(t, f.path(2))
		b[4] = 2 // version 2, with a valid CRC
		b[24], b[25], b[26], b[27] = crcBytes(b[:24])
		if err := os.WriteFile(f.path(2), b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, h := f.replay(t)
		f.checkRecords(t, got, span(f.rec(t, 2, 0), f.rec(t, 3, 0))...)
		checkLog(t, h, wantEntry{levelError, msgUnknown, map[string]any{logKeySegment: 2,
			logKeyFile: f.path(2), logKeySkipped: len(b), logKeyReason: "format version 2, 28-byte header"}})
		if st, err := os.Stat(f.path(2)); err != nil || st.Size() != int64(len(b)) {
			t.Errorf("segment of an unknown format was changed: %v", err)
		}
	})
}

// appendFile appends b to the file at p.
func appendFile(t *testing.T, p string, b []byte) {
	t.Helper()
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = file.Write(b)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// recordsOf returns the records of recs.
func recordsOf(recs []walRecord) []Record {
	out := make([]Record, len(recs))
	for i, r := range recs {
		out[i] = r.rec
	}
	return out
}

// crcBytes returns the CRC-32C of b, little-endian.
func crcBytes(b []byte) (byte, byte, byte, byte) {
	c := crc32.Checksum(b, castagnoli)
	return byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)
}

// TestWAL_Replay_OldFormat replays headerless segments (format version 0,
// written before segments had a header), alone and followed by segments of
// the current format.
func TestWAL_Replay_OldFormat(t *testing.T) {
	recs := smallRecords(12)
	old := newDamagedSegment(recs...) // a headerless segment holding recs
	// oldDir writes headerless segments 1 and 2, each holding recs.
	oldDir := func(t *testing.T) *walFixture {
		f := &walFixture{dir: t.TempDir()}
		for n := 1; n <= 2; n++ {
			if err := os.WriteFile(f.path(n), old.data, 0o644); err != nil {
				t.Fatal(err)
			}
			for i, r := range recs {
				f.recs = append(f.recs, walRecord{seg: n, off: old.offs[i], rec: r})
			}
		}
		return f
	}
	t.Run("headerless segments", func(t *testing.T) {
		f := oldDir(t)
		got, h := f.replay(t)
		f.checkRecords(t, got)
		checkLog(t, h)
		// The first segment of the new format records the last old one.
		hdr, ok, err := readHeader(f.path(3))
		if err != nil || !ok || hdr != (segmentHeader{seg: 3, prevSeg: 2, prevSize: int64(len(old.data))}) {
			t.Errorf("header of segment 3 = %+v, %v, %v; want it to record segment 2's %d bytes",
				hdr, ok, err, len(old.data))
		}
	})
	t.Run("headerless segment cut at a record boundary goes unseen", func(t *testing.T) {
		// The documented limit: a headerless successor records nothing.
		f := oldDir(t)
		truncateFile(t, f.path(1), old.offs[7])
		got, h := f.replay(t)
		f.checkRecords(t, got, span(7, 12)...)
		checkLog(t, h)
	})
	t.Run("headerless torn tail repaired by the first new Open", func(t *testing.T) {
		f := oldDir(t)
		truncateFile(t, f.path(2), old.offs[11]+3)
		got, h := f.replay(t)
		f.checkRecords(t, got, 23)
		checkLog(t, h, wantEntry{levelWarning, msgTorn, map[string]any{logKeySegment: 2,
			logKeyOffset: old.offs[11], logKeyDropped: 3}})
		got, h = f.replay(t)
		f.checkRecords(t, got, 23)
		checkLog(t, h)
	})
	// mixed is old segments 1 and 2, then a run of the current format that
	// wrote segments 3 to 5.
	mixed := func(t *testing.T) *walFixture {
		f := oldDir(t)
		f.write(t, 20)
		if f.recs[len(f.recs)-1].seg != 5 {
			t.Fatalf("fixture: last record in segment %d, want 5", f.recs[len(f.recs)-1].seg)
		}
		return f
	}
	t.Run("mixed", func(t *testing.T) {
		f := mixed(t)
		got, h := f.replay(t)
		f.checkRecords(t, got)
		checkLog(t, h)
		for i, e := range got {
			if e.seg != f.recs[i].seg {
				t.Fatalf("record %d replayed from segment %d, want %d", i, e.seg, f.recs[i].seg)
			}
		}
	})
	t.Run("mixed, last headerless segment cut at a record boundary", func(t *testing.T) {
		f := mixed(t)
		truncateFile(t, f.path(2), old.offs[5])
		got, h := f.replay(t)
		f.checkRecords(t, got, span(12+5, 24)...)
		checkLog(t, h, wantEntry{levelError, msgCut, map[string]any{logKeySegment: 2,
			logKeyFile: f.path(2), logKeyExpected: len(old.data), logKeyActual: old.offs[5],
			logKeyRecords: 5, logKeyRecordedBy: "00000003.seg"}})
	})
	t.Run("mixed, new segments cut and a header damaged", func(t *testing.T) {
		f := mixed(t)
		k := f.rec(t, 4, 2)
		truncateFile(t, f.path(4), f.recs[k].off)
		flipByte(t, f.path(3), 17, 0x01) // segment 2's recorded size
		got, h := f.replay(t)
		f.checkRecords(t, got, span(k, f.rec(t, 5, 0))...)
		checkLog(t, h,
			wantEntry{levelError, msgHeader, map[string]any{logKeySegment: 3}},
			wantEntry{levelError, msgDamaged, map[string]any{logKeySegment: 3, logKeySkipped: segmentHeaderSize}},
			wantEntry{levelError, msgCut, map[string]any{logKeySegment: 4, logKeyRecords: 2,
				logKeyRecordedBy: "00000005.seg"}})
	})
}

// TestWAL_Replay_AfterOutage checks the header of the segment the writer
// starts after a failed write: it records the failed segment's size after
// the unsynced tail was dropped, so that the next replay finds it whole.
func TestWAL_Replay_AfterOutage(t *testing.T) {
	dir := t.TempDir()
	faults := &diskFaults{ops: map[string]bool{"write": true}}
	w, err := openWAL(dir, Options{}, hooks{fault: faults.fault})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	mustLog(t, w, Record{Type: 1, Data: []byte("before")})
	faults.set(true)
	if _, err := w.Log(t.Context(), Record{Type: 1, Data: bytesOf(4096)}); err == nil {
		t.Fatal("Log on a full disk succeeded")
	}
	faults.set(false)
	waitAppending(t, w, 2*retryMax)
	seg := mustLog(t, w, Record{Type: 1, Data: []byte("after")})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	hdr, ok, err := readHeader(segmentPath(dir, seg))
	want := segmentHeader{seg: seg, prevSeg: 1, prevSize: int64(segmentHeaderSize + headerSize + len("before"))}
	if err != nil || !ok || hdr != want {
		t.Fatalf("header of segment %d = %+v, %v, %v; want %+v", seg, hdr, ok, err, want)
	}
	logger, h := newCapture()
	if got := reopenReplay(t, dir, Options{Logger: logger}); len(got) != 2 {
		t.Fatalf("replayed %d records, want 2", len(got))
	}
	checkLog(t, h)
}
