package query

// A VictoriaMetrics process for the differential test (vmdiff_test.go):
// started on loopback with its data in a temp dir, fed with Prometheus
// remote write (the one ingestion path that carries staleness markers bit
// for bit), queried through its Prometheus API.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"

	"outpost/tsdb"
)

// vmBinary is where Debian's victoria-metrics package installs the server.
const vmBinary = "/usr/bin/victoria-metrics"

// vmServer is one running VictoriaMetrics.
type vmServer struct {
	base   string
	client *http.Client
	cmd    *exec.Cmd
	mu     sync.Mutex
	log    bytes.Buffer // guarded by mu
	done   chan error
}

// Write implements io.Writer for the process output, so the log can be
// read while the process runs.
func (vm *vmServer) Write(p []byte) (int, error) {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.log.Write(p)
}

func (vm *vmServer) logText() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.log.String()
}

// startVM starts VictoriaMetrics on a free loopback port, or skips the test
// when the binary is missing. It is killed when the test ends.
func startVM(t *testing.T) *vmServer {
	t.Helper()
	if _, err := exec.LookPath(vmBinary); err != nil {
		t.Skipf("victoria-metrics is not installed (%v); apt-get install victoria-metrics", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	vm := &vmServer{base: "http://" + addr, client: &http.Client{Timeout: 30 * time.Second}, done: make(chan error, 1)}
	vm.cmd = exec.Command(vmBinary, "-storageDataPath="+t.TempDir(), "-httpListenAddr="+addr,
		"-retentionPeriod=100y", "-search.latencyOffset=0s", "-search.disableCache", "-loggerLevel=WARN")
	vm.cmd.Stdout, vm.cmd.Stderr = vm, vm
	if err := vm.cmd.Start(); err != nil {
		t.Fatalf("start victoria-metrics: %v", err)
	}
	go func() { vm.done <- vm.cmd.Wait() }()
	t.Cleanup(func() {
		_ = vm.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-vm.done:
		case <-time.After(10 * time.Second):
			t.Errorf("victoria-metrics did not exit after SIGKILL")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := vm.client.Get(vm.base + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return vm
			}
		}
		select {
		case err := <-vm.done:
			vm.done <- err
			t.Fatalf("victoria-metrics exited during start: %v\n%s", err, vm.logText())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("victoria-metrics did not answer /health within 30 s\n%s", vm.logText())
	return nil
}

// write sends series with Prometheus remote write.
func (vm *vmServer) write(t *testing.T, series []vdSeries) {
	t.Helper()
	body := snappy.Encode(nil, encodeWriteRequest(series))
	req, err := http.NewRequestWithContext(t.Context(), "POST", vm.base+"/api/v1/write", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := vm.client.Do(req)
	if err != nil {
		t.Fatalf("remote write to victoria-metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("remote write to victoria-metrics: HTTP %d: %s", resp.StatusCode, b)
	}
}

// flush makes every written sample searchable.
func (vm *vmServer) flush(t *testing.T) {
	t.Helper()
	resp, err := vm.client.Get(vm.base + "/internal/force_flush")
	if err != nil {
		t.Fatalf("force_flush: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("force_flush: HTTP %d", resp.StatusCode)
	}
}

// encodeWriteRequest encodes a Prometheus remote-write WriteRequest
// (prompb): timeseries = 1 {labels = 1 {name = 1, value = 2}, samples = 2
// {value = 1 (double), timestamp = 2 (int64)}}.
func encodeWriteRequest(series []vdSeries) []byte {
	var out, ts, msg []byte
	for _, s := range series {
		ts = ts[:0]
		for _, l := range s.labels {
			msg = appendPBString(msg[:0], 1, l.Name)
			msg = appendPBString(msg, 2, l.Value)
			ts = appendPBBytes(ts, 1, msg)
		}
		for i, t := range s.ts {
			msg = append(msg[:0], 1<<3|1)
			msg = binary.LittleEndian.AppendUint64(msg, math.Float64bits(s.vs[i]))
			msg = append(msg, 2<<3|0)
			msg = binary.AppendUvarint(msg, uint64(t))
			ts = appendPBBytes(ts, 2, msg)
		}
		out = appendPBBytes(out, 1, ts)
	}
	return out
}

func appendPBBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

func appendPBString(b []byte, field int, s string) []byte {
	return appendPBBytes(b, field, []byte(s))
}

// vmResult is a query result in a comparable form: series key (labels
// string) -> timestamp (ms) -> value.
type vmResult map[string]map[int64]float64

// query runs an instant (path "query") or range (path "query_range") query
// and returns its result; a scalar becomes the series "{}".
func (vm *vmServer) query(t *testing.T, path string, params url.Values) (vmResult, error) {
	t.Helper()
	params.Set("nocache", "1")
	resp, err := vm.client.PostForm(vm.base+"/api/v1/"+path, params)
	if err != nil {
		return nil, fmt.Errorf("victoria-metrics %s: %w", path, err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("victoria-metrics %s: decode: %w", path, err)
	}
	if out.Status != "success" {
		return nil, fmt.Errorf("victoria-metrics %s: %s", path, out.Error)
	}
	return decodePromResult(out.Data.ResultType, out.Data.Result)
}

// decodePromResult decodes the "result" of a Prometheus API answer.
func decodePromResult(typ string, raw json.RawMessage) (vmResult, error) {
	res := vmResult{}
	switch typ {
	case "scalar":
		var p [2]any
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		t, v, err := decodePoint(p)
		if err != nil {
			return nil, err
		}
		res["{}"] = map[int64]float64{t: v}
	case "vector", "matrix":
		var rs []struct {
			Metric map[string]string `json:"metric"`
			Value  *[2]any           `json:"value"`
			Values [][2]any          `json:"values"`
		}
		if err := json.Unmarshal(raw, &rs); err != nil {
			return nil, err
		}
		for _, r := range rs {
			key := tsdb.FromMap(r.Metric).String()
			if res[key] != nil {
				return nil, fmt.Errorf("duplicate series %s", key)
			}
			m := map[int64]float64{}
			if r.Value != nil {
				r.Values = append(r.Values, *r.Value)
			}
			for _, p := range r.Values {
				t, v, err := decodePoint(p)
				if err != nil {
					return nil, err
				}
				m[t] = v
			}
			res[key] = m
		}
	default:
		return nil, fmt.Errorf("unexpected result type %q", typ)
	}
	return res, nil
}

// decodePoint decodes [unix seconds, "value"].
func decodePoint(p [2]any) (int64, float64, error) {
	sec, ok := p[0].(float64)
	s, ok2 := p[1].(string)
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("bad point %v", p)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("bad value in %v: %w", p, err)
	}
	return int64(math.Round(sec * 1000)), v, nil
}
