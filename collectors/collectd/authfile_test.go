package collectd

import (
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAuthFile_CollectdRules(t *testing.T) {
	in := "alice: w0nderl4nd\n" +
		"  bob:\tbu1|der  \r\n" + // leading blanks skipped, trailing kept
		"# carol: commented\n" +
		"   # dave: commented after blanks\n" +
		"no colon here\n" +
		"erin:   \n" + // no password
		"alice: second definition\n" + // the first wins
		"frank : spaced\n" + // the user keeps its trailing blank, as in collectd
		"grace:pa:ss\n" + // the password may hold colons
		"heidi: last line without newline"
	got, err := ParseAuthFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alice":  "w0nderl4nd",
		"bob":    "bu1|der  ",
		"frank ": "spaced",
		"grace":  "pa:ss",
		"heidi":  "last line without newline",
	}
	if !maps.Equal(got, want) {
		t.Errorf("ParseAuthFile = %q, want %q", got, want)
	}
}

func TestAuthFile_Password_ReloadsOnChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth")
	write(t, path, "alice: one\n")
	a, err := OpenAuthFile(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	a.now = func() time.Time { return now }
	a.checked = now
	if pw, ok := a.Password("alice"); !ok || pw != "one" {
		t.Fatalf("alice = %q, %v", pw, ok)
	}
	write(t, path, "alice: two\nbob: three\n")
	if _, ok := a.Password("bob"); ok {
		t.Error("bob visible before the recheck period")
	}
	now = now.Add(authRecheck)
	if pw, ok := a.Password("bob"); !ok || pw != "three" {
		t.Errorf("bob = %q, %v after the file changed", pw, ok)
	}
	if pw, _ := a.Password("alice"); pw != "two" {
		t.Errorf("alice = %q, want the new password", pw)
	}
	if _, ok := a.Password("mallory"); ok {
		t.Error("unknown user found")
	}
}

func TestOpenAuthFile_Missing(t *testing.T) {
	if _, err := OpenAuthFile(filepath.Join(t.TempDir(), "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}
