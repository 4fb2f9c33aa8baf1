package collectd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"outpost/collectors"
)

const collectdTG = "/usr/bin/collectd-tg"

// tgRun is what one collectd-tg run sent and the listener received.
type tgRun struct {
	sentLists   int           // value lists collectd-tg reports sent (one value each)
	sentPackets uint64        // UDP datagrams sent system-wide meanwhile (/proc/net/snmp)
	sndbufErrs  uint64        // datagrams the sender's kernel refused meanwhile (SndbufErrors)
	datagrams   uint64        // datagrams the listener read
	samples     uint64        // samples written
	udpDrops    uint64        // datagrams the kernel dropped on the listener's socket
	queueFull   uint64        // datagrams the listener dropped (queue full)
	window      time.Duration // first to last datagram read
}

// BenchmarkListener_CollectdTG measures the listener end to end against
// collectd-tg (Debian collectd-utils) sending synthetic value lists at full
// speed over loopback, for a few seconds per op, into a Writer that only
// counts. It reports what was sent and received per second and what was
// dropped, by the kernel (socket buffer full) and by the listener (queue
// full).
//
// Run: go test -run '^$' -bench BenchmarkListener_CollectdTG -benchtime 1x ./collectors/collectd/
func BenchmarkListener_CollectdTG(b *testing.B) {
	if _, err := os.Stat(collectdTG); err != nil {
		b.Skipf("collectd-tg is not installed (apt-get install collectd-utils): %v", err)
	}
	for range b.N {
		r := runCollectdTG(b, 4*time.Second)
		secs := r.window.Seconds()
		b.ReportMetric(float64(r.sentLists)/secs, "sent_lists/s")
		b.ReportMetric(float64(r.samples)/secs, "stored_samples/s")
		b.ReportMetric(float64(r.datagrams)/secs, "read_packets/s")
		b.ReportMetric(float64(r.udpDrops), "udp_drops")
		b.ReportMetric(float64(r.queueFull), "queue_full")
		b.ReportMetric(float64(int64(r.sentPackets)-int64(r.datagrams)), "unread_packets")
		b.Logf("collectd-tg: sent %d lists (%d datagrams system-wide, %d refused by the sender's kernel); "+
			"read %d datagrams, stored %d samples in %v; dropped %d in the socket, %d at the queue",
			r.sentLists, r.sentPackets, r.sndbufErrs, r.datagrams, r.samples,
			r.window.Round(time.Millisecond), r.udpDrops, r.queueFull)
	}
}

func runCollectdTG(b *testing.B, d time.Duration) tgRun {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	w := &recordingWriter{count: true}
	st := collectors.NewStats("collectd")
	l, err := New(cfg, w, Options{Stats: st})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()
	port := l.Addr().(*net.UDPAddr).Port
	outBefore, sndBefore := udpCounter(b, "OutDatagrams"), udpCounter(b, "SndbufErrors")

	// 20000 lists due every millisecond: more than one core can send, so
	// collectd-tg runs flat out after its first second of waiting.
	cmd := exec.Command(collectdTG, "-n", "20000", "-H", "100", "-p", "20", "-i", "0.001",
		"-d", "127.0.0.1", "-D", strconv.Itoa(port))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	defer func() {
		if stderr.Len() > 0 {
			b.Logf("collectd-tg stderr: %.300s", stderr.String())
		}
	}()
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sent := make(chan int, 1)
	go func() { sent <- lastSentCount(out) }()

	first, last := watchDatagrams(st, d)
	_ = cmd.Process.Signal(syscall.SIGINT)
	waitBounded(cmd, 5*time.Second)
	r := tgRun{sentLists: <-sent}
	r.sentPackets = udpCounter(b, "OutDatagrams") - outBefore
	r.sndbufErrs = udpCounter(b, "SndbufErrors") - sndBefore
	// Read the socket's drops while it is open; then stop the listener,
	// which writes the batches still pending, and read the counters.
	time.Sleep(100 * time.Millisecond)
	r.udpDrops = socketDrops(b, port)
	cancel()
	<-done
	stopped = true
	r.datagrams, r.samples, r.queueFull = st.Connections.Load(), st.Samples.Load(), rejected(st, "packets", "queue_full")
	r.window = last.Sub(first)
	if rs := st.Rejections(); len(rs) > 0 {
		b.Logf("rejections: %v", rs)
	}
	if r.window <= 0 || r.samples == 0 {
		b.Fatalf("nothing received: %+v", r)
	}
	return r
}

// BenchmarkListener_Replay sends a captured collectd packet (or a built one
// of the same shape) from two goroutines as fast as loopback takes it, for
// two seconds per op, and reports what the listener read, stored and
// dropped: its ceiling on this machine, where collectd-tg is the slower side.
//
// Run: go test -run '^$' -bench BenchmarkListener_Replay -benchtime 1x ./collectors/collectd/
func BenchmarkListener_Replay(b *testing.B) {
	pkt := benchPacket(b, "none")
	perPacket := 0
	if _, err := NewParser(None, nil).Parse(pkt, func(vl *ValueList) { perPacket += len(vl.Values) }); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		cfg := DefaultConfig()
		cfg.Addr = "127.0.0.1:0"
		st := collectors.NewStats("collectd")
		l, err := New(cfg, &recordingWriter{count: true}, Options{Stats: st})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		sent := replay(b, l.Addr().String(), pkt, 2*time.Second)
		time.Sleep(100 * time.Millisecond)
		drops := socketDrops(b, l.Addr().(*net.UDPAddr).Port)
		cancel()
		<-done
		read := st.Connections.Load()
		b.ReportMetric(float64(read)/2, "read_packets/s")
		b.ReportMetric(float64(st.Samples.Load())/2, "stored_samples/s")
		b.ReportMetric(float64(drops), "udp_drops")
		b.ReportMetric(float64(rejected(st, "packets", "queue_full")), "queue_full")
		b.Logf("replay: sent %d packets of %d samples; read %d, stored %d samples; dropped %d in the socket, %d at the queue",
			sent, perPacket, read, st.Samples.Load(), drops, rejected(st, "packets", "queue_full"))
	}
}

// replay sends pkt to addr from two goroutines for d and returns how many
// datagrams the kernel accepted.
func replay(b *testing.B, addr string, pkt []byte, d time.Duration) uint64 {
	var total atomic.Uint64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for range 2 {
		wg.Go(func() {
			c, err := net.Dial("udp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for n := 0; ; n++ {
				if n%64 == 0 && time.Now().After(stop) {
					return
				}
				if _, err := c.Write(pkt); err == nil {
					total.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return total.Load()
}

// watchDatagrams polls the datagram count for d after the first one and
// returns when the first and the last datagram were seen.
func watchDatagrams(st *collectors.Stats, d time.Duration) (first, last time.Time) {
	var prev uint64
	deadline := time.Now().Add(d + 3*time.Second) // collectd-tg waits ~1 s before sending
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := st.Connections.Load()
		if n != prev {
			if prev == 0 {
				first = time.Now()
				deadline = first.Add(d)
			}
			last, prev = time.Now(), n
		}
	}
	return first, last
}

// lastSentCount reads collectd-tg's "N values have been sent." lines and
// returns the last N (+1 for the list being sent when it was printed).
func lastSentCount(r interface{ Read([]byte) (int, error) }) int {
	n := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if f, ok := strings.CutSuffix(sc.Text(), " values have been sent."); ok {
			if v, err := strconv.Atoi(f); err == nil {
				n = v + 1
			}
		}
	}
	return n
}

func waitBounded(cmd *exec.Cmd, d time.Duration) {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		_ = cmd.Process.Kill()
		<-done
	}
}

// udpCounter reads one field of the Udp lines of /proc/net/snmp.
func udpCounter(b *testing.B, field string) uint64 {
	data, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		b.Skipf("no /proc/net/snmp: %v", err)
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Udp: ")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		for i, v := range strings.Fields(rest) {
			if i < len(names) && names[i] == field {
				n, _ := strconv.ParseUint(v, 10, 64)
				return n
			}
		}
	}
	b.Fatalf("no Udp %s in /proc/net/snmp", field)
	return 0
}

// socketDrops reads the "drops" column of the listener's socket in
// /proc/net/udp.
func socketDrops(b *testing.B, port int) uint64 {
	data, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		b.Skipf("no /proc/net/udp: %v", err)
	}
	local := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) >= 13 && strings.HasSuffix(f[1], local) {
			n, _ := strconv.ParseUint(f[len(f)-1], 10, 64)
			return n
		}
	}
	b.Fatalf("socket on port %d not in /proc/net/udp", port)
	return 0
}
