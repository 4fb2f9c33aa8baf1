package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freeSyslogPort returns a port free on 127.0.0.1 for both TCP and UDP.
func freeSyslogPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		p := freePort(t)
		if u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			u.Close()
			return p
		}
	}
	t.Fatal("no port free on both TCP and UDP")
	return 0
}

// startSyslogServer starts outpost with events.syslog_addr on a free
// port and returns the server and the port.
func startSyslogServer(t *testing.T) (*server, int) {
	t.Helper()
	port := freeSyslogPort(t)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: fmt.Sprintf("events:\n  syslog_addr: 127.0.0.1:%d\n", port)})
	t.Cleanup(s.kill)
	// The HTTP server answers before the listeners are logged (all at
	// once, after every socket is bound): wait for the line, bounded.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(s.log.String(), "syslog server listening") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.log.String(), "syslog server listening") {
		t.Errorf("no \"syslog server listening\" line in the log:\n%s", s.log)
	}
	return s, port
}

// waitSyslog searches query until want events are found (10 s at most)
// and returns their bodies.
func (s *server) waitSyslog(query string, want int) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a := s.searchEvents(query)
		out = out[:0]
		for _, e := range a.Data.Events {
			var m map[string]any
			if err := json.Unmarshal(e.Event, &m); err != nil {
				s.t.Fatal(err)
			}
			out = append(out, m)
		}
		if len(out) >= want || time.Now().After(deadline) {
			break
		}
	}
	if len(out) != want {
		s.t.Fatalf("search %q: %d events, want %d: %v\n%s", query, len(out), want, out, s.log)
	}
	return out
}

// checkFields compares fields of ev with want (values as fmt prints them).
func checkFields(t *testing.T, ev map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := fmt.Sprint(ev[k]); got != v {
			t.Errorf("%s = %q, want %q (event %v)", k, got, v, ev)
		}
	}
}

// TestSyslog_Logger sends with util-linux logger over UDP, TCP and TCP
// with octet counting, in both formats, and finds each line whole.
func TestSyslog_Logger(t *testing.T) {
	if _, err := exec.LookPath("logger"); err != nil {
		missingDep(t, "logger is not installed (apt-get install bsdutils): %v", err)
	}
	s, port := startSyslogServer(t)
	host, _ := os.Hostname()
	short, _, _ := strings.Cut(host, ".")
	cases := []struct {
		args     []string
		tag, pri string
		want     map[string]string
	}{
		{[]string{"--udp", "--rfc5424", "--sd-id", "zoo@32473", "--sd-param", `tiger="hungry"`}, "loggerudp", "auth.err",
			map[string]string{"format": "rfc5424", "severity": "err", "facility": "auth", "host": host, "sd": "map[timeQuality:map[isSynced:0 tzKnown:1] zoo@32473:map[tiger:hungry]]"}},
		{[]string{"--tcp", "--rfc3164"}, "loggertcp", "daemon.warning",
			map[string]string{"format": "rfc3164", "severity": "warning", "facility": "daemon", "host": short}},
		{[]string{"--tcp", "--octet-count", "--rfc5424"}, "loggeroctet", "local3.info",
			map[string]string{"format": "rfc5424", "severity": "info", "facility": "local3", "host": host}},
	}
	for _, c := range cases {
		msg := "line from " + c.tag + " with  two spaces, a [bracket] and: a colon"
		args := append([]string{"-n", "127.0.0.1", "-P", strconv.Itoa(port), "-t", c.tag, "-p", c.pri, "-i"}, c.args...)
		if out, err := exec.Command("logger", append(args, msg)...).CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v\n%s", args, err, out)
		}
		ev := s.waitSyslog("program:"+c.tag, 1)[0]
		c.want["message"], c.want["program"], c.want["source"] = msg, c.tag, "syslog"
		checkFields(t, ev, c.want)
		if ev["pid"] == nil {
			t.Errorf("%s: no pid (logger -i sends it): %v", c.tag, ev)
		}
	}
	// Severity and facility are searchable too.
	s.waitSyslog("severity:err AND facility:auth", 1)
	s.waitSyslog("facility:local3", 1)
}

// rsyslogConf is a config for rsyslogd that reads nothing of the system:
// no system socket, no kernel log, no files, only its own socket in a
// temporary directory; and forwards everything to outpost by TCP
// (octet-counted RFC 5424) and by UDP (the traditional RFC 3164 form).
const rsyslogConf = `global(workDirectory="%[1]s" localHostName="rsyslog-bastion")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="%[1]s/log.sock" CreatePath="on")
action(type="omfwd" target="127.0.0.1" port="%[2]d" protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
action(type="omfwd" target="127.0.0.1" port="%[2]d" protocol="udp")
`

// TestSyslog_Rsyslog runs a real rsyslogd with its own config that
// forwards to outpost by TCP and UDP: each line logged to it arrives
// twice, whole, with host, program, severity and facility.
func TestSyslog_Rsyslog(t *testing.T) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		missingDep(t, "rsyslogd is not installed (apt-get install rsyslog): %v", err)
	}
	if _, err := exec.LookPath("logger"); err != nil {
		missingDep(t, "logger is not installed (apt-get install bsdutils): %v", err)
	}
	s, port := startSyslogServer(t)
	dir, err := os.MkdirTemp("", "rsyslog") // short: a unix socket path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(rsyslogConf, dir, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var rlog logBuffer
	rs.Stdout, rs.Stderr = &rlog, &rlog
	if err := rs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rs.Process.Kill()
		rs.Wait()
	})
	sock := filepath.Join(dir, "log.sock")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd made no socket in 10 s:\n%s", &rlog)
		}
	}
	msg := "Accepted publickey for ops from 192.0.2.7 port 52211 ssh2: ED25519 SHA256:abc"
	if out, err := exec.Command("logger", "-u", sock, "-t", "sshd", "-p", "authpriv.notice", msg).CombinedOutput(); err != nil {
		t.Fatalf("logger -u: %v\n%s", err, out)
	}
	evs := s.waitSyslog("host:rsyslog-bastion AND program:sshd", 2)
	formats := map[string]bool{}
	for _, ev := range evs {
		formats[fmt.Sprint(ev["format"])] = true
		checkFields(t, ev, map[string]string{"message": msg, "severity": "notice", "facility": "authpriv", "host": "rsyslog-bastion", "program": "sshd"})
	}
	if !formats["rfc5424"] || !formats["rfc3164"] {
		t.Errorf("formats %v, want one by TCP (rfc5424) and one by UDP (rfc3164)\nrsyslogd: %s", formats, &rlog)
	}
	s.waitSyslog("severity:notice AND facility:authpriv", 2)
}

// TestSyslog_GarbageFlood sends garbage by UDP and TCP: it is counted
// by reason on /metrics, nothing of it is stored, and the listener still
// takes a good line afterwards.
func TestSyslog_GarbageFlood(t *testing.T) {
	s, port := startSyslogServer(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	junk := []string{"GET / HTTP/1.1", "<999>x", "<13>1 2003-10-11 bad", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", strings.Repeat("z", 70000), "99999 short"}
	for i := range 3000 {
		j := junk[i%len(junk)]
		if len(j) < 60000 {
			u.Write([]byte(j))
		}
		fmt.Fprintf(c, "%s\n", j)
	}
	// "99999 short" declared a frame longer than the limit: the rest of
	// that connection is skipped as its body. A new connection and UDP
	// are served.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	fmt.Fprintf(c2, "<14>Dec  4 08:00:00 survivor check: still serving by tcp\n")
	s.waitSyslog(`host:survivor AND message:"by tcp"`, 1)
	// The kernel may drop a datagram while the socket's buffer still holds
	// the flood: the UDP line is sent again until one arrives (bounded).
	byUDP := `host:survivor AND message:"by udp"`
	for i := 0; i < 50 && len(s.searchEvents(byUDP).Data.Events) == 0; i++ {
		u.Write([]byte("<14>Dec  4 08:00:00 survivor check: still serving by udp"))
		time.Sleep(100 * time.Millisecond)
	}
	if len(s.searchEvents(byUDP).Data.Events) == 0 {
		t.Fatalf("no UDP line arrived after the flood\n%s", s.log)
	}
	all, good := len(s.searchEvents("source:syslog").Data.Events), len(s.searchEvents("host:survivor").Data.Events)
	if all != good {
		t.Errorf("%d syslog events stored, %d of them the good ones: garbage was stored", all, good)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, reason := range []string{"no_pri", "bad_pri", "bad_timestamp", "too_long"} {
		want := `outpost_ingest_rejected_total{protocol="syslog",what="lines",reason="` + reason + `"}`
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}
