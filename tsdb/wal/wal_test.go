package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// entry is a replayed record with its segment, data copied.
type entry struct {
	seg int
	rec Record
}

// lockedBuffer is an io.Writer for a test logger.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a logger writing text to a buffer the test can read.
func testLogger() (*slog.Logger, *lockedBuffer) {
	b := &lockedBuffer{}
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// mustOpen opens a WAL that is closed when the test ends.
func mustOpen(t testing.TB, dir string, opts Options) *WAL {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// replayAll replays w and returns copies of every record.
func replayAll(t testing.TB, w *WAL) []entry {
	t.Helper()
	var got []entry
	err := w.Replay(context.Background(), func(seg int, rec Record) error {
		got = append(got, entry{seg, Record{Type: rec.Type, Data: slices.Clone(rec.Data)}})
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return got
}

// reopenReplay opens dir, replays it, and closes it again.
func reopenReplay(t testing.TB, dir string, opts Options) []entry {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	got := replayAll(t, w)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return got
}

// mustLog logs recs and fails the test on error.
func mustLog(t testing.TB, w *WAL, recs ...Record) int {
	t.Helper()
	seg, err := w.Log(context.Background(), recs...)
	if err != nil {
		t.Fatalf("Log: %v", err)
	}
	return seg
}

// testData returns deterministic data of n bytes for record i; compressible
// when i is even.
func testData(i, n int) []byte {
	b := make([]byte, n)
	x := uint32(i)*2654435761 + 1
	for j := range b {
		if i%2 == 0 {
			b[j] = byte('a' + (j/16+i)%4)
			continue
		}
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[j] = byte(x)
	}
	return b
}

// segmentSizes returns the size of every segment file in dir by number.
func segmentSizes(t testing.TB, dir string) map[int]int64 {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[int]int64, len(segs))
	for _, s := range segs {
		m[s.n] = s.size
	}
	return m
}

func sumSizes(m map[int]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func TestWAL_Replay_RoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{SegmentSize: 4096, Compress: compress}
			w := mustOpen(t, dir, opts)
			var want []entry
			calls := map[int][]int{} // segment -> framed size of each call in it
			for i := 0; i < 300; {
				// Calls of 1 to 4 records, 0 to 900 bytes each; record 150 is a
				// call larger than SegmentSize.
				n := 1 + i%4
				var recs []Record
				for k := 0; k < n; k++ {
					size := (i * 37) % 900
					if i == 150 {
						size = 10000
					}
					recs = append(recs, Record{Type: byte(i % 128), Data: testData(i, size)})
					i++
				}
				seg := mustLog(t, w, recs...)
				for _, r := range recs {
					want = append(want, entry{seg, r})
				}
				calls[seg] = append(calls[seg], len(recs))
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			got := reopenReplay(t, dir, opts)
			if len(got) != len(want) {
				t.Fatalf("replayed %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].seg != want[i].seg || got[i].rec.Type != want[i].rec.Type ||
					!bytes.Equal(got[i].rec.Data, want[i].rec.Data) {
					t.Fatalf("record %d: got seg %d type %d len %d, want seg %d type %d len %d", i,
						got[i].seg, got[i].rec.Type, len(got[i].rec.Data),
						want[i].seg, want[i].rec.Type, len(want[i].rec.Data))
				}
			}
			if len(calls) < 10 {
				t.Errorf("records span %d segments, want many", len(calls))
			}
			for seg, size := range segmentSizes(t, dir) {
				if size > opts.SegmentSize && len(calls[seg]) != 1 {
					t.Errorf("segment %d has %d bytes > %d and %d calls, want an oversized call alone",
						seg, size, opts.SegmentSize, len(calls[seg]))
				}
			}
		})
	}
}

func TestWAL_Log_Compression(t *testing.T) {
	f := func(name string, compress bool, data []byte, wantFlag bool) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			w := mustOpen(t, dir, Options{Compress: compress})
			seg := mustLog(t, w, Record{Type: 7, Data: data})
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(segmentPath(dir, seg))
			if err != nil {
				t.Fatal(err)
			}
			raw = raw[segmentHeaderSize:]
			if got := raw[8]&flagSnappy != 0; got != wantFlag {
				t.Errorf("compression flag = %v, want %v", got, wantFlag)
			}
			if wantFlag && len(raw) >= headerSize+len(data) {
				t.Errorf("compressed record has %d bytes for %d of data", len(raw), len(data))
			}
			if !wantFlag && len(raw) != headerSize+len(data) {
				t.Errorf("record has %d bytes, want %d", len(raw), headerSize+len(data))
			}
			got := reopenReplay(t, dir, Options{})
			if len(got) != 1 || got[0].rec.Type != 7 || !bytes.Equal(got[0].rec.Data, data) {
				t.Fatalf("replayed %+v, want the record back", got)
			}
		})
	}
	f("zeros compressed", true, make([]byte, 4096), true)
	f("zeros without Compress", false, make([]byte, 4096), false)
	f("random stays plain", true, testData(1, 4096), false)
	f("short stays plain", true, make([]byte, minCompressSize-1), false)
	f("empty", true, nil, false)
}

func TestWAL_Log_InvalidRecord(t *testing.T) {
	w := mustOpen(t, t.TempDir(), Options{})
	_, err := w.Log(context.Background(), Record{Type: 1}, Record{Type: 128})
	if !errors.Is(err, ErrInvalidType) {
		t.Fatalf("Log(type 128) = %v, want ErrInvalidType", err)
	}
	if got := replayAll(t, w); len(got) != 0 {
		t.Fatalf("replay after rejected call: %d records", len(got))
	}
	if w.Size() != segmentHeaderSize {
		t.Fatalf("Size = %d after a rejected call, want the header's %d", w.Size(), segmentHeaderSize)
	}
}

func TestWAL_Open_InvalidOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"negative segment size": {SegmentSize: -1},
		"negative pending":      {MaxPendingBytes: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(t.TempDir(), o); !errors.Is(err, ErrInvalidOptions) {
				t.Fatalf("Open = %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestWAL_Open_NewSegment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	w, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := mustLog(t, w, Record{Type: 1, Data: []byte("one")})
	if first != 1 {
		t.Fatalf("first segment = %d, want 1", first)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := segmentSizes(t, dir)[first]

	w = mustOpen(t, dir, Options{})
	if f, l, err := w.Segments(); err != nil || f != 1 || l != 2 {
		t.Fatalf("Segments = %d, %d, %v; want 1, 2", f, l, err)
	}
	if seg := mustLog(t, w, Record{Type: 2, Data: []byte("two")}); seg != 2 {
		t.Fatalf("Log after reopen went to segment %d, want 2", seg)
	}
	if got := segmentSizes(t, dir)[first]; got != before {
		t.Fatalf("old segment changed size from %d to %d", before, got)
	}
	got := replayAll(t, w)
	if len(got) != 1 || got[0].seg != 1 || string(got[0].rec.Data) != "one" {
		t.Fatalf("Replay = %+v, want only the old record", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := reopenReplay(t, dir, Options{}); len(got) != 2 || got[1].seg != 2 {
		t.Fatalf("second reopen replayed %+v, want both records", got)
	}
}

func TestWAL_Cut_Semantics(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{})
	s1 := mustLog(t, w, Record{Data: []byte("a")})
	s2, err := w.Cut()
	if err != nil || s2 != s1+1 {
		t.Fatalf("Cut = %d, %v; want %d", s2, err, s1+1)
	}
	if s3, err := w.Cut(); err != nil || s3 != s2 {
		t.Fatalf("Cut of an empty segment = %d, %v; want %d again", s3, err, s2)
	}
	if seg := mustLog(t, w, Record{Data: []byte("b")}); seg != s2 {
		t.Fatalf("Log after Cut = segment %d, want %d", seg, s2)
	}
	if f, l, err := w.Segments(); err != nil || f != s1 || l != s2 {
		t.Fatalf("Segments = %d, %d, %v; want %d, %d", f, l, err, s1, s2)
	}

	t.Run("concurrent logs", func(t *testing.T) {
		// A Log that returned before Cut was called must be below the cut; a
		// Log called after Cut returned must be at or above it.
		var cutCalled, cutReturned atomic.Bool
		var mu sync.Mutex
		var before, after []int
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 300 {
					startedAfter := cutReturned.Load()
					seg, err := w.Log(context.Background(), Record{Data: []byte{byte(g), byte(i)}})
					if err != nil {
						t.Error(err)
						return
					}
					returnedBefore := !cutCalled.Load()
					mu.Lock()
					if returnedBefore {
						before = append(before, seg)
					}
					if startedAfter {
						after = append(after, seg)
					}
					mu.Unlock()
				}
			})
		}
		for w.syncs.Load() < 30 {
			runtime.Gosched()
		}
		cutCalled.Store(true)
		seg, err := w.Cut()
		if err != nil {
			t.Fatal(err)
		}
		cutReturned.Store(true)
		wg.Wait()
		if len(before) == 0 {
			t.Fatal("no Log returned before Cut; the test proves nothing")
		}
		for _, s := range before {
			if s >= seg {
				t.Fatalf("a Log returned before Cut is in segment %d >= cut %d", s, seg)
			}
		}
		for _, s := range after {
			if s < seg {
				t.Fatalf("a Log called after Cut is in segment %d < cut %d", s, seg)
			}
		}
		t.Logf("%d logs before the cut, %d after, cut at %d", len(before), len(after), seg)
	})
}

func TestWAL_Truncate_Segments(t *testing.T) {
	dir := t.TempDir()
	w := mustOpen(t, dir, Options{SegmentSize: 1000})
	segOf := map[int]int{}
	for i := range 60 {
		segOf[i] = mustLog(t, w, Record{Type: 1, Data: testData(2*i+1, 200)})
	}
	first, last, err := w.Segments()
	if err != nil || first != 1 || last < 6 {
		t.Fatalf("Segments = %d, %d, %v; want 1 and at least 6", first, last, err)
	}
	if got, want := w.Size(), sumSizes(segmentSizes(t, dir)); got != want {
		t.Fatalf("Size = %d, files hold %d", got, want)
	}

	t.Run("below 3", func(t *testing.T) {
		if err := w.Truncate(3); err != nil {
			t.Fatal(err)
		}
		sizes := segmentSizes(t, dir)
		if _, ok := sizes[1]; ok {
			t.Error("segment 1 still exists")
		}
		if _, ok := sizes[2]; ok {
			t.Error("segment 2 still exists")
		}
		if f, _, _ := w.Segments(); f != 3 {
			t.Errorf("first segment = %d, want 3", f)
		}
		if got, want := w.Size(), sumSizes(sizes); got != want {
			t.Errorf("Size = %d, files hold %d", got, want)
		}
	})
	t.Run("past current keeps current", func(t *testing.T) {
		if err := w.Truncate(last + 100); err != nil {
			t.Fatal(err)
		}
		f, l, err := w.Segments()
		if err != nil || f != last || l != last {
			t.Fatalf("Segments = %d, %d, %v; want only current %d", f, l, err, last)
		}
		if seg := mustLog(t, w, Record{Data: []byte("still writing")}); seg != last {
			t.Fatalf("Log after Truncate = segment %d, want %d", seg, last)
		}
		if got, want := w.Size(), sumSizes(segmentSizes(t, dir)); got != want {
			t.Fatalf("Size = %d, files hold %d", got, want)
		}
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("replay sees the rest", func(t *testing.T) {
		got := reopenReplay(t, dir, Options{})
		var want int
		for _, s := range segOf {
			if s == last {
				want++
			}
		}
		if len(got) != want+1 {
			t.Fatalf("replayed %d records, want %d", len(got), want+1)
		}
		for _, e := range got {
			if e.seg != last {
				t.Fatalf("replayed a record of truncated segment %d", e.seg)
			}
		}
	})
}

func TestWAL_Methods_AfterClose(t *testing.T) {
	w, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, err := w.Log(context.Background(), Record{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Log = %v, want ErrClosed", err)
	}
	if _, err := w.Cut(); !errors.Is(err, ErrClosed) {
		t.Errorf("Cut = %v, want ErrClosed", err)
	}
	if err := w.Replay(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Replay = %v, want ErrClosed", err)
	}
	if err := w.Truncate(10); !errors.Is(err, ErrClosed) {
		t.Errorf("Truncate = %v, want ErrClosed", err)
	}
	if _, _, err := w.Segments(); !errors.Is(err, ErrClosed) {
		t.Errorf("Segments = %v, want ErrClosed", err)
	}
}

func TestSegment_ParseName(t *testing.T) {
	f := func(name string, want int, wantOK bool) {
		t.Helper()
		got, ok := parseSegmentName(name)
		if got != want || ok != wantOK {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", name, got, ok, want, wantOK)
		}
	}
	f("00000001.seg", 1, true)
	f("99999999.seg", 99999999, true)
	f(segmentName(42), 42, true)
	f("0000001.seg", 0, false)
	f("000000001.seg", 0, false)
	f("0000000a.seg", 0, false)
	f("00000001.se", 0, false)
	f("00000001.seg.tmp", 0, false)
	f("+0000001.seg", 0, false)
}

func TestWAL_Open_IgnoresForeignFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"README", "00000007.seg.bak", "1.seg"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("not a segment"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "00000009.seg"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := mustOpen(t, dir, Options{})
	if f, l, err := w.Segments(); err != nil || f != 1 || l != 1 {
		t.Fatalf("Segments = %d, %d, %v; want 1, 1", f, l, err)
	}
	if got := replayAll(t, w); len(got) != 0 {
		t.Fatalf("replayed %d records from foreign files", len(got))
	}
}
