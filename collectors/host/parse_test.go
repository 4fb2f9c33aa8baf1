package host

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// intern is the identity interning of the parse tests.
func intern(b []byte) string { return string(b) }

// usage runs cpuUsage over two /proc/stat contents and returns the
// samples by series and the error of the second.
func usage(t *testing.T, before, after string) (map[string]float64, error) {
	t.Helper()
	c := &Collector{lastCPU: map[string]cpuTimes{}}
	var st procStat
	var b batch
	for i, s := range []string{before, after} {
		if err := parseProcStat([]byte(s), &st, intern); err != nil {
			t.Fatalf("parse snapshot %d: %v", i, err)
		}
		b.reset(0)
		if err := c.cpuUsage(&b, st.cpus); i == 1 {
			out := map[string]float64{}
			for _, p := range b.pts {
				out[seriesKey(p.Labels)] = p.V
			}
			return out, err
		}
	}
	panic("unreachable")
}

func TestCollector_CPUUsage(t *testing.T) {
	t.Run("old kernel with seven times", func(t *testing.T) {
		got, err := usage(t, "cpu 100 0 100 800 0 0 0\n", "cpu 150 0 150 900 0 0 0\n")
		if err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]float64{
			`cpu_usage_user{cpu="cpu-total"}`: 25, `cpu_usage_system{cpu="cpu-total"}`: 25,
			`cpu_usage_idle{cpu="cpu-total"}`: 50, `cpu_usage_steal{cpu="cpu-total"}`: 0,
			`cpu_usage_guest{cpu="cpu-total"}`: 0, `cpu_usage_guest_nice{cpu="cpu-total"}`: 0,
		} {
			if !near(got[k], want) {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
	})
	t.Run("a cpu whose time did not move is skipped", func(t *testing.T) {
		got, err := usage(t,
			"cpu 10 0 0 10 0 0 0 0 0 0\ncpu0 10 0 0 10 0 0 0 0 0 0\n",
			"cpu 20 0 0 10 0 0 0 0 0 0\ncpu0 10 0 0 10 0 0 0 0 0 0\n")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[`cpu_usage_idle{cpu="cpu0"}`]; ok {
			t.Error("cpu0 has usage over no time")
		}
		if !near(got[`cpu_usage_user{cpu="cpu-total"}`], 100) {
			t.Errorf("cpu-total user = %v, want 100", got[`cpu_usage_user{cpu="cpu-total"}`])
		}
	})
	t.Run("a cpu that appears has no usage yet", func(t *testing.T) {
		got, _ := usage(t, "cpu 10 0 0 10 0 0 0\n", "cpu 20 0 0 20 0 0 0\ncpu1 5 0 0 5 0 0 0\n")
		if _, ok := got[`cpu_usage_idle{cpu="cpu1"}`]; ok {
			t.Error("cpu1 has usage in its first collection")
		}
	})
	t.Run("time going backwards is an error", func(t *testing.T) {
		_, err := usage(t, "cpu 100 0 0 100 0 0 0\n", "cpu 10 0 0 10 0 0 0\n")
		if err == nil || !strings.Contains(err.Error(), "backwards") {
			t.Errorf("err = %v, want time going backwards", err)
		}
	})
}

func TestParseProcStat_Errors(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		var st procStat
		err := parseProcStat([]byte(in), &st, intern)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parseProcStat(%q) = %v, want an error with %q", in, err, wantErr)
		}
	}
	f("cpu 1 2 3\n", "want 8 or more")
	f("cpu 1 2 3 x 5 6 7\n", `bad number "x"`)
	f("intr 5\nctxt 6\n", "no cpu line")
}

func TestParseMemInfo(t *testing.T) {
	t.Run("kernel before 3.14, no MemAvailable", func(t *testing.T) {
		var mi memInfo
		in := "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 200 kB\nSReclaimable: 50 kB\nHugePages_Total: 3\n"
		if err := parseMemInfo([]byte(in), &mi); err != nil {
			t.Fatal(err)
		}
		var b batch
		(&Collector{}).mem(&b, &mi)
		got := map[string]float64{}
		for _, p := range b.pts {
			got[p.Labels.Get("__name__")] = p.V
		}
		for k, want := range map[string]float64{
			"mem_available": 350 * 1024, "mem_used": 650 * 1024, "mem_cached": 250 * 1024,
			"mem_used_percent": 65, "mem_huge_pages_total": 3, "mem_high_total": 0,
		} {
			if got[k] != want {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		var mi memInfo
		if err := parseMemInfo([]byte("MemFree: 1 kB\n"), &mi); err == nil {
			t.Error("no MemTotal: no error")
		}
		if err := parseMemInfo([]byte("MemTotal: lots kB\n"), &mi); err == nil {
			t.Error("bad number: no error")
		}
	})
}

func TestUnescapeMount(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := unescapeMount([]byte(in)); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
	f("/plain", "/plain")
	f(`/mnt/My\040Disk`, "/mnt/My Disk")
	f(`/a\011b\012c\134d`, "/a\tb\nc\\d")
	f(`/trailing\04`, `/trailing\04`)
	f(`/not\999octal`, `/not\999octal`)
}

func TestParseMountInfo(t *testing.T) {
	c := &Collector{sys: root(t.TempDir())}
	in := "26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n" +
		"40 26 0:50 / /run/user/1000 rw,nosuid - tmpfs tmpfs rw\n" +
		"41 26 0:51 /netns /run/netns/x rw - nsfs nsfs:[4026532] rw\n" +
		"42 26 254:1 / /srv ro,relatime master:1 shared:2 - ext4 /dev/vda1 rw\n" +
		"43 26 0:52 / /mnt/x rw,relatime - fuse.sshfs user@host: rw\n"
	ms, err := c.parseMountInfo([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []mount{
		{majMin: "254:1", device: "/dev/vda1", point: "/", fstype: "ext4", mode: "rw"},
		{majMin: "0:50", device: "tmpfs", point: "/run/user/1000", fstype: "tmpfs", mode: "rw"},
		{majMin: "0:51", device: "/netns", point: "/run/netns/x", fstype: "nsfs", mode: "rw"},
		{majMin: "254:1", device: "/dev/vda1", point: "/srv", fstype: "ext4", mode: "ro"},
		{majMin: "0:52", device: "user@host:", point: "/mnt/x", fstype: "fuse.sshfs", mode: "rw"},
	}
	if !slices.Equal(ms, want) {
		t.Errorf("mounts =\n%+v\nwant\n%+v", ms, want)
	}
	for _, bad := range []string{"1 2 3:4 / /\n", "1 2 - ext4 /dev/x rw\n", "1 2 3:4 / /x rw - ext4\n"} {
		if _, err := c.parseMountInfo([]byte(bad)); err == nil {
			t.Errorf("parseMountInfo(%q): no error", bad)
		}
	}
}

// TestCollector_Disk_MountPrefix reads the mounts of a host whose root is
// mounted at /hostfs in outpost's container: usage is read under the
// prefix and the path label is the host's.
func TestCollector_Disk_MountPrefix(t *testing.T) {
	proc := t.TempDir()
	if err := os.MkdirAll(filepath.Join(proc, "1"), 0o755); err != nil {
		t.Fatal(err)
	}
	mi := "1 0 254:1 / / rw - ext4 /dev/vda1 rw\n" +
		"2 1 254:2 / /var rw - ext4 /dev/vda2 rw\n" +
		"3 1 254:1 / /hostfs rw - ext4 /dev/vda1 rw\n" +
		"4 3 254:2 / /hostfs/var rw - ext4 /dev/vda2 rw\n"
	if err := os.WriteFile(filepath.Join(proc, "1", "mountinfo"), []byte(mi), 0o644); err != nil {
		t.Fatal(err)
	}
	var asked []string
	c := &Collector{
		proc: root(proc), sys: root(t.TempDir()), run: root(t.TempDir()),
		cfg: Config{MountPrefix: "/hostfs"},
		fs: boundedStatfs{timeout: time.Minute, statfs: func(p string) (FSUsage, error) {
			asked = append(asked, p)
			return FSUsage{Blocks: 10, Bfree: 5, Bavail: 5, Bsize: 1}, nil
		}},
	}
	var b batch
	if err := c.disk(&b); err != nil {
		t.Fatal(err)
	}
	// The container's / and /var would be read at /hostfs and
	// /hostfs/var, which are mounts themselves (the host's): only those are
	// read, once each, labelled with the host's paths, as Telegraf does.
	if want := []string{"/hostfs", "/hostfs/var"}; !slices.Equal(asked, want) {
		t.Errorf("statfs of %q, want %q", asked, want)
	}
	var paths []string
	for _, p := range b.pts {
		if p.Labels.Get("__name__") == "disk_total" {
			paths = append(paths, p.Labels.Get("path"))
		}
	}
	if want := []string{"/", "/var"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
}

func TestCollector_Users(t *testing.T) {
	dir := t.TempDir()
	rec := func(typ int16, user string) []byte {
		r := make([]byte, utmpSize)
		binary.NativeEndian.PutUint16(r, uint16(typ))
		copy(r[utmpUserOffset:], user)
		return r
	}
	c := &Collector{run: root(dir)}
	if _, _, ok := c.users(); ok {
		t.Error("users with no utmp: ok")
	}
	data := slices.Concat(rec(utmpUserProcess, "root"), rec(8, "gone"), rec(utmpUserProcess, "root"),
		rec(utmpUserProcess, strings.Repeat("x", utmpUserLen)), []byte("torn"))
	if err := os.WriteFile(filepath.Join(dir, "utmp"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if n, u, ok := c.users(); !ok || n != 3 || u != 2 {
		t.Errorf("users = %d, %d, %v; want 3, 2, true", n, u, ok)
	}
}

func TestFields(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		var got []string
		for _, b := range fields([]byte(in), nil) {
			got = append(got, string(b))
		}
		if !slices.Equal(got, want) {
			t.Errorf("fields(%q) = %q, want %q", in, got, want)
		}
	}
	f("")
	f("   ")
	f("a", "a")
	f("  a\tb  c ", "a", "b", "c")
}

func TestParseUint(t *testing.T) {
	f := func(in string, want uint64, wantOK bool) {
		t.Helper()
		if got, ok := parseUint([]byte(in)); got != want || ok != wantOK {
			t.Errorf("parseUint(%q) = %d, %v; want %d, %v", in, got, ok, want, wantOK)
		}
	}
	f("0", 0, true)
	f("18446744073709551615", 1<<64-1, true)
	f("18446744073709551616", 0, false)
	f("", 0, false)
	f("-1", 0, false)
	f("1x", 0, false)
}

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	f := func(edit func(*Config), key string) {
		t.Helper()
		c := DefaultConfig()
		edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), key+":") {
			t.Errorf("Validate() = %v, want an error naming %s", err, key)
		}
	}
	f(func(c *Config) { c.Interval = 0 }, "host.interval")
	f(func(c *Config) { c.Interval = 2 * time.Hour }, "host.interval")
	f(func(c *Config) { c.SelfInterval = time.Millisecond }, "host.self_interval")
	f(func(c *Config) { c.ProcPath = "proc" }, "host.proc_path")
	f(func(c *Config) { c.SysPath = "" }, "host.sys_path")
	f(func(c *Config) { c.RunPath = "run" }, "host.run_path")
	f(func(c *Config) { c.MountPrefix = "hostfs" }, "host.mount_prefix")
	f(func(c *Config) { c.IgnoreFS = []string{"tmpfs", ""} }, "host.ignore_fs[1]")
}

func TestNew_Errors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ProcPath = t.TempDir() // no stat file
	if _, err := New(cfg, nil, Options{}); err == nil || !strings.Contains(err.Error(), "host.proc_path") {
		t.Errorf("New over an empty procfs = %v, want an error naming host.proc_path", err)
	}
	cfg = DefaultConfig()
	cfg.Interval = 0
	if _, err := New(cfg, nil, Options{}); err == nil {
		t.Error("New with a bad config: no error")
	}
}
