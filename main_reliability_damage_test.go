package main

// Issue 8, "damage found and named": the real binary started on copies of a
// store whose day files or index.db were cut, flipped, zeroed, emptied or
// deleted. Each row of the table says whether outpost started (or refused
// with one line naming the file), whether its log names the file, how many
// acknowledged samples are gone against how many the damaged file held,
// and how many wrong values were served (always 0). The WAL rows are in
// another test.

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// damageData writes 100 series, a sample every 30 s over the 50 hours
// before now (three day files), stops outpost so that everything is in the
// day files, and returns the data directory and the acknowledged samples.
func damageData(t *testing.T) (string, []ackedSample, time.Time) {
	t.Helper()
	dir := t.TempDir()
	srv := startServer(t, dir)
	client := &http.Client{Timeout: 30 * time.Second}
	start := time.Now().UTC()
	now := start.Truncate(time.Minute).UnixMilli()
	var acked []ackedSample
	var body strings.Builder
	var batch []ackedSample
	flush := func() {
		code, msg, err := post(context.Background(), client, srv.base, "db=e2e", body.String())
		if err != nil || code != http.StatusNoContent {
			t.Fatalf("write: %d %s %v", code, msg, err)
		}
		acked = append(acked, batch...)
		body.Reset()
		batch = batch[:0]
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for ts := now - 50*3600_000; ts < now-60_000; ts += 30_000 {
		for h := range 100 {
			v := float64(rng.IntN(1_000_000)) / 1000
			fmt.Fprintf(&body, "dmg,host=h%d value=%v %d\n", h, v, ts*1_000_000)
			batch = append(batch, ackedSample{fmt.Sprintf("dmg_value,db=e2e,host=h%d", h), ts, v})
		}
		if len(batch) >= 5000 {
			flush()
		}
	}
	flush()
	srv.stop()
	return dir, acked, start
}

// damageCopy copies a data directory.
func damageCopy(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("copy %s: %v %s", src, err, out)
	}
	return dst
}

// damageStart starts outpost on dir: the server, or nil and its log when
// it exited instead.
func damageStart(t *testing.T, dir string) (*server, string) {
	t.Helper()
	port := freePort(t)
	cfg := filepath.Join(t.TempDir(), "outpost.yml")
	yml := fmt.Sprintf("storage:\n  path: %s\n  epoch_grace: 0s\nhttp:\n  addr: 127.0.0.1:%d\ngraphite:\n  addr: \"\"\ncollectd:\n  addr: \"\"\nhost:\n  enabled: false\n", dir, port)
	if err := os.WriteFile(cfg, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), log: new(logBuffer), done: make(chan error, 1)}
	s.cmd = exec.Command(outpostBinary(t), "-config", cfg)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(s.base + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s, ""
			}
		}
		select {
		case <-s.done:
			return nil, s.log.String()
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.kill()
	t.Fatalf("outpost neither answered /ping nor exited within 30 s\n%s", s.log)
	return nil, ""
}

// Ways to damage a file.

func damageTruncate(frac float64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(path, int64(float64(st.Size())*frac)); err != nil {
			t.Fatal(err)
		}
	}
}

// damageTruncateUsed cuts a bbolt file to frac of the pages its first meta
// says are in use (the file grows ahead of them, so a cut of the file may
// miss them).
func damageTruncateUsed(frac float64) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		b := make([]byte, 64)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.ReadAt(b, 0)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		ps, hwm := binary.LittleEndian.Uint32(b[16+8:]), binary.LittleEndian.Uint64(b[16+40:])
		if err := os.Truncate(path, int64(float64(uint64(ps)*hwm)*frac)); err != nil {
			t.Fatal(err)
		}
	}
}

// damagePageSize returns the bbolt page size of a file, from its first meta.
func damagePageSize(t *testing.T, path string) int64 {
	t.Helper()
	var h [32]byte
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(h[:], 0); err != nil {
		t.Fatal(err)
	}
	return int64(binary.LittleEndian.Uint32(h[16+8:]))
}

// damageFlipPerPage flips one random bit in every page.
func damageFlipPerPage(t *testing.T, path string) {
	ps := damagePageSize(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(len(b)), 9))
	for off := int64(0); off < int64(len(b)); off += ps {
		b[off+rng.Int64N(min(ps, int64(len(b))-off))] ^= 1 << rng.IntN(8)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func damageZeroMetas(t *testing.T, path string) {
	ps := damagePageSize(t, path)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, 2*ps), 0); err != nil {
		t.Fatal(err)
	}
}

// damageFlipString flips a bit in the first copy of s in the file.
func damageFlipString(s string) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(b, []byte(s))
		if i < 0 {
			t.Fatalf("%q not in %s", s, path)
		}
		b[i+len(s)-1] ^= 0x02
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func damageDelete(t *testing.T, path string) {
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// damageDropLabels deletes a day file's series and symbols buckets, as in
// a file written before day files carried labels.
func damageDropLabels(t *testing.T, path string) {
	db, err := bolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range []string{"series", "symbols"} {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReliability_Damage(t *testing.T) {
	soak(t)
	if testing.Short() {
		t.Skip("damage table starts outpost 18 times")
	}
	base, acked, now := damageData(t)
	yesterday := now.Add(-24 * time.Hour).Format("20060102")
	twoDaysAgo := now.Add(-48 * time.Hour).Format("20060102")
	inDay := func(day string) int {
		n := 0
		for _, a := range acked {
			if time.UnixMilli(a.t).UTC().Format("20060102") == day {
				n++
			}
		}
		return n
	}
	type row struct {
		file    string // under the data directory
		damage  string
		do      func(t *testing.T, path string)
		maxLost int    // acknowledged samples the damage may destroy: those the file held, or none
		refuse  string // when outpost must refuse to start: a file the one line names
		named   bool   // the damage is certain to be found (a flipped bit may land in unused space)
	}
	day := func(d string) string { return "parts/" + d + ".db" }
	rows := []row{
		{day(yesterday), "cut to 0", damageTruncate(0), inDay(yesterday), "", true},
		{day(yesterday), "cut to 25 %", damageTruncate(0.25), inDay(yesterday), "", true},
		{day(yesterday), "cut to 50 %", damageTruncate(0.5), inDay(yesterday), "", true},
		{day(yesterday), "a bit flipped per page", damageFlipPerPage, inDay(yesterday), "", false},
		{day(yesterday), "meta pages zeroed", damageZeroMetas, 0, "", true},
		{day(twoDaysAgo), "cut to 25 % (read-only day)", damageTruncate(0.25), inDay(twoDaysAgo), "", true},
		{day(twoDaysAgo), "a bit flipped per page (read-only day)", damageFlipPerPage, inDay(twoDaysAgo), "", false},
		{day(twoDaysAgo), "meta pages zeroed (read-only day)", damageZeroMetas, 0, "", true},
		{"index.db", "cut to 50 %", damageTruncate(0.5), 0, "", false},
		{"index.db", "cut to 50 % of its pages in use", damageTruncateUsed(0.5), 0, "", true},
		{"index.db", "a bit flipped per page", damageFlipPerPage, 0, "", false},
		{"index.db", "a bit flipped in a label value", damageFlipString("h42"), 0, "", true},
		{"index.db", "meta pages zeroed", damageZeroMetas, 0, "", true},
		{"index.db", "emptied", damageTruncate(0), 0, "", true},
		{"index.db", "deleted", damageDelete, 0, "", true},
		{"index.db", "deleted, and no day file carries labels (as written before they did)", func(t *testing.T, path string) {
			damageDelete(t, path)
			damageDropLabels(t, filepath.Join(filepath.Dir(path), day(yesterday)))
			damageDropLabels(t, filepath.Join(filepath.Dir(path), day(twoDaysAgo)))
			damageDropLabels(t, filepath.Join(filepath.Dir(path), day(now.Format("20060102"))))
		}, 0, day(twoDaysAgo), true},
	}
	t.Logf("%d acknowledged samples; yesterday's file holds %d, the one before %d", len(acked), inDay(yesterday), inDay(twoDaysAgo))
	var table []string
	for _, r := range rows {
		t.Run(r.file+" "+r.damage, func(t *testing.T) {
			dir := damageCopy(t, base)
			path := filepath.Join(dir, r.file)
			r.do(t, path)
			srv, exitLog := damageStart(t, dir)
			held := "–"
			if strings.HasPrefix(r.file, "parts/") {
				held = fmt.Sprint(inDay(strings.TrimSuffix(strings.TrimPrefix(r.file, "parts/"), ".db")))
			}
			if srv == nil {
				checkNoPanic(t, exitLog)
				line := lastLine(exitLog)
				if r.refuse == "" || !strings.Contains(line, filepath.Join(dir, r.refuse)) || !strings.Contains(line, path) {
					t.Fatalf("outpost refused to start: %s", exitLog)
				}
				msg := line[strings.Index(line, "err="):]
				msg = strings.ReplaceAll(msg, dir+"/", "")
				table = append(table, fmt.Sprintf("| %s | %s | refuses: %s | yes | none served, none lost on disk | 0 |", r.file, r.damage, msg))
				return
			}
			defer srv.stop()
			if r.refuse != "" {
				t.Fatalf("outpost started; want a refusal naming %s", r.refuse)
			}
			got := srv.export(`{__name__="dmg_value"}`)
			lost, wrong := 0, 0
			want := make(map[string]map[int64]float64)
			for _, a := range acked {
				if want[a.series] == nil {
					want[a.series] = make(map[int64]float64)
				}
				want[a.series][a.t] = a.v
				if _, ok := got[a.series][a.t]; !ok {
					lost++
				}
			}
			for s, ts := range got {
				for ts, v := range ts {
					if w, ok := want[s][ts]; !ok || w != v {
						wrong++
					}
				}
			}
			log := srv.log.String()
			checkNoPanic(t, log)
			reason := damageReason(log, path)
			named := reason != ""
			if wrong != 0 {
				t.Errorf("%d wrong values served", wrong)
			}
			if lost > r.maxLost {
				t.Errorf("%d acknowledged samples lost, the damage destroyed at most %d", lost, r.maxLost)
			}
			if r.named && !named {
				t.Errorf("no ERROR line names %s:\n%s", path, log)
			}
			if lost > 0 && !named {
				t.Errorf("%d acknowledged samples lost and the log does not name %s:\n%s", lost, path, log)
			}
			table = append(table, fmt.Sprintf("| %s | %s | starts | %s | %d of %s | %d |", r.file, r.damage, orNothing(reason), lost, held, wrong))
		})
	}
	t.Logf("\n| file | damage | start | the log names the file: reason | acked samples lost (of those in the file) | wrong values |\n|---|---|---|---|---|---|\n%s", strings.Join(table, "\n"))
}

func checkNoPanic(t *testing.T, log string) {
	t.Helper()
	for _, s := range []string{"panic:", "fatal error:", "goroutine "} {
		if strings.Contains(log, s) {
			t.Fatalf("outpost panicked:\n%s", log)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// damageReason returns what the ERROR line naming path says is wrong, or
// "" when no ERROR line names it.
func damageReason(log, path string) string {
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "level=ERROR") || !strings.Contains(l, path) {
			continue
		}
		if i := strings.Index(l, "reason="); i >= 0 {
			r := l[i+len("reason="):]
			if j := strings.Index(r, " moved_to="); j >= 0 {
				r = r[:j]
			}
			return r
		}
		if i := strings.Index(l, "err="); i >= 0 {
			return l[i:]
		}
		return l
	}
	return ""
}

func orNothing(reason string) string {
	if reason == "" {
		return "no ERROR (nothing lost)"
	}
	return "yes: " + reason
}
