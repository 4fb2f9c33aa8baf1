package main

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startLogged runs bin with args in dir and environment env (nil: none at
// all, as env -i) and waits for the "outpost is ready" line. The server's
// base is left empty: the test reads the addresses from the log.
func startLogged(t *testing.T, bin, dir string, env []string, args ...string) *server {
	t.Helper()
	s := &server{t: t, cmd: exec.Command(bin, args...), log: new(logBuffer), done: make(chan error, 1)}
	s.cmd.Dir = dir
	s.cmd.Env = append([]string{}, env...) // never nil: nil would inherit the test's environment
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(s.log.String(), `msg="outpost is ready"`) {
		select {
		case err := <-s.done:
			t.Fatalf("outpost exited during start: %v\n%s", err, s.log)
		case <-deadline:
			s.kill()
			t.Fatalf("no \"outpost is ready\" line within 30 s\n%s", s.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return s
}

var (
	listeningLine = regexp.MustCompile(`msg="([a-z_]+) server listening" component=([a-z_]+) addr=(\S+)`)
	dataAttr      = regexp.MustCompile(`msg="(starting outpost|outpost is ready)".* data=(\S+)`)
)

// checkStartupLog checks the lines of a start: one "listening" line per
// component in want, each with the port actually bound, and the absolute
// data directory in the first and the ready lines. It returns the
// listeners' addresses by component.
func checkStartupLog(t *testing.T, log, wantData string, want ...string) map[string]string {
	t.Helper()
	addrs := make(map[string]string)
	for _, m := range listeningLine.FindAllStringSubmatch(log, -1) {
		if m[1] != m[2] {
			t.Errorf("listening line of %s says component=%s", m[1], m[2])
		}
		if _, dup := addrs[m[2]]; dup {
			t.Errorf("two listening lines for %s", m[2])
		}
		if strings.HasSuffix(m[3], ":0") {
			t.Errorf("%s: listening on %s, not the port bound", m[2], m[3])
		}
		addrs[m[2]] = m[3]
	}
	if n := strings.Count(log, "listening"); n != len(want) {
		t.Errorf("%d lines say listening, want %d (%s)\n%s", n, len(want), want, log)
	}
	for _, c := range want {
		if addrs[c] == "" {
			t.Errorf("no listening line for %s\n%s", c, log)
		}
	}
	data := dataAttr.FindAllStringSubmatch(log, -1)
	if len(data) != 2 {
		t.Fatalf("want the data directory on the starting and the ready lines\n%s", log)
	}
	for _, m := range data {
		if m[2] != wantData {
			t.Errorf("%s: data=%s, want %s", m[1], m[2], wantData)
		}
	}
	ready := log[strings.Index(log, `msg="outpost is ready"`):]
	if !strings.Contains(ready, `next="open http://`) {
		t.Errorf("ready line without the next step: %s", ready)
	}
	return addrs
}

// TestServe_StartupLog starts outpost with every listener on, from its own
// directory with a relative storage.path, and checks the startup lines.
func TestServe_StartupLog(t *testing.T) {
	dir := t.TempDir()
	s := startLogged(t, outpostBinary(t), dir, []string{"PATH=/usr/bin:/bin"},
		"serve", "--storage.path=data", "--http.addr=127.0.0.1:0", "--graphite.addr=127.0.0.1:0",
		"--collectd.addr=127.0.0.1:0", "--influx.udp_addr=127.0.0.1:0", "--host.enabled=false")
	defer s.stop()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	addrs := checkStartupLog(t, s.log.String(), filepath.Join(real, "data"), "http", "graphite", "collectd", "influx_udp")
	resp, err := http.Get("http://" + addrs["http"] + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("/ping at the logged address: %s", resp.Status)
	}
	c, err := net.Dial("tcp", addrs["graphite"])
	if err != nil {
		t.Fatalf("graphite at the logged address: %v", err)
	}
	c.Close()
}

// TestServe_FailedStartLogsNoListening takes the port of each listener in
// turn: outpost exits 1 with the bind error and never says "listening",
// though the listeners bound before the failing one were up for a moment.
func TestServe_FailedStartLogsNoListening(t *testing.T) {
	bin := outpostBinary(t)
	taken := func(t *testing.T, network string) string {
		t.Helper()
		if network == "tcp" {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			return ln.Addr().String()
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		return pc.LocalAddr().String()
	}
	for _, tc := range []struct{ name, key, network string }{
		{"collectd", "collectd.addr", "udp"},     // after graphite bound
		{"influx_udp", "influx.udp_addr", "udp"}, // after graphite and collectd bound
		{"http", "http.addr", "tcp"},             // after every ingest listener bound
	} {
		t.Run(tc.name, func(t *testing.T) {
			addrs := map[string]string{"http.addr": "127.0.0.1:0", "graphite.addr": "127.0.0.1:0",
				"collectd.addr": "127.0.0.1:0", "influx.udp_addr": "127.0.0.1:0"}
			addrs[tc.key] = taken(t, tc.network)
			argv := []string{"--storage.path=" + t.TempDir(), "--host.enabled=false"}
			for k, v := range addrs {
				argv = append(argv, "--"+k+"="+v)
			}
			code, _, stderr := runBinary(t, bin, argv...)
			if code != 1 || !strings.Contains(stderr, "address already in use") {
				t.Fatalf("exit %d, want 1 and the bind error\n%s", code, stderr)
			}
			if strings.Contains(stderr, "listening") || strings.Contains(stderr, "outpost is ready") {
				t.Fatalf("a failed start logged a listener as listening\n%s", stderr)
			}
		})
	}
}
