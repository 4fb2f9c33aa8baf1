package wal

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// damagedSegment is a one-segment WAL of records laid out back to back.
type damagedSegment struct {
	recs []Record
	offs []int64 // offset of each record, then the segment size
	data []byte
}

// newDamagedSegment frames recs as a segment file would hold them.
func newDamagedSegment(recs ...Record) *damagedSegment {
	s := &damagedSegment{recs: recs}
	for _, r := range recs {
		s.offs = append(s.offs, int64(len(s.data)))
		s.data = append(s.data, rawRecord(r.Type, r.Data)...)
	}
	s.offs = append(s.offs, int64(len(s.data)))
	return s
}

// smallRecords returns n records of 20..59 bytes.
func smallRecords(n int) []Record {
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = Record{Type: byte(i % 100), Data: testData(2*i+1, 20+i%40)}
	}
	return recs
}

// replaySegments writes the segment files segs (by number) into a fresh
// directory, replays it and returns the records and the log.
func replaySegments(t *testing.T, segs map[int][]byte) (dir string, got []entry, log string) {
	t.Helper()
	dir = t.TempDir()
	for n, data := range segs {
		if err := os.WriteFile(segmentPath(dir, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logger, logs := testLogger()
	got = reopenReplay(t, dir, Options{Logger: logger})
	return dir, got, logs.String()
}

// checkReplayed checks that got holds exactly recs without the ones at the
// indexes in lost, in order.
func checkReplayed(t *testing.T, got []entry, recs []Record, lost ...int) {
	t.Helper()
	var want []Record
	for i, r := range recs {
		if !slices.Contains(lost, i) {
			want = append(want, r)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("replayed %d records, want %d (all but %v)", len(got), len(want), lost)
	}
	for i := range want {
		if got[i].rec.Type != want[i].Type || !bytes.Equal(got[i].rec.Data, want[i].Data) {
			t.Fatalf("replayed record %d differs (want all but %v, in order)", i, lost)
		}
	}
}

// wantLog checks that log has every one of parts.
func wantLog(t *testing.T, log string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(log, p) {
			t.Fatalf("log lacks %q:\n%s", p, log)
		}
	}
}

// TestWAL_Replay_EveryByteFlipped flips each byte of a segment in turn: the
// replay loses the record that holds the byte and nothing else. In the last
// record that is a torn tail (truncated, WARN); anywhere else it is damage
// (skipped, the file left as it is, ERROR).
func TestWAL_Replay_EveryByteFlipped(t *testing.T) {
	const n = 12
	s := newDamagedSegment(smallRecords(n)...)
	rec := 0
	for i := range s.data {
		for int64(i) >= s.offs[rec+1] {
			rec++
		}
		for _, mask := range []byte{0x01, 0x80} {
			d := bytes.Clone(s.data)
			d[i] ^= mask
			dir, got, log := replaySegments(t, map[int][]byte{1: d})
			if t.Failed() {
				return
			}
			checkReplayed(t, got, s.recs, rec)
			size := segmentSizes(t, dir)[1]
			if rec == n-1 {
				if size != s.offs[n-1] || !strings.Contains(log, "torn wal tail") {
					t.Fatalf("byte %d^%#x in the last record: size %d, want the tail cut at %d; log:\n%s", i, mask, size, s.offs[n-1], log)
				}
				continue
			}
			if size != int64(len(d)) {
				t.Fatalf("byte %d^%#x: segment cut to %d bytes, want it left as it is", i, mask, size)
			}
			wantLog(t, log, "level=ERROR", "segment=1", "damaged_regions=1",
				fmt.Sprintf("skipped_bytes=%d", s.offs[rec+1]-s.offs[rec]),
				fmt.Sprintf("records_after_damage=%d", n-1-rec), fmt.Sprintf("offset=%d", s.offs[rec]))
		}
	}
}

// TestWAL_Replay_Damage replays segments damaged in other ways.
func TestWAL_Replay_Damage(t *testing.T) {
	const n = 12
	recs := smallRecords(n)
	s := newDamagedSegment(recs...)

	t.Run("records 3 to 6 zeroed", func(t *testing.T) {
		d := bytes.Clone(s.data)
		clear(d[s.offs[3]:s.offs[7]])
		_, got, log := replaySegments(t, map[int][]byte{1: d})
		checkReplayed(t, got, recs, 3, 4, 5, 6)
		wantLog(t, log, "level=ERROR", fmt.Sprintf("skipped_bytes=%d", s.offs[7]-s.offs[3]))
	})
	t.Run("garbage between records 4 and 5", func(t *testing.T) {
		junk := make([]byte, 1000)
		_, _ = rand.NewChaCha8([32]byte{1}).Read(junk)
		d := slices.Concat(s.data[:s.offs[5]], junk, s.data[s.offs[5]:])
		_, got, log := replaySegments(t, map[int][]byte{1: d})
		checkReplayed(t, got, recs)
		wantLog(t, log, "level=ERROR", "skipped_bytes=1000", fmt.Sprintf("offset=%d", s.offs[5]))
	})
	t.Run("damage then a torn tail", func(t *testing.T) {
		d := bytes.Clone(s.data[:s.offs[n-1]+5])
		d[s.offs[2]+headerSize+1] ^= 0x10
		dir, got, log := replaySegments(t, map[int][]byte{1: d})
		checkReplayed(t, got, recs, 2, n-1)
		wantLog(t, log, "level=ERROR", "torn wal tail")
		if size := segmentSizes(t, dir)[1]; size != s.offs[n-1] {
			t.Fatalf("segment size %d, want the torn tail cut at %d", size, s.offs[n-1])
		}
	})
	t.Run("damage in every other record", func(t *testing.T) {
		d := bytes.Clone(s.data)
		var lost []int
		for i := 0; i < n-1; i += 2 {
			d[s.offs[i]+headerSize+3] ^= 0xff
			lost = append(lost, i)
		}
		_, got, log := replaySegments(t, map[int][]byte{1: d})
		checkReplayed(t, got, recs, lost...)
		wantLog(t, log, fmt.Sprintf("damaged_regions=%d", len(lost)))
	})
	t.Run("middle segment cut", func(t *testing.T) {
		cut := s.offs[5] + 7
		_, got, log := replaySegments(t, map[int][]byte{1: s.data[:cut], 2: s.data})
		want := slices.Concat(recs[:5], recs)
		checkReplayed(t, got, want)
		wantLog(t, log, "level=ERROR", "segment=1", fmt.Sprintf("skipped_bytes=%d", cut-s.offs[5]))
	})
	t.Run("middle segment flipped byte", func(t *testing.T) {
		d := bytes.Clone(s.data)
		d[s.offs[6]+headerSize+2] ^= 0x04
		_, got, log := replaySegments(t, map[int][]byte{1: d, 2: s.data})
		checkReplayed(t, got, slices.Concat(recs, recs), 6)
		wantLog(t, log, "level=ERROR", "segment=1", "records_after_damage=5")
	})
	t.Run("missing segment", func(t *testing.T) {
		_, got, log := replaySegments(t, map[int][]byte{1: s.data, 2: s.data, 5: s.data})
		checkReplayed(t, got, slices.Concat(recs, recs, recs))
		wantLog(t, log, "level=ERROR", "wal segment missing", "missing=\"00000003.seg to 00000004.seg\"", "count=2")
	})
	t.Run("compressed records", func(t *testing.T) {
		var crecs []Record
		for i := range 8 {
			crecs = append(crecs, Record{Type: 1, Data: testData(2*i, 500)})
		}
		dir := t.TempDir()
		w := mustOpen(t, dir, Options{Compress: true})
		for _, r := range crecs {
			mustLog(t, w, r)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		d := mustRead(t, segmentPath(dir, 1))
		d[len(d)/2] ^= 0x20
		_, got, log := replaySegments(t, map[int][]byte{1: d})
		if len(got) != len(crecs)-1 {
			t.Fatalf("replayed %d records, want %d", len(got), len(crecs)-1)
		}
		wantLog(t, log, "level=ERROR", "damaged_regions=1")
	})
}

// TestWAL_Replay_DamageBeforeLargeRecords checks the resynchronisation on
// records longer than resyncSmall, which must be followed by plausible
// headers, or the end of the segment, before their CRC is checked.
func TestWAL_Replay_DamageBeforeLargeRecords(t *testing.T) {
	big := func(i int) Record { return Record{Type: 7, Data: testData(2*i+1, resyncSmall+1000*i)} }
	f := func(name string, recs []Record, bad int) {
		t.Run(name, func(t *testing.T) {
			s := newDamagedSegment(recs...)
			d := bytes.Clone(s.data)
			d[s.offs[bad]+headerSize+10] ^= 0x01
			_, got, log := replaySegments(t, map[int][]byte{1: d})
			checkReplayed(t, got, recs, bad)
			wantLog(t, log, "level=ERROR", "damaged_regions=1")
		})
	}
	small := smallRecords(6)
	f("large record then small ones", []Record{small[0], small[1], big(1), small[2], small[3], small[4], small[5]}, 1)
	f("large records only", []Record{big(1), big(2), big(3), big(4), big(5), big(6)}, 1)
	f("large record last", []Record{small[0], small[1], big(1)}, 1)
	f("two large records last", []Record{small[0], small[1], big(1), big(2)}, 1)
}

// TestWAL_Replay_GarbageScanCost replays a segment whose one valid record is
// followed by 32 MiB of random bytes: the scan for a next record must stay
// linear, and the garbage is cut as a torn tail.
func TestWAL_Replay_GarbageScanCost(t *testing.T) {
	if testing.Short() {
		t.Skip("scans 32 MiB")
	}
	recs := smallRecords(1)
	s := newDamagedSegment(recs...)
	junk := make([]byte, 32<<20)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(junk)
	began := time.Now()
	dir, got, log := replaySegments(t, map[int][]byte{1: slices.Concat(s.data, junk)})
	took := time.Since(began)
	checkReplayed(t, got, recs)
	wantLog(t, log, "torn wal tail")
	if size := segmentSizes(t, dir)[1]; size != s.offs[1] {
		t.Fatalf("segment size %d, want %d", size, s.offs[1])
	}
	t.Logf("32 MiB of garbage scanned in %v", took.Round(time.Millisecond))
	if took > 60*time.Second {
		t.Fatalf("scan took %v", took)
	}
}
