package influx

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"outpost/collectors"
	"outpost/tsdb"
)

// ingestDir returns ../shared/conformance/ingest beside the module root, or
// skips the test when it is absent.
func ingestDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	ingest := filepath.Join(dir, "..", "shared", "conformance", "ingest")
	if _, err := os.Stat(ingest); err != nil {
		t.Skipf("peer test data absent: %v", err)
	}
	return ingest
}

// exchange is one request of a captured Telegraf session.
type exchange struct {
	method, uri string
	header      map[string]string
	lines       int    // body lines taken from the .lp file
	form        string // /query form body
	status      int    // what the upstream answered
}

var (
	reRequest = regexp.MustCompile(`^=== #\d+ \S+ (\S+) (\S+) HTTP/1\.1`)
	reHeader  = regexp.MustCompile(`^  > ([A-Za-z-]+): (.*)$`)
	reBody    = regexp.MustCompile(`^  > \[body raw=\d+ decoded=(\d+) bytes, lines=(\d+)\]`)
	reHead    = regexp.MustCompile(`^  > body-head: (".*")$`)
	reStatus  = regexp.MustCompile(`^  < (\d{3})$`)
)

// readExchanges parses a .http-log.txt of ../shared/conformance/ingest.
func readExchanges(t *testing.T, path string) []exchange {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []exchange
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := reRequest.FindStringSubmatch(line); m != nil {
			out = append(out, exchange{method: m[1], uri: m[2], header: map[string]string{}})
			continue
		}
		if len(out) == 0 {
			continue
		}
		x := &out[len(out)-1]
		switch {
		case reBody.MatchString(line):
			x.lines, _ = strconv.Atoi(reBody.FindStringSubmatch(line)[2])
		case reHead.MatchString(line):
			x.form, _ = strconv.Unquote(reHead.FindStringSubmatch(line)[1])
		case reHeader.MatchString(line):
			m := reHeader.FindStringSubmatch(line)
			x.header[m[1]] = m[2]
		case reStatus.MatchString(line) && x.status == 0:
			x.status, _ = strconv.Atoi(reStatus.FindStringSubmatch(line)[1])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// countFields counts the fields of body with the decoder alone: the number
// of samples the mapping must produce.
func countFields(t *testing.T, body []byte) int {
	t.Helper()
	dec := lineprotocol.NewDecoderWithBytes(body)
	n := 0
	for dec.Next() {
		for {
			key, _, err := dec.NextField()
			if err != nil {
				t.Fatalf("capture does not decode: %v", err)
			}
			if key == nil {
				break
			}
			n++
		}
	}
	return n
}

// TestHandler_Write_TelegrafCaptures replays the captured Telegraf sessions
// request by request (the same URIs, headers and gzip bodies) and checks
// that everything is accepted and maps to the expected series. The default
// string policy drops system's uptime_format (influx.drop_string_fields),
// counted as string_field_dropped; the other strings keep their _info series.
func TestHandler_Write_TelegrafCaptures(t *testing.T) {
	dir := ingestDir(t)
	for _, c := range []struct {
		name, db string
		want     []string // points that must be among those written
	}{
		{"telegraf-outputs-influxdb-v1", "telegraf", []string{
			`system_n_cpus{db="telegraf",host="peerhost"} 2 1795434175000`,
			`exec_edge_f_bool{db="telegraf",host="peerhost",tag with space="a,b=c"} 1 1795434175000`,
			`exec_edge_f_int{db="telegraf",host="peerhost",tag with space="a,b=c"} -42 1795434175000`,
			`exec_edge_f_neg{db="telegraf",host="peerhost",tag with space="a,b=c"} -0.25 1795434175000`,
			`exec_edge_f_str_info{db="telegraf",host="peerhost",tag with space="a,b=c",value="quote \"q\" back\\slash"} 1 1795434175000`,
			`my meas,x_f_uint{db="telegraf",host="peerhost",region="us-west"} 7 1795434175000`,
			`my meas,x_big{db="telegraf",host="peerhost",region="us-west"} 9.007199254740992e+15 1795434175000`,
			`my meas,x_sci{db="telegraf",host="peerhost",region="us-west"} 1e-07 1795434175000`,
			`exec_unicode_temp{db="telegraf",host="peerhost",loc="Zürich"} 21.5 1795434175000`,
			`exec_unicode_note_info{db="telegraf",host="peerhost",loc="Zürich",value="snow ❄"} 1 1795434175000`,
			`cpu_usage_idle{cpu="cpu0",db="telegraf",host="peerhost"} 98.98989898988854 1795434176000`,
			`net_speed{db="telegraf",host="peerhost",interface="eth0"} -1 1795434175000`,
			`mem_available_percent{db="telegraf",host="peerhost"} 98.22201278459018 1795434175000`,
			`disk_inodes_used_percent{db="telegraf",device="tmpfs",fstype="tmpfs",host="peerhost",mode="rw",path="/dev/shm"} 3.240954253606615e-05 1795434175000`,
		}},
		{"telegraf-outputs-influxdb_v2", "mybucket", []string{
			`disk_inodes_used_percent{db="mybucket",device="tmpfs",fstype="tmpfs",host="peerhost",mode="rw",path="/dev/shm"} 3.240954253606615e-05 1795434200000`,
			`disk_total{db="mybucket",device="vda",fstype="ext4",host="peerhost",mode="rw",path="/"} 2.70553174016e+11 1795434200000`,
			`exec_edge_f_str_info{db="mybucket",host="peerhost",tag with space="a,b=c",value="quote \"q\" back\\slash"} 1 1795434200000`,
			`exec_edge_f_float{db="mybucket",host="peerhost",tag with space="a,b=c"} 1.5 1795434200000`,
			`my meas,x_sci{db="mybucket",host="peerhost",region="us-west"} 1e-07 1795434200000`,
			`exec_unicode_note_info{db="mybucket",host="peerhost",loc="Zürich",value="snow ❄"} 1 1795434200000`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			lp, err := os.ReadFile(filepath.Join(dir, c.name+".lp"))
			if err != nil {
				t.Fatal(err)
			}
			h, w := newTestHandler(Options{})
			srv := testServer(t, h)
			rest, requests := lp, 0
			for _, x := range readExchanges(t, filepath.Join(dir, c.name+".http-log.txt")) {
				body := []byte(x.form)
				if x.lines > 0 {
					body, rest = cutLines(rest, x.lines)
					if x.header["Content-Encoding"] == "gzip" {
						body = gz(t, body)
					}
				}
				r := do(t, x.method, srv.URL+x.uri, bytes.NewReader(body), x.header)
				if r.status != x.status {
					t.Fatalf("%s %s: %d %s, upstream answered %d", x.method, x.uri, r.status, r.body, x.status)
				}
				if strings.HasPrefix(x.uri, "/query") && r.body != `{"results":[{"statement_id":0}]}` {
					t.Fatalf("%s: %s", x.uri, r.body)
				}
				requests++
			}
			if len(rest) != 0 || requests < 10 {
				t.Fatalf("replayed %d requests, %d bytes of the capture left over", requests, len(rest))
			}
			uptime := bytes.Count(lp, []byte(" uptime_format="))
			checkCapture(t, w, countFields(t, lp)-uptime, c.db, c.want)
			if got := rejected(h.stats, "samples", reasonStringDropped); got != uint64(uptime) || uptime == 0 {
				t.Errorf("samples:%s = %d, the capture holds %d uptime_format fields", reasonStringDropped, got, uptime)
			}
			for _, call := range w.calls {
				for _, p := range call {
					if strings.HasPrefix(p.Labels.Get(tsdb.MetricName), "system_uptime_format") {
						t.Fatalf("uptime_format written: %s", fmtPoint(p))
					}
				}
			}
		})
	}
}

// cutLines splits the first n lines off b.
func cutLines(b []byte, n int) (head, rest []byte) {
	i := 0
	for ; n > 0 && i < len(b); n-- {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return b, nil
		}
		i += j + 1
	}
	return b[:i], b[i:]
}

// checkCapture checks the points a replayed capture wrote.
func checkCapture(t *testing.T, w *recWriter, samples int, db string, want []string) {
	t.Helper()
	got := make(map[string]bool)
	n, infos := 0, 0
	for _, call := range w.calls {
		checkPoints(t, call)
		for _, p := range call {
			n++
			got[fmtPoint(p)] = true
			if p.Labels.Get("db") != db {
				t.Fatalf("point without db=%q: %s", db, fmtPoint(p))
			}
			if strings.HasSuffix(p.Labels.Get(tsdb.MetricName), "_info") {
				infos++
			}
		}
	}
	if n != samples {
		t.Fatalf("%d points written, the capture holds %d fields", n, samples)
	}
	for _, s := range want {
		if !got[s] {
			t.Errorf("missing point %s", s)
		}
	}
	if infos == 0 {
		t.Errorf("no _info series from the capture's string fields")
	}
}

// rejected returns the count of rejection what:reason in s.
func rejected(s *collectors.Stats, what, reason string) uint64 {
	for _, r := range s.Rejections() {
		if r.What == what && r.Reason == reason {
			return r.N
		}
	}
	return 0
}
