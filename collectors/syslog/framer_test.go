package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// frames reads every frame of in, a refused one as "!reason"; it reads
// through r(in) (whole, or a byte at a time).
func frames(t testing.TB, r io.Reader, max int) []string {
	fr := NewFramer(r, max)
	var out []string
	for i := 0; ; i++ {
		if i > 1_000_000 {
			t.Fatalf("Framer does not end")
		}
		b, err := fr.Next()
		var pe *ParseError
		switch {
		case err == nil:
			if len(b) > max {
				t.Fatalf("frame of %d bytes over max %d", len(b), max)
			}
			out = append(out, string(b))
		case errors.As(err, &pe):
			out = append(out, "!"+pe.Reason)
		case errors.Is(err, io.EOF):
			return out
		default:
			t.Fatalf("Next: %v", err)
		}
	}
}

func TestFramer_Next(t *testing.T) {
	f := func(in string, max int, want ...string) {
		t.Helper()
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			got := frames(t, r, max)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("frames of %q (%T):\n got %q\nwant %q", in, r, got, want)
			}
		}
	}
	f("", 100)
	f("<13>a\n<13>b\r\n\n\r\n<13>c", 100, "<13>a", "<13>b", "<13>c")
	f("5 <13>a6 <13>bc\n7 <13>\nde", 100, "<13>a", "<13>bc", "<13>\nde")
	f("0 \n", 100, "")
	f("<13>"+strings.Repeat("x", 200)+"\n<13>ok\n", 100, "!too_long", "<13>ok")
	f("<13>"+strings.Repeat("x", 96)+"\n", 100, "<13>"+strings.Repeat("x", 96))
	f("<13>"+strings.Repeat("x", 97)+"\r\n", 100, "!too_long")
	f("200 "+strings.Repeat("y", 200)+"5 <13>a", 100, "!too_long", "<13>a")
	f("999999999 abc", 100, "!too_long")
	f("10 <13>abc", 100, "!truncated")
	f("1234567890 x\n12a\n", 100, "1234567890 x", "12a")
	f("12", 100, "12")
	f("99 <13>a\n", 100, "!truncated")
	f(string(readTestdata(t, "stream.txt")), 100,
		"<13>1 2026-12-04T08:00:00Z h app - - - octet-counted one", "<13>Dec  4 08:00:00 h p: newline framed",
		"<13>Dec  4 08:00:00 h p: a\nb c", "!truncated")
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzFramer splits anything into frames, read whole and a byte at a
// time: it must end, never panic, never answer a frame over max, and
// give the same frames both ways.
//
//	go test -run '^$' -fuzz FuzzFramer -fuzztime 30s ./collectors/syslog
func FuzzFramer(f *testing.F) {
	f.Add(readTestdata(f, "stream.txt"))
	f.Add(readTestdata(f, "rfc5424.txt"))
	for _, s := range []string{"5 <13>a", "0 ", "999999999 x", "\r\n\n", "12", "3 abc\n4 abcd"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		whole := frames(t, bytes.NewReader(in), 64)
		bytewise := frames(t, iotest.OneByteReader(bytes.NewReader(in)), 64)
		if fmt.Sprintf("%q", whole) != fmt.Sprintf("%q", bytewise) {
			t.Fatalf("whole %q, byte by byte %q", whole, bytewise)
		}
	})
}
