package influx

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// streamed is what parsing a body through a lineReader gave.
type streamed struct {
	points     []string
	err        error
	parse, bad int
	read       int64
	readErr    error
	blank      bool
}

// parseStream parses body as the handler does, through a lineReader with a
// window of the given size, the body arriving as r makes it arrive.
func parseStream(body []byte, maxLine, window int, wrap func(io.Reader) io.Reader, opts ParseOptions) streamed {
	lr := &lineReader{buf: make([]byte, window)}
	lr.reset(wrap(bytes.NewReader(body)), false, 1<<40, maxLine)
	p := new(Parser)
	p.resetStream(lr, opts)
	var s streamed
	for b := p.Next(7); b != nil; b = p.Next(7) {
		s.points = append(s.points, formatAll(b)...)
	}
	s.err = p.Err()
	s.parse, s.bad = p.Rejected()
	s.read, s.readErr, s.blank = lr.read, lr.err, lr.blank
	return s
}

// readers are the ways a body may arrive: at once, a byte at a time, and
// with its last bytes together with io.EOF.
var readers = map[string]func(io.Reader) io.Reader{
	"whole":    func(r io.Reader) io.Reader { return r },
	"one byte": iotest.OneByteReader,
	"data+EOF": iotest.DataErrReader,
}

// TestParser_Stream_MatchesParse checks that a body parsed window by window
// gives the points, the first error and the counts of a whole-body Parse,
// whatever the window size and however the bytes arrive.
func TestParser_Stream_MatchesParse(t *testing.T) {
	long := strings.Repeat("x", 700)
	multi := `note,h=a s="line one` + "\n" + `line two, with \"quotes\"` + "\n" + `last" 5` + "\n"
	cases := map[string]string{
		"simple":           "a,h=1 x=1,y=2 1000000\nb,h=2 x=3 2000000\n",
		"no final newline": "a f=1 0\nb f=2 0",
		"errors":           "a f=1 0\ncpu,host=a usage=\nb f=2 0\nbad\n\n# comment\nc,x=1,x=2 f=1 0\nd f=4 0\n",
		"long lines":       "a f=1 0\n" + long + " f=1 0\nb f=2 0\n" + strings.Repeat("y", 120) + "\nc f=3 0\n" + long,
		"long first":       long + "\na f=1 0\n",
		"multi-line strings": strings.Repeat("a f=1 0\n", 17) + multi + strings.Repeat(multi, 5) +
			"b,t=\"q\" s=\"x\\\\\" 6\n" + multi,
		"crlf":      "a f=1 0\r\nb f=2 0\r\n",
		"blank":     "\n\n  \n \r\n\n",
		"tab line":  "\n\n  \n\t\n",
		"empty":     "",
		"telegraf":  telegrafLike(40),
		"escapes":   "we\\ ather,site\\ name=Lake\\ \\=\\ G,zone=a\\,b t=-3.5e-1,n=\"a\\\"b\" -1700000000000000000\n" + strings.Repeat("m,t=\"x\" f=1 0\n", 30),
		"long tags": "m," + strings.Repeat("t", 90) + "=" + strings.Repeat("v", 200) + " f=1 0\n" + long + "\nn f=1 0\n",
	}
	for name, body := range cases {
		want, wantErr := Parse([]byte(body), ParseOptions{MaxLineBytes: 256, Now: testNow, DB: "d"})
		for _, window := range []int{300, 301, 512, 1000, 64 << 10} {
			for rname, wrap := range readers {
				t.Run(fmt.Sprintf("%s/window=%d/%s", name, window, rname), func(t *testing.T) {
					got := parseStream([]byte(body), 256, window, wrap, ParseOptions{Now: testNow, DB: "d"})
					if !slices.Equal(got.points, formatAll(want)) {
						t.Fatalf("points\n%q\nwant\n%q", got.points, formatAll(want))
					}
					if fmt.Sprint(got.err) != fmt.Sprint(wantErr) {
						t.Fatalf("error %v\nwant  %v", got.err, wantErr)
					}
					p := NewParser([]byte(body), ParseOptions{MaxLineBytes: 256})
					for p.Next(1000) != nil {
					}
					if parse, bad := p.Rejected(); got.parse != parse || got.bad != bad {
						t.Fatalf("rejected %d parse, %d too long; want %d and %d", got.parse, got.bad, parse, bad)
					}
					if got.read != int64(len(body)) || got.readErr != nil {
						t.Fatalf("read %d bytes (err %v), want %d", got.read, got.readErr, len(body))
					}
					if got.blank != isBlank([]byte(body)) {
						t.Fatalf("blank %v", got.blank)
					}
				})
			}
		}
	}
}

// telegrafLike is a body of n hosts' cpu, system and disk lines.
func telegrafLike(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "cpu,cpu=cpu-total,host=h%d usage_user=%d.5,usage_idle=90 1700000000000000000\n", i, i)
		fmt.Fprintf(&b, "system,host=h%d load1=0.5,n_users=2i,uptime_format=\"%d days,  1:02\" 1700000000000000000\n", i, i)
		fmt.Fprintf(&b, "disk,device=sda%d,fstype=ext4,host=h%d,mode=rw,path=/ free=1u,used_percent=42 1700000000000000000\n", i, i)
	}
	return b.String()
}

func TestLineReader_Next(t *testing.T) {
	f := func(name, body string, window, maxLine int, wantWindows []string, wantLong int, wantErr string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			lr := &lineReader{buf: make([]byte, window)}
			lr.reset(strings.NewReader(body), false, 1<<20, maxLine)
			var got []string
			for w := lr.next(); w != nil; w = lr.next() {
				got = append(got, string(w))
			}
			if !slices.Equal(got, wantWindows) {
				t.Fatalf("windows %q, want %q", got, wantWindows)
			}
			if lr.longN != wantLong {
				t.Fatalf("%d long lines, want %d", lr.longN, wantLong)
			}
			gotErr := ""
			if lr.long != nil {
				gotErr = lr.long.Error()
			}
			if gotErr != wantErr {
				t.Fatalf("long line error %q, want %q", gotErr, wantErr)
			}
		})
	}
	f("one window", "a\nb\nc", 16, 8, []string{"a\nb\nc"}, 0, "")
	f("blank windows passed over", "\n\n\n\n\n\n\n\n\n  \r\n\n\nab\n", 8, 4, []string{"ab\n"}, 0, "")
	f("a tab is no blank", "\n\n\n\n\n\n\n\n\t\nab\n", 8, 4, []string{"\t\nab\n"}, 0, "")
	f("only blank", "\n\n \r\n", 8, 4, nil, 0, "")
	f("cut at the last newline", "aaaa\nbbbb\ncccc\n", 12, 5, []string{"aaaa\nbbbb\n", "cccc\n"}, 0, "")
	f("blanked in the window", "ab\n0123456789\ncd\n", 32, 5, []string{"ab\n          \ncd\n"}, 1,
		"unable to parse '0123456789' (line 2, column 6): line too long (10 bytes, the limit is 5)")
	// The error quotes what the window held of the line (real windows hold
	// more than the 256 bytes an error quotes).
	f("skipped past the window", "ab\n"+strings.Repeat("z", 40)+"\ncd\nef", 10, 4, []string{"ab\n", "cd\nef"}, 1,
		"unable to parse 'zzzzzzzzzz' (line 2, column 5): line too long (40 bytes, the limit is 4)")
	f("skipped to the end", "ab\n"+strings.Repeat("z", 40), 10, 4, []string{"ab\n"}, 1,
		"unable to parse 'zzzzzzzzzz' (line 2, column 5): line too long (40 bytes, the limit is 4)")
	f("several long", "0123456\nab\n0123456\n", 64, 4, []string{"       \nab\n       \n"}, 2,
		"unable to parse '0123456' (line 1, column 5): line too long (7 bytes, the limit is 4)")
}

func TestLineReader_Limit(t *testing.T) {
	lr := &lineReader{buf: make([]byte, 64)}
	lr.reset(strings.NewReader(strings.Repeat("m f=1 0\n", 100)), true, 500, 16)
	n := 0
	for w := lr.next(); w != nil; w = lr.next() {
		n += len(w)
	}
	if !errors.Is(lr.err, ErrBodyTooLarge) || n > 500 || lr.err.Error() != "request body too large: over 500 bytes after decompression" {
		t.Fatalf("err %v after %d bytes handed out", lr.err, n)
	}
}

// TestParser_LineMapped checks that a line whose fields × tags would map to
// more than maxLineMapped is rejected before it is mapped, and that the
// lines around it are written.
func TestParser_LineMapped(t *testing.T) {
	var line strings.Builder
	line.WriteString("wide")
	for i := range 300 {
		fmt.Fprintf(&line, ",t%d=v", i)
	}
	line.WriteByte(' ')
	for i := range 300 {
		if i > 0 {
			line.WriteByte(',')
		}
		fmt.Fprintf(&line, "f%d=1", i)
	}
	body := "a f=1 0\n" + line.String() + " 0\nb f=2 0\n"
	pts, err := Parse([]byte(body), ParseOptions{})
	if got := formatAll(pts); !slices.Equal(got, []string{`a_f{} 1 0`, `b_f{} 2 0`}) {
		t.Fatalf("points %q", got)
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || !strings.Contains(pe.Msg, "line maps to too many samples and labels") {
		t.Fatalf("error %v", err)
	}
	var tags strings.Builder
	tags.WriteString("tags")
	for i := range 20000 {
		fmt.Fprintf(&tags, ",t%d=v", i)
	}
	_, err = Parse([]byte(tags.String()+" f=1 0\n"), ParseOptions{})
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "too many tags") {
		t.Fatalf("error %v", err)
	}
}

// TestParser_Next_BatchBytes checks that a batch ends at maxBatchBytes
// however few points it has, and that lines which only waste strings do
// not grow a batch without bound.
func TestParser_Next_BatchBytes(t *testing.T) {
	var b strings.Builder
	for i := range 3000 { // 40 labels a point: ~1.4 KiB each
		b.WriteString("m")
		for j := range 39 {
			fmt.Fprintf(&b, ",tag%02d=value%d", j, i)
		}
		fmt.Fprintf(&b, " f=%d 0\n", i)
	}
	p := NewParser([]byte(b.String()), ParseOptions{})
	n := 0
	for {
		pts := p.Next(DefaultBatchPoints)
		if pts == nil {
			break
		}
		n += len(pts)
		if size := p.batchBytes(); size > maxBatchBytes+maxLineMapped {
			t.Fatalf("batch of %d points takes %d bytes", len(pts), size)
		}
		if len(pts) >= DefaultBatchPoints {
			t.Fatalf("batch of %d points: not cut by size", len(pts))
		}
	}
	if n != 3000 {
		t.Fatalf("%d points, want 3000", n)
	}
	// Every line is bad after its field names were made: strings only.
	var bad strings.Builder
	for i := range 40000 {
		fmt.Fprintf(&bad, "m%d,t=v f%d=1,g%d=1 x\n", i, i, i)
	}
	p = NewParser([]byte(bad.String()), ParseOptions{})
	if pts := p.Next(DefaultBatchPoints); pts != nil || p.sb.Len() > maxBatchBytes+maxLineMapped {
		t.Fatalf("%d points, %d bytes of strings", len(pts), p.sb.Len())
	}
	if parse, _ := p.Rejected(); parse != 40000 {
		t.Fatalf("%d lines rejected, want 40000", parse)
	}
}

// TestParser_Cache_Bounded checks that a body of ever new tag sets and
// names stops caching at maxCacheBytes.
func TestParser_Cache_Bounded(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "meas%d,host=%s%d f%d=1 0\n", i%3000, strings.Repeat("h", 100), i, i)
	}
	p := NewParser([]byte(b.String()), ParseOptions{Now: time.Unix(0, 0)})
	n := 0
	for pts := p.Next(1000); pts != nil; pts = p.Next(1000) {
		n += len(pts)
		if p.cache.Len() > maxCacheBytes+1024 {
			t.Fatalf("cache arena %d bytes", p.cache.Len())
		}
	}
	if n != 20000 || !p.cacheFull() {
		t.Fatalf("%d points, cache full %v", n, p.cacheFull())
	}
}
