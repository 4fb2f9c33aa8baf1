package main

// Issue 8, "a full disk, survived": the real binary on a 64 MiB tmpfs that
// fills up while writers keep sending, then gets room again.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size on a new temporary directory, or skips
// the test when it cannot (not root, no mount(8), no permission).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes dir/filler until the file system has no page left and
// returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{1}, 1<<20)
	for n := len(buf); n >= 4096; {
		if _, err := f.Write(buf[:n]); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill disk: %v", err)
			}
			n /= 2
		}
	}
	return p
}

// diskWriters posts line protocol from several goroutines until stopped,
// keeping the samples a 204 acknowledged and every answer's status.
type diskWriters struct {
	base   string
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	acked      []ackedSample
	codes      map[int]int // status -> answers
	noRetry    int         // 503s without Retry-After
	bodies     []string    // the first bodies of answers other than 204 and 503
	last204    time.Time   // when the latest 204 arrived
	last503    time.Time
	seq        int64
	firstTS    int64
	errStrings []string
}

func startDiskWriters(base string, writers int) *diskWriters {
	ctx, cancel := context.WithCancel(context.Background())
	dw := &diskWriters{base: base, cancel: cancel, codes: make(map[int]int),
		firstTS: time.Now().Add(-10 * time.Minute).UnixMilli()}
	for w := range writers {
		dw.wg.Go(func() { dw.run(ctx, w) })
	}
	return dw
}

func (dw *diskWriters) run(ctx context.Context, w int) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		dw.mu.Lock()
		dw.seq++
		my := dw.seq
		dw.mu.Unlock()
		var body strings.Builder
		var batch []ackedSample
		for i := range 100 {
			ts := dw.firstTS + my*100 + int64(i)
			v := float64(my*100 + int64(i))
			fmt.Fprintf(&body, "diskfull,host=h%d,writer=w%d value=%v %d\n", i%10, w, v, ts*1_000_000)
			batch = append(batch, ackedSample{fmt.Sprintf("diskfull_value,db=e2e,host=h%d,writer=w%d", i%10, w), ts, v})
		}
		req, _ := http.NewRequestWithContext(ctx, "POST", dw.base+"/write?db=e2e", strings.NewReader(body.String()))
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				dw.mu.Lock()
				dw.errStrings = append(dw.errStrings, err.Error())
				dw.mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		dw.mu.Lock()
		dw.codes[resp.StatusCode]++
		switch resp.StatusCode {
		case http.StatusNoContent:
			dw.acked = append(dw.acked, batch...)
			dw.last204 = time.Now()
		case http.StatusServiceUnavailable:
			dw.last503 = time.Now()
			if resp.Header.Get("Retry-After") == "" {
				dw.noRetry++
			}
		default:
			if len(dw.bodies) < 5 {
				dw.bodies = append(dw.bodies, fmt.Sprintf("%d %s", resp.StatusCode, b))
			}
		}
		dw.mu.Unlock()
		if resp.StatusCode == http.StatusServiceUnavailable {
			time.Sleep(100 * time.Millisecond) // as a client honouring Retry-After would, sooner
		}
	}
}

// since503 returns a waitFor condition: a write answered 503 after t.
func (dw *diskWriters) since503(t time.Time) func() string {
	return func() string {
		dw.mu.Lock()
		defer dw.mu.Unlock()
		if dw.last503.After(t) {
			return ""
		}
		return fmt.Sprintf("no write answered 503 on a full disk; answers so far %v", dw.codes)
	}
}

func (dw *diskWriters) stop() {
	dw.cancel()
	dw.wg.Wait()
}

// health returns GET /health's status and body.
func health(base string) (int, string) {
	resp, err := http.Get(base + "/health")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// checkAckedPresent checks that every acknowledged sample reads back.
func checkAckedPresent(t *testing.T, srv *server, acked []ackedSample) {
	t.Helper()
	got := srv.export(`{__name__="diskfull_value"}`)
	missing := 0
	for _, a := range acked {
		if v, ok := got[a.series][a.t]; !ok || v != a.v {
			if missing < 5 {
				t.Errorf("acknowledged sample lost: %s @%d = %v (got %v, present %v)", a.series, a.t, a.v, v, ok)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged samples lost", missing, len(acked))
	}
}

// TestReliability_DiskFull fills the disk under a running outpost: writes
// answer 503 with Retry-After and /health 503 with the reason while the WAL
// cannot append; once space is freed the same process takes writes again
// within 30 s with every acknowledged sample present; SIGTERM on a full disk
// exits 0 after saying what it could not flush, and the next start has it all.
func TestReliability_DiskFull(t *testing.T) {
	soak(t)
	if testing.Short() {
		t.Skip("fills a 64 MiB tmpfs")
	}
	mnt := mountTmpfs(t, "64m")
	dataDir := filepath.Join(mnt, "data")
	srv := startServer(t, dataDir)
	pid := srv.cmd.Process.Pid
	dw := startDiskWriters(srv.base, 3)
	defer dw.stop()
	time.Sleep(time.Second)
	if code, body := health(srv.base); code != http.StatusOK {
		t.Fatalf("/health before the disk fills = %d %s", code, body)
	}

	filler := fillDisk(t, mnt)
	fullAt := time.Now()
	waitFor(t, 20*time.Second, dw.since503(fullAt))
	code, body := health(srv.base)
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "write-ahead log cannot append: no space left on device") {
		t.Fatalf("/health on a full disk = %d %s, want 503 with the reason", code, body)
	}
	t.Logf("/health on a full disk: %d %s", code, strings.TrimSpace(body))
	time.Sleep(5 * time.Second) // writers keep trying: 503s, retries in the background

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freedAt := time.Now()
	writesBack := waitFor(t, 30*time.Second, func() string {
		dw.mu.Lock()
		defer dw.mu.Unlock()
		if dw.last204.After(freedAt) {
			return ""
		}
		return "no write answered 204 after space was freed"
	})
	healthBack := waitFor(t, 30*time.Second, func() string {
		if code, body := health(srv.base); code != http.StatusOK {
			return fmt.Sprintf("/health answers %d %s after space was freed", code, body)
		}
		return ""
	})
	t.Logf("space freed: writes answered 204 again after %v, /health 200 after %v",
		writesBack.Round(time.Millisecond), healthBack.Round(time.Millisecond))
	time.Sleep(time.Second)
	select {
	case err := <-srv.done:
		t.Fatalf("outpost exited during the test: %v\n%s", err, srv.log)
	default:
	}
	if srv.cmd.Process.Pid != pid {
		t.Fatal("outpost restarted")
	}
	dw.mu.Lock()
	acked := len(dw.acked)
	dw.mu.Unlock()
	checkAckedPresent(t, srv, dw.acked[:acked])
	t.Logf("%d acknowledged samples read back from the same process", acked)

	// SIGTERM on a full disk.
	filler = fillDisk(t, mnt)
	fullAt = time.Now()
	waitFor(t, 20*time.Second, dw.since503(fullAt))
	srv.cmd.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-srv.done:
	case <-time.After(30 * time.Second):
		srv.kill()
		t.Fatalf("outpost did not stop within 30 s of SIGTERM on a full disk\n%s", srv.log)
	}
	dw.stop()
	log := srv.log.String()
	if exitErr != nil {
		t.Fatalf("exit after SIGTERM on a full disk: %v, want status 0\n%s", exitErr, log)
	}
	t.Logf("SIGTERM on a full disk: exit status 0")
	for _, want := range []string{"wal cannot append", "wal appends again", "closing with samples not flushed to day files"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=ERROR") || strings.Contains(l, "appends again") || strings.Contains(l, "works again") {
			t.Logf("outpost: %s", l)
		}
	}
	if n := strings.Count(log, "level=ERROR"); n > 8 {
		t.Errorf("%d ERROR lines for two outages of seconds, want a few (the retries are rate-limited):\n%s", n, log)
	}

	dw.mu.Lock()
	t.Logf("answers: %v; 503 without Retry-After: %d; transport errors: %d", dw.codes, dw.noRetry, len(dw.errStrings))
	if dw.noRetry > 0 {
		t.Errorf("%d answers 503 without Retry-After", dw.noRetry)
	}
	for code, n := range dw.codes {
		if code != http.StatusNoContent && code != http.StatusServiceUnavailable {
			t.Errorf("%d answers %d, want only 204 and 503: %q", n, code, dw.bodies)
		}
	}
	if dw.codes[http.StatusServiceUnavailable] == 0 {
		t.Error("no write answered 503")
	}
	all := dw.acked
	dw.mu.Unlock()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, dataDir)
	defer srv.stop()
	checkAckedPresent(t, srv, all)
	t.Logf("%d acknowledged samples read back after the restart", len(all))
}
