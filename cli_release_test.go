package main

// The install story end to end: make release, then the static binary on a
// clean directory with no Go and no environment; and the systemd unit.

import (
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRelease_StaticBinaryStartsClean runs make release into a temp dir,
// checks both binaries are static ELF files for their platform with
// sha256sums that match, then starts the linux/amd64 one from an empty
// directory with an empty environment (no PATH, no HOME, no Go), with the
// data there: it must log every listener and the absolute data path, answer
// /health, serve the embedded echarts script, take a write and answer
// outpost query run by the same binary. Building two static binaries takes
// minutes on a cold cache: a soak test (make release-check, or SOAK=1).
func TestRelease_StaticBinaryStartsClean(t *testing.T) {
	soak(t)
	dist := t.TempDir()
	const ver = "release-test"
	mk := exec.Command("make", "--no-print-directory", "release", "DIST="+dist, "VERSION="+ver)
	t0 := time.Now()
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	t.Logf("make release took %v", time.Since(t0).Round(time.Second))
	sums := exec.Command("sha256sum", "-c", "sha256sums")
	sums.Dir = dist
	if out, err := sums.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	for _, c := range []struct {
		arch    string
		machine elf.Machine
	}{{"amd64", elf.EM_X86_64}, {"arm64", elf.EM_AARCH64}} {
		checkStaticELF(t, filepath.Join(dist, "outpost-linux-"+c.arch), c.machine)
	}
	bin := filepath.Join(dist, "outpost-linux-amd64")

	empty := t.TempDir()
	code, stdout, stderr := runIn(t, empty, bin, "version")
	if code != 0 || !strings.HasPrefix(stdout, "outpost "+ver+"\n") || stderr != "" {
		t.Fatalf("version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	s := startLogged(t, bin, empty, nil, "-storage.path", "data", "-http.addr", "127.0.0.1:0",
		"--graphite.addr=127.0.0.1:0", "--collectd.addr=127.0.0.1:0")
	defer s.stop()
	real, err := filepath.EvalSymlinks(empty)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + checkStartupLog(t, s.log.String(), filepath.Join(real, "data"), "http", "graphite", "collectd")["http"]

	for path, min := range map[string]int{"/health": 10, "/ui/assets/echarts.min.js": 500_000} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(b) < min {
			t.Fatalf("GET %s: %s, %d bytes (want 200 and at least %d)", path, resp.Status, len(b), min)
		}
	}
	ts := time.Now().Add(-time.Minute).Truncate(time.Second)
	if code, msg, err := post(t.Context(), http.DefaultClient, base, "db=release",
		fmt.Sprintf("release,host=clean value=42 %d\n", ts.UnixNano())); err != nil || code != http.StatusNoContent {
		t.Fatalf("write: %d %s %v", code, msg, err)
	}
	code, stdout, stderr = runIn(t, empty, bin, "query", "-url", base, "-time", fmt.Sprint(ts.Unix()), "release_value")
	series := `release_value{db="release",host="clean"}`
	if want := fmt.Sprintf("%-*s%s\n%s  42\n", len(series)+2, "SERIES", "VALUE", series); code != 0 || stdout != want {
		t.Fatalf("query: exit %d\nstdout %q\nstderr %q\nwant %q", code, stdout, stderr, want)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 1 || entries[0].Name() != "data" {
		t.Errorf("the clean directory holds %v, want only data/", entries)
	}
}

// checkStaticELF fails unless path is an ELF executable for machine with
// no interpreter and no dynamic section: it needs no libc.
func checkStaticELF(t *testing.T, path string, machine elf.Machine) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != elf.ET_EXEC {
		t.Errorf("%s: %s %s, want %s ET_EXEC", path, f.Machine, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s: has %s: not static", path, p.Type)
		}
	}
}

// runIn runs bin in dir with an empty environment, to completion.
func runIn(t *testing.T, dir, bin string, argv ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, argv...)
	cmd.Dir, cmd.Env = dir, []string{}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestContrib_UnitVerifies checks contrib/outpost.service with
// systemd-analyze verify (its binary path pointed at a built outpost, since
// verify wants the executable to exist), and that its ExecStart is a command
// outpost has. Skipped where systemd-analyze is not
// installed.
func TestContrib_UnitVerifies(t *testing.T) {
	unit, err := os.ReadFile("contrib/outpost.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/outpost serve -config /etc/outpost/outpost.yml\n",
		"StateDirectory=outpost\n", "WorkingDirectory=/var/lib/outpost\n", "RestartPreventExitStatus=2\n",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("contrib/outpost.service lacks %q", want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	p := filepath.Join(t.TempDir(), "outpost.service")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/outpost", outpostBinary(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", p).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
