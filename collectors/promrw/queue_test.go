package promrw

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"outpost/tsdb"
)

// record returns a record payload of n samples of series name.
func record(name string, n int, t0 int64) []byte {
	s := make([]tsdb.Sample, n)
	for i := range s {
		s[i] = tsdb.Sample{T: t0 + int64(i), V: float64(i)}
	}
	return appendTimeSeries(nil, tsdb.Labels{{Name: "__name__", Value: name}}, s)
}

func openQueue(t testing.TB, dir string, max int64) *Queue {
	t.Helper()
	q, err := OpenQueue(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// readAll reads and commits everything, returning the requests.
func readAll(t *testing.T, q *Queue, max int) (reqs [][]byte, samples int) {
	t.Helper()
	for {
		b, err := q.Read(nil, max)
		if err != nil {
			t.Fatal(err)
		}
		if b.Samples == 0 {
			return reqs, samples
		}
		reqs = append(reqs, b.Request)
		samples += b.Samples
		if err := q.Commit(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQueue_ReopenResumesAtCursor(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir, 1<<20)
	for i := range 10 {
		if _, err := q.Append(10, record(fmt.Sprint("m", i), 10, 0)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := q.Read(nil, 30)
	if err != nil || b.Samples != 30 {
		t.Fatalf("read: %d samples, %v", b.Samples, err)
	}
	want := append(append(record("m0", 10, 0), record("m1", 10, 0)...), record("m2", 10, 0)...)
	if !bytes.Equal(b.Request, want) {
		t.Fatal("a batch is not its records' payloads concatenated")
	}
	if err := q.Commit(b); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Read(nil, 30); err != nil { // read, not committed: sent again
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q = openQueue(t, dir, 1<<20)
	defer q.Close()
	if st := q.Stats(); st.Pending != 70 {
		t.Fatalf("pending after reopen = %d, want 70", st.Pending)
	}
	reqs, n := readAll(t, q, 1000)
	if n != 70 || len(reqs) != 1 || !bytes.HasPrefix(reqs[0], record("m3", 10, 0)) {
		t.Fatalf("after reopen read %d samples in %d requests, want 70 from m3 on", n, len(reqs))
	}
	if st := q.Stats(); st.Pending != 0 || st.Bytes != 0 {
		t.Fatalf("stats after reading everything: %+v", st)
	}
}

func TestQueue_SizeBoundDropsOldest(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir, 1<<20) // segments of 128 KiB
	defer q.Close()
	rec := record("m", 100, 0) // about 1.2 KiB
	var dropped int64
	for range 3000 {
		d, err := q.Append(100, rec)
		if err != nil {
			t.Fatal(err)
		}
		dropped += d
	}
	st := q.Stats()
	if st.Bytes > 1<<20 || dropped == 0 || st.Dropped != dropped {
		t.Fatalf("stats %+v, dropped %d: want bytes within 1 MiB and drops counted", st, dropped)
	}
	if st.Pending+dropped != 300_000 {
		t.Fatalf("pending %d + dropped %d != 300000 appended", st.Pending, dropped)
	}
	_, n := readAll(t, q, 10_000)
	if int64(n) != st.Pending {
		t.Fatalf("read %d samples, pending said %d", n, st.Pending)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) > 2 {
		t.Fatalf("%d segments left after reading everything", len(segs))
	}
}

func TestQueue_TornTail(t *testing.T) {
	for _, cut := range []int{1, 5, recordHeader, recordHeader + 3} {
		t.Run(fmt.Sprint("cut", cut), func(t *testing.T) {
			dir := t.TempDir()
			q := openQueue(t, dir, 1<<20)
			for range 3 {
				if _, err := q.Append(5, record("m", 5, 0)); err != nil {
					t.Fatal(err)
				}
			}
			q.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
			last := segs[len(segs)-1]
			fi, _ := os.Stat(last)
			if err := os.Truncate(last, fi.Size()-int64(cut)); err != nil {
				t.Fatal(err)
			}
			q = openQueue(t, dir, 1<<20)
			defer q.Close()
			if _, err := q.Append(5, record("after", 5, 0)); err != nil {
				t.Fatal(err)
			}
			_, n := readAll(t, q, 1000)
			if n != 15 { // two whole records, the torn one lost, the new one read
				t.Fatalf("read %d samples, want 15", n)
			}
		})
	}
}

func TestQueue_DamagedCursorResendsFromStart(t *testing.T) {
	dir := t.TempDir()
	q := openQueue(t, dir, 1<<20)
	q.Append(5, record("m", 5, 0))
	q.Close()
	if err := os.WriteFile(filepath.Join(dir, "cursor"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	q = openQueue(t, dir, 1<<20)
	defer q.Close()
	if _, n := readAll(t, q, 100); n != 5 {
		t.Fatalf("read %d samples, want 5 (sent again, never lost)", n)
	}
}

// FuzzQueueSegment feeds decodeRecord and scanSegment arbitrary segment
// bytes: no panic, and a record read back re-encodes to the same bytes.
func FuzzQueueSegment(f *testing.F) {
	f.Add(appendRecord(nil, 3, record("m", 3, 1700000000000)))
	f.Add(appendRecord(appendRecord(nil, 1, []byte("x")), 2, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<20 {
			return
		}
		end, _ := scanSegment(b, 0)
		if end > int64(len(b)) {
			t.Fatalf("end %d past %d bytes", end, len(b))
		}
		if n, p, size, err := decodeRecord(b); err == nil {
			if !bytes.Equal(appendRecord(nil, n, p), b[:size]) {
				t.Fatal("record does not re-encode to its bytes")
			}
		}
		decodeCursor(b)
	})
}

// BenchmarkQueue_Append measures queueing one 500-sample record.
// go test -run - -bench Queue_Append ./collectors/promrw/
func BenchmarkQueue_Append(b *testing.B) {
	q := openQueue(b, b.TempDir(), 64<<20)
	defer q.Close()
	rec := record("cpu_usage_idle", 500, 1700000000000)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.Append(500, rec); err != nil {
			b.Fatal(err)
		}
	}
}
