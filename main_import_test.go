package main

// End-to-end tests of outpost import: progress, resume after SIGKILL with
// no sample missing or duplicated, the export | import round trip, and the
// answers to refusals and overload.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// writeImportFile writes series*points line-protocol samples (two fields a
// line) one hour ago and returns the samples as export reads them back.
func writeImportFile(t *testing.T, path string, series, points int) map[string]map[int64]float64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Now().Add(-time.Hour).Truncate(time.Minute).UnixMilli()
	want := map[string]map[int64]float64{}
	for s := range series {
		a, b := map[int64]float64{}, map[int64]float64{}
		want[fmt.Sprintf("imp_a,host=h%d", s)], want[fmt.Sprintf("imp_b,host=h%d", s)] = a, b
		for i := range points / 2 {
			ts := base + int64(i)*100
			fmt.Fprintf(w, "imp,host=h%d a=%d,b=%d.5 %d\n", s, i, s, ts)
			a[ts], b[ts] = float64(i), float64(s)+0.5
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// compareSamples reports samples missing from got, extra in it, or unequal.
func compareSamples(t *testing.T, got, want map[string]map[int64]float64) {
	t.Helper()
	var n, bad int
	for key, w := range want {
		g := got[key]
		for ts, v := range w {
			n++
			if gv, ok := g[ts]; !ok || gv != v {
				if bad++; bad < 5 {
					t.Errorf("%s @%d: got %v (present %v), want %v", key, ts, gv, ok, v)
				}
			}
		}
		if len(g) != len(w) {
			t.Errorf("%s: %d samples, want %d", key, len(g), len(w))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d series, want %d", len(got), len(want))
	}
	if bad > 0 {
		t.Errorf("%d of %d samples wrong or missing", bad, n)
	}
}

// killImportMidway starts an import and SIGKILLs it once its state file
// records at least a third of the input; it returns the offset reached.
func killImportMidway(t *testing.T, args []string, state string, size int64) int64 {
	t.Helper()
	cmd := exec.Command(outpostBinary(t), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		st, found, err := loadState(state)
		if err == nil && found && st.Offset >= size/3 {
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			t.Logf("killed at byte %d of %d; its stderr:\n%s", st.Offset, size, stderr.String())
			return st.Offset
		}
		select {
		case err := <-done:
			t.Fatalf("import finished before it could be killed (%v):\n%s", err, stderr.String())
		case <-time.After(2 * time.Millisecond):
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-done
	t.Fatalf("import did not get a third of the way in 2 minutes:\n%s", stderr.String())
	return 0
}

// importKillResume imports file into s, killed once mid-way and resumed,
// and checks the result against want.
func importKillResume(t *testing.T, s *server, file string, want map[string]map[int64]float64, match string, extra ...string) {
	t.Helper()
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	state := file + ".import-state"
	args := append([]string{"import", file, "-url", s.base}, extra...)
	killImportMidway(t, args, state, st.Size())

	// Without -resume an existing state file is refused.
	if code, _, errs := runCLI(t, args...); code != 1 || !strings.Contains(errs, "-resume") {
		t.Errorf("import with a state file and no -resume: exit %d %q; want 1 naming -resume", code, errs)
	}
	code, _, errs := runCLI(t, append(args, "-resume")...)
	if code != 0 {
		t.Fatalf("import -resume: exit %d\n%s", code, errs)
	}
	t.Logf("import -resume stderr:\n%s", errs)
	if !strings.Contains(errs, "resuming") || !strings.Contains(errs, "outpost import: done:") {
		t.Errorf("import -resume stderr lacks the resume or done line:\n%s", errs)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file left after a complete import: %v", err)
	}
	compareSamples(t, s.export(match), want)
}

// TestImport_100kResumedAfterKill imports 100 k samples of line protocol in
// small batches, SIGKILLs the import a third of the way, resumes it, and
// counts every series and timestamp through export.
func TestImport_100kResumedAfterKill(t *testing.T) {
	s := startServer(t, t.TempDir())
	defer s.stop()
	file := filepath.Join(t.TempDir(), "in.lp")
	want := writeImportFile(t, file, 100, 1000)
	importKillResume(t, s, file, want, `{__name__=~"imp_.*"}`, "-batch-bytes", "16384", "-progress-every", "20ms", "-precision", "ms")
}

// TestImport_10MResumedAfterKill is the 10 M-sample version (SOAK=1).
func TestImport_10MResumedAfterKill(t *testing.T) {
	soak(t)
	s := startServer(t, t.TempDir())
	defer s.stop()
	file := filepath.Join(t.TempDir(), "in.lp")
	want := writeImportFile(t, file, 1000, 10000)
	importKillResume(t, s, file, want, `{__name__=~"imp_.*"}`, "-progress-every", "2s", "-precision", "ms")
}

// TestImport_CLIExportPipe pipes GET /api/v1/export of one outpost into
// outpost import - of another: the exports are then byte for byte equal.
func TestImport_CLIExportPipe(t *testing.T) {
	src := startServer(t, t.TempDir())
	defer src.stop()
	dst := startServer(t, t.TempDir())
	defer dst.stop()
	file := filepath.Join(t.TempDir(), "in.lp")
	writeImportFile(t, file, 20, 500)
	if code, _, errs := runCLI(t, "import", file, "-url", src.base, "-precision", "ms"); code != 0 {
		t.Fatalf("import: exit %d\n%s", code, errs)
	}
	exportURL := "/api/v1/export?match[]=" + `{__name__=~"imp_.*"}`
	resp, err := http.Get(src.base + exportURL)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(outpostBinary(t), "import", "-", "-url", dst.base, "-batch-bytes", "8192")
	cmd.Stdin = resp.Body
	out, err := cmd.CombinedOutput()
	resp.Body.Close()
	if err != nil {
		t.Fatalf("export | import: %v\n%s", err, out)
	}
	t.Logf("export | import: %s", out)
	_, a := getBody(t, src.base+exportURL)
	_, b := getBody(t, dst.base+exportURL)
	if a != b || len(a) == 0 {
		t.Errorf("exports differ after the round trip: %d and %d bytes", len(a), len(b))
		compareSamples(t, dst.export(`{__name__=~"imp_.*"}`), src.export(`{__name__=~"imp_.*"}`))
	}
}

// TestImport_StopsOnRefusal: a 4xx stops the import with the server's
// message and the offset acknowledged so far.
func TestImport_StopsOnRefusal(t *testing.T) {
	s := startServer(t, t.TempDir())
	defer s.stop()
	file := filepath.Join(t.TempDir(), "bad.lp")
	os.WriteFile(file, []byte("good v=1\nthis is not line protocol\n"), 0o644)
	code, _, errs := runCLI(t, "import", file, "-url", s.base, "-format", "influx", "-precision", "s")
	if code != 1 || !strings.Contains(errs, "400 Bad Request") || !strings.Contains(errs, "line 2") {
		t.Errorf("import of a bad line: exit %d %q; want 1 with the server's message", code, errs)
	}
}

// TestImport_RetriesOn429 answers 429 with Retry-After, then 503, then
// 204: the batch is sent three times and the import succeeds.
func TestImport_RetriesOn429(t *testing.T) {
	var calls atomic.Int32
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "in.jsonl")
	line := `{"metric":{"__name__":"x"},"values":[1,2],"timestamps":[1,2]}` + "\n"
	os.WriteFile(file, []byte(line), 0o644)
	start := time.Now()
	var stderr strings.Builder
	if code := runImport([]string{file, "-url", srv.URL}, nil, io.Discard, &stderr); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr.String())
	}
	if calls.Load() != 3 || time.Since(start) < time.Second || bodies[2] != line {
		t.Errorf("calls %d after %s, last body %q; want 3 calls, Retry-After honoured", calls.Load(), time.Since(start), bodies[len(bodies)-1])
	}
	if !strings.Contains(stderr.String(), "1 lines, 2 samples") {
		t.Errorf("progress %q lacks the counts", stderr.String())
	}
	var st importState
	if b, err := os.ReadFile(file + ".import-state"); err == nil {
		json.Unmarshal(b, &st)
		t.Errorf("state file left behind: %+v", st)
	}
}
