package main

// Tests of the built binary's command line: exit statuses and the one-line
// configuration errors. The end-to-end tests of serving are main_test.go's.

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary builds outpost with version "test-version" into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "outpost")
	out, err := exec.Command("go", "build", "-ldflags", "-X main.version=test-version", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBinary runs bin with argv to completion and returns its exit status,
// stdout and stderr.
func runBinary(t *testing.T, bin string, argv ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, argv...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"} // no stray OUTPOST_* variables
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("outpost %q still running after 30 s\n%s", argv, stderr.String())
		return 0, "", ""
	}
}

// TestBinary builds outpost once and runs its command-line cases.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	t.Run("config_errors", func(t *testing.T) { testCommandLine(t, bin) })
	t.Run("second_signal", func(t *testing.T) { testSecondSignal(t, bin) })
}

func testCommandLine(t *testing.T, bin string) {
	dir := t.TempDir()
	exit2 := func(name string, yml string, argv []string, wantStderr string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if yml != "" {
				argv = append([]string{"-config", writeConfig(t, yml)}, argv...)
			}
			code, stdout, stderr := runBinary(t, bin, argv...)
			if code != 2 || stdout != "" || stderr != wantStderr {
				t.Fatalf("exit %d, stdout %q, stderr %q\nwant exit 2, stderr %q", code, stdout, stderr, wantStderr)
			}
		})
	}
	exit2("bad_duration", "storage:\n  retention: abc\n", nil,
		"outpost: config: storage.retention: \"abc\" is not a duration\n")
	exit2("bad_size_flag", "", []string{"--http.max_body_bytes=lots"},
		"outpost: config: http.max_body_bytes: \"lots\" is not an integer or a size such as 64MiB\n")
	exit2("validate", "storage:\n  path: "+dir+"\n  retention: 2h\n", nil,
		"outpost: config: storage.retention: 2h0m0s is shorter than one day\n")
	exit2("unknown_flag", "", []string{"--nope=1"},
		"outpost: flag provided but not defined: -nope (see outpost -h)\n")
	exit2("missing_file", "", []string{"-config", filepath.Join(dir, "none.yml")},
		"outpost: config: read config file: open "+filepath.Join(dir, "none.yml")+": no such file or directory\n")
	t.Run("unknown_key", func(t *testing.T) {
		p := writeConfig(t, "http:\n  adress: :8086\n")
		code, _, stderr := runBinary(t, bin, "-config", p)
		if want := fmt.Sprintf("outpost: config: unknown key %q in %s\n", "http.adress", p); code != 2 || stderr != want {
			t.Fatalf("exit %d, stderr %q; want 2, %q", code, stderr, want)
		}
	})
	t.Run("version", func(t *testing.T) {
		code, stdout, stderr := runBinary(t, bin, "-version")
		if code != 0 || stdout != "outpost test-version\n" || stderr != "" {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("help", func(t *testing.T) {
		code, stdout, stderr := runBinary(t, bin, "-h")
		if code != 0 || stdout != "" || !strings.Contains(stderr, "--storage.retention") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("port_in_use_exits_1", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		code, _, stderr := runBinary(t, bin, quietArgs(t.TempDir(), ln.Addr().String())...)
		if code != 1 || !strings.Contains(stderr, "address already in use") {
			t.Fatalf("exit %d, stderr %q; want 1 and the bind error", code, stderr)
		}
	})
}

// quietArgs are the flags of a server on addr with only its HTTP port.
func quietArgs(data, addr string) []string {
	return []string{"--storage.path=" + data, "--http.addr=" + addr, "--graphite.addr=",
		"--collectd.addr=", "--host.enabled=false", "--http.shutdown_timeout=1m"}
}

// testSecondSignal holds a write open so the graceful shutdown waits, then
// checks that a second signal exits at once with status 1.
func testSecondSignal(t *testing.T, bin string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, quietArgs(t.TempDir(), addr)...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "http server listening")

	// A write whose body never completes keeps the shutdown waiting.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /write?db=x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nm v=1\n")
	time.Sleep(200 * time.Millisecond) // let the handler start reading

	cmd.Process.Signal(syscall.SIGTERM)
	waitLine(t, lines, "shutting down")
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	kill := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer kill.Stop()
	for range lines { // until outpost exits and stderr ends
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit after a second signal: %v, want status 1", err)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("second signal took %v to exit", d)
	}
}

// waitLine reads lines until one contains want, for at most 20 s.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("outpost exited before logging %q", want)
			}
			if strings.Contains(l, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no log line with %q within 20 s", want)
		}
	}
}
