package host

import (
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"outpost/tsdb"
)

// The fixture (testdata/README.md): two snapshots of a 4-cpu machine's
// procfs taken 10 s apart, t0 and t1, with one sysfs and one /run.
var (
	fixtureT0 = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	fixtureT1 = fixtureT0.Add(10 * time.Second)
)

// fixture is a Collector reading testdata through a symbolic link that
// points at one snapshot's procfs or the other.
type fixture struct {
	t    testing.TB
	c    *Collector
	link string
	now  time.Time
}

// newFixture returns a Collector over the t0 snapshot, with statfs
// answered by fakeStatfs.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{t: t, link: filepath.Join(t.TempDir(), "proc")}
	f.use("t0")
	td, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Hostname = "bastion"
	cfg.ProcPath = f.link
	cfg.SysPath = filepath.Join(td, "t0", "sys")
	cfg.RunPath = filepath.Join(td, "t0", "run")
	f.c, err = New(cfg, nil, Options{Now: func() time.Time { return f.now }, Statfs: fakeStatfs(t)})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// use points the fixture's procfs at snapshot snap.
func (f *fixture) use(snap string) {
	f.t.Helper()
	target, err := filepath.Abs(filepath.Join("testdata", snap, "proc"))
	if err != nil {
		f.t.Fatal(err)
	}
	os.Remove(f.link)
	if err := os.Symlink(target, f.link); err != nil {
		f.t.Fatal(err)
	}
}

// collect reads snapshot snap at time now and returns the samples by
// series (seriesKey) and the error.
func (f *fixture) collect(snap string, now time.Time) (map[string]float64, error) {
	f.t.Helper()
	f.use(snap)
	f.now = now
	pts, err := f.c.Collect(now)
	out := make(map[string]float64, len(pts))
	for _, p := range pts {
		k := seriesKey(p.Labels)
		if _, dup := out[k]; dup {
			f.t.Errorf("series %s twice in one collection", k)
		}
		if p.T != now.UnixMilli() {
			f.t.Errorf("%s stamped %d, want %d", k, p.T, now.UnixMilli())
		}
		out[k] = p.V
	}
	return out, err
}

// seriesKey renders ls as name{a="1",b="2"}, checking that the labels are
// sorted as the store requires.
func seriesKey(ls tsdb.Labels) string {
	var b strings.Builder
	b.WriteString(ls.Get(tsdb.MetricName))
	b.WriteByte('{')
	first := true
	for i, l := range ls {
		if i > 0 && ls[i-1].Name >= l.Name {
			return "UNSORTED " + ls.String()
		}
		if l.Name == tsdb.MetricName {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(l.Name + "=" + strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// fakeStatfs answers statfs for the mount points of the fixture's
// mountinfo, with round numbers; /mnt/stale fails as a dead NFS server's
// mount does.
func fakeStatfs(t testing.TB) func(string) (FSUsage, error) {
	fs := map[string]FSUsage{
		"/proc": {}, "/sys": {}, "/sys/fs/cgroup": {}, // no blocks: skipped
		"/":                {Blocks: 1000, Bfree: 400, Bavail: 350, Bsize: 4096, Files: 1000, Ffree: 900},
		"/var/www":         {Blocks: 1000, Bfree: 400, Bavail: 350, Bsize: 4096, Files: 1000, Ffree: 900},
		"/var/lib/outpost": {Blocks: 2000, Bfree: 1500, Bavail: 1500, Bsize: 1024, Files: 500, Ffree: 500},
		"/mnt/My Disk":     {Blocks: 100, Bfree: 100, Bavail: 100, Bsize: 512},
		"/mnt/nas":         {Blocks: 10, Bfree: 5, Bavail: 5, Bsize: 1 << 20, Files: 100, Ffree: 50},
		"/boot/efi":        {Blocks: 100, Bfree: 50, Bavail: 50, Bsize: 4096},
		"/mnt/scratch":     {Blocks: 1, Bfree: 1, Bavail: 1, Bsize: 4096},
		"/data":            {Blocks: 300, Bfree: 100, Bavail: 100, Bsize: 4096, Files: 30, Ffree: 10},
	}
	return func(path string) (FSUsage, error) {
		if path == "/mnt/stale" {
			return FSUsage{}, &os.PathError{Op: "statfs", Path: path, Err: syscall.ESTALE}
		}
		u, ok := fs[path]
		if !ok {
			t.Errorf("statfs of %q, which the collector should not read", path)
		}
		return u, nil
	}
}

// TestCollector_Collect_Fixture reads the two snapshots and checks every
// series and value of the second collection against values computed by
// hand from the fixture's numbers (testdata/README.md shows the sums).
func TestCollector_Collect_Fixture(t *testing.T) {
	f := newFixture(t)
	first, err := f.collect("t0", fixtureT0)
	if err == nil || !errors.Is(err, syscall.ESTALE) || !strings.Contains(err.Error(), "/mnt/stale") {
		t.Errorf("first collection's error = %v, want the stale mount's", err)
	}
	for k := range first {
		if strings.HasPrefix(k, "cpu_usage_") || strings.HasPrefix(k, "diskio_io_await") ||
			strings.HasPrefix(k, "diskio_io_svctm") || strings.HasPrefix(k, "diskio_io_util") {
			t.Errorf("first collection has rate %s; Telegraf's first has none", k)
		}
	}
	for k, want := range map[string]float64{
		`processes_total{db="telegraf",host="bastion"}`:         7,
		`processes_blocked{db="telegraf",host="bastion"}`:       1,
		`processes_stopped{db="telegraf",host="bastion"}`:       2,
		`processes_sleeping{db="telegraf",host="bastion"}`:      1,
		`processes_total_threads{db="telegraf",host="bastion"}`: 10,
		`system_uptime{db="telegraf",host="bastion"}`:           12346, // 12345.67 rounded up
	} {
		if got, ok := first[k]; !ok || got != want {
			t.Errorf("first collection: %s = %v (present %v), want %v", k, got, ok, want)
		}
	}

	got, err := f.collect("t1", fixtureT1)
	if !errors.Is(err, syscall.ESTALE) {
		t.Errorf("second collection's error = %v, want the stale mount's", err)
	}
	want := fixtureWant()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing %s (want %v)", k, want[k])
		case !near(g, want[k]):
			t.Errorf("%s = %v, want %v", k, g, want[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected %s = %v", k, got[k])
		}
	}
}

// near reports whether a and b agree to 1e-9 of their size, or of 1 near
// zero: the cpu percentages are computed from seconds (jiffies / 100), as
// Telegraf computes them, so they are not exact decimal fractions (a
// mode that did not move can come out as -3e-15, in Telegraf too).
func near(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*max(1, math.Abs(a), math.Abs(b))
}

// TestCollector_Collect_BlockedStatfs gives the fixture an NFS mount whose
// statfs blocks, as a hard mount's does when its server is gone: the
// collection goes on without it after the timeout, the next ones do not
// ask it again while the first call blocks, and it is back once the call
// returns.
func TestCollector_Collect_BlockedStatfs(t *testing.T) {
	f := newFixture(t)
	answer := fakeStatfs(t)
	release := make(chan struct{})
	var calls atomic.Int32
	f.c.fs.timeout = 50 * time.Millisecond
	f.c.fs.statfs = func(p string) (FSUsage, error) {
		if p == "/mnt/nas" {
			calls.Add(1)
			<-release
		}
		return answer(p)
	}
	nas := `disk_total{db="telegraf",device="nas:/export",fstype="nfs4",host="bastion",mode="rw",path="/mnt/nas"}`
	root := `disk_total{db="telegraf",device="vda1",fstype="ext4",host="bastion",label="cloudimg-rootfs",mode="rw",path="/"}`
	for i := range 2 {
		got, err := f.collect("t0", fixtureT0.Add(time.Duration(i)*10*time.Second))
		var blocked errStatfsBlocked
		if !errors.As(err, &blocked) || !strings.Contains(err.Error(), "/mnt/nas") {
			t.Errorf("collection %d: err = %v, want /mnt/nas blocked", i, err)
		}
		if _, ok := got[nas]; ok {
			t.Errorf("collection %d has the blocked mount", i)
		}
		if _, ok := got[root]; !ok {
			t.Errorf("collection %d lacks the other mounts", i)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("statfs of the blocked mount called %d times, want 1", n)
	}
	close(release)
	for i := 0; ; i++ { // bounded: 5 s for the abandoned call to return
		f.c.fs.mu.Lock()
		blocked := f.c.fs.blocked["/mnt/nas"]
		f.c.fs.mu.Unlock()
		if !blocked {
			break
		}
		if i == 500 {
			t.Fatal("the released statfs did not return")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, _ := f.collect("t0", fixtureT0.Add(30*time.Second))
	if _, ok := got[nas]; !ok {
		t.Error("the mount is still missing after its statfs returned")
	}
}
