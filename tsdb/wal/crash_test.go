package wal

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment of the writer child process of TestWAL_Crash_SIGKILL.
const (
	envCrashDir   = "OUTPOST_WAL_CRASH_DIR"
	envCrashRound = "OUTPOST_WAL_CRASH_ROUND"
)

// crashRecord is record n of goroutine g in round r of the crash test. Its
// size varies so that segments roll over while the child is being killed.
func crashRecord(r, g, n int) Record {
	head := fmt.Sprintf("%d %d %d ", r, g, n)
	size := len(head) + (r*7919+g*104729+n*31)%3000
	d := make([]byte, size)
	copy(d, head)
	for i := len(head); i < size; i++ {
		d[i] = byte(r*3 + g*5 + n*7 + i)
	}
	return Record{Type: byte(10 + g), Data: d}
}

// TestWAL_Crash_SIGKILL runs a writer in a child process (this test binary
// re-executed), kills it with SIGKILL at a random moment, and checks that
// every record the child had acknowledged replays intact. The page cache
// survives SIGKILL, so this tests the framing, group commit and recovery
// logic, not the disk's flush: that would need a power cut.
func TestWAL_Crash_SIGKILL(t *testing.T) {
	if dir := os.Getenv(envCrashDir); dir != "" {
		crashChild(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	dir := t.TempDir()
	acked := map[string]bool{}
	tornTails := 0
	for round := range 10 {
		for k, v := range runCrashChild(t, dir, round, time.Duration(rng.IntN(300))*time.Millisecond) {
			acked[k] = v
		}
		found := map[string]bool{}
		logger, logs := testLogger()
		for _, e := range reopenReplay(t, dir, Options{Logger: logger}) {
			var r, g, n int
			if _, err := fmt.Sscanf(string(e.rec.Data), "%d %d %d ", &r, &g, &n); err != nil {
				t.Fatalf("round %d: unreadable record in segment %d: %v", round, e.seg, err)
			}
			want := crashRecord(r, g, n)
			if e.rec.Type != want.Type || string(e.rec.Data) != string(want.Data) {
				t.Fatalf("round %d: record %d/%d/%d replays with other content", round, r, g, n)
			}
			key := fmt.Sprintf("%d %d %d", r, g, n)
			if found[key] {
				t.Fatalf("round %d: record %s replayed twice", round, key)
			}
			found[key] = true
		}
		missing := 0
		for k := range acked {
			if !found[k] {
				missing++
				t.Errorf("round %d: acknowledged record %s is missing", round, k)
			}
		}
		if missing > 0 {
			t.FailNow()
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Fatalf("round %d: replay found damage, not just a torn tail: %s", round, logs)
		}
		if strings.Contains(logs.String(), "torn wal tail") {
			tornTails++
		}
		t.Logf("round %d: %d acknowledged so far, %d replayed", round, len(acked), len(found))
	}
	if len(acked) == 0 {
		t.Fatal("no record was ever acknowledged; the test proves nothing")
	}
	t.Logf("%d of 10 kills left a torn tail", tornTails)
}

// runCrashChild starts the writer child for one round, kills it with
// SIGKILL extra after its first acknowledgement, and returns the records it
// acknowledged on stdout.
func runCrashChild(t *testing.T, dir string, round int, extra time.Duration) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestWAL_Crash_SIGKILL$", "-test.count=1")
	cmd.Env = append(os.Environ(), envCrashDir+"="+dir, fmt.Sprintf("%s=%d", envCrashRound, round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	first := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			// Each acknowledgement is printed with one small write(2) to a
			// pipe, which is atomic: a line is whole or absent.
			if k, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				acked[k] = true
				once.Do(func() { close(first) })
			}
		}
	})
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Error("child acknowledged nothing within 10s")
	}
	time.Sleep(extra)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	wg.Wait()
	_ = cmd.Wait() // "signal: killed"
	return acked
}

// crashChild is the writer process: 4 goroutines log records as fast as
// they can and print each acknowledgement, until killed (or 10s pass).
func crashChild(t *testing.T, dir string) {
	var round int
	if _, err := fmt.Sscan(os.Getenv(envCrashRound), &round); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, Options{SegmentSize: 64 << 10, Compress: round%2 == 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 4 {
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n += 2 {
				// Two records per call, so calls also test one-segment batches.
				if _, err := w.Log(context.Background(), crashRecord(round, g, n), crashRecord(round, g, n+1)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %d %d %d\nack %d %d %d\n", round, g, n, round, g, n+1)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
