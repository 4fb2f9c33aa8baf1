package collectd

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// dsString renders a data set as "name a:GAUGE:0:U b:DERIVE:U:10".
func dsString(ds *DataSet) string {
	s := ds.Name
	for _, src := range ds.Sources {
		s += " " + src.Name + ":" + src.Type.String() + ":" + bound(src.Min) + ":" + bound(src.Max)
	}
	return s
}

func bound(f float64) string {
	if math.IsNaN(f) {
		return "U"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func TestParseTypesDB_Lines(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		db, err := ParseTypesDB(strings.NewReader(in))
		if err != nil {
			t.Fatalf("ParseTypesDB(%q): %v", in, err)
		}
		if db.Len() != len(want) {
			t.Fatalf("ParseTypesDB(%q): %d types, want %d", in, db.Len(), len(want))
		}
		for _, w := range want {
			name, _, _ := strings.Cut(w, " ")
			ds, ok := db.DataSet(name)
			if !ok {
				t.Fatalf("ParseTypesDB(%q): no type %q", in, name)
			}
			if got := dsString(ds); got != w {
				t.Errorf("ParseTypesDB(%q): %q, want %q", in, got, w)
			}
		}
	}
	f("")
	f("# only a comment\n\n   \n")
	f("load shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n",
		"load shortterm:GAUGE:0:5000 midterm:GAUGE:0:5000 longterm:GAUGE:0:5000")
	f("ib_octets  rx:DERIVE:0:U tx:DERIVE:0:U", "ib_octets rx:DERIVE:0:U tx:DERIVE:0:U")
	f("if_octets\trx:DERIVE:0:U,tx:DERIVE:0:U\r\n", "if_octets rx:DERIVE:0:U tx:DERIVE:0:U")
	f("temperature value:gauge:-273.15:U # trailing comment", "temperature value:GAUGE:-273.15:U")
	f("absolute value:ABSOLUTE:0:U\ncounter value:COUNTER:U:U",
		"absolute value:ABSOLUTE:0:U", "counter value:COUNTER:U:U")
	f("x a:GAUGE:0:1\nx b:DERIVE:0:U", "x b:DERIVE:0:U") // a later line replaces
}

func TestParseTypesDB_Errors(t *testing.T) {
	f := func(in string, line, col int, msg string) {
		t.Helper()
		_, err := ParseTypesDB(strings.NewReader(in))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("ParseTypesDB(%q) = %v, want a *ParseError", in, err)
		}
		if pe.Line != line || pe.Col != col || !strings.Contains(pe.Msg, msg) {
			t.Errorf("ParseTypesDB(%q) = %d:%d %q, want %d:%d containing %q", in, pe.Line, pe.Col, pe.Msg, line, col, msg)
		}
	}
	f("ok value:GAUGE:0:U\nlonely\n", 2, 1, "no data sources")
	f("a value:GAUGE:0", 1, 3, "want name:TYPE:min:max")
	f("\n\nb value:HISTOGRAM:0:U", 3, 3, "not GAUGE, DERIVE, COUNTER or ABSOLUTE")
	f("c x:GAUGE:0:U, y:GAUGE:zero:U", 1, 16, "numbers or U")
	f("d :GAUGE:0:U", 1, 3, "empty name")
	f("e rx:DERIVE:0:U rx:DERIVE:0:U", 1, 17, "defined twice")
}

func TestParseTypesDB_RealFiles(t *testing.T) {
	for _, p := range []string{filepath.Join(sharedIngest, "types.db"), SystemTypesDB} {
		t.Run(p, func(t *testing.T) {
			if _, err := os.Stat(p); err != nil {
				t.Skipf("absent: %v", err)
			}
			db, err := ReadTypesDB(p)
			if err != nil {
				t.Fatal(err)
			}
			if db.Len() < 300 {
				t.Errorf("%d types, want collectd's 300+", db.Len())
			}
			for name, want := range map[string]string{
				"load":      "load shortterm:GAUGE:0:5000 midterm:GAUGE:0:5000 longterm:GAUGE:0:5000",
				"if_octets": "if_octets rx:DERIVE:0:U tx:DERIVE:0:U",
				"cpu":       "cpu value:DERIVE:0:U",
				"absolute":  "absolute value:ABSOLUTE:0:U",
			} {
				if ds, ok := db.DataSet(name); !ok || dsString(ds) != want {
					t.Errorf("%s = %v, want %q", name, ds, want)
				}
			}
			// The built-in table states the same facts as collectd's file.
			for _, bt := range builtinTypes {
				got, ok := db.DataSet(bt.name)
				if !ok {
					if p != SystemTypesDB { // Debian 12's older file lacks a few newer types
						t.Errorf("built-in type %q not in %s", bt.name, p)
					}
					continue
				}
				want, _ := BuiltinTypesDB().DataSet(bt.name)
				if namesKinds(got) != namesKinds(want) {
					t.Errorf("built-in %q = %s, file says %s", bt.name, namesKinds(want), namesKinds(got))
				}
			}
			// Every type of the file that is not a single "value" is built in.
			for name, ds := range db.sets {
				if len(ds.Sources) == 1 && ds.Sources[0].Name == "value" {
					continue
				}
				if _, ok := BuiltinTypesDB().DataSet(name); !ok {
					t.Errorf("type %q (%s) is missing from the built-in table", name, namesKinds(ds))
				}
			}
		})
	}
}

func namesKinds(ds *DataSet) string {
	var s []string
	for _, src := range ds.Sources {
		s = append(s, src.Name+":"+src.Type.String())
	}
	return strings.Join(s, ",")
}

func TestLoadTypesDB_Overrides(t *testing.T) {
	dir := t.TempDir()
	sys := filepath.Join(dir, "system.db")
	write(t, sys, "load one:GAUGE:0:U, two:GAUGE:0:U, three:GAUGE:0:U\nsys_only value:GAUGE:0:U\n")
	userDir := filepath.Join(dir, "types.d")
	if err := os.Mkdir(userDir, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(userDir, "a.db"), "if_octets in:DERIVE:0:U, out:DERIVE:0:U\n")
	write(t, filepath.Join(userDir, "b.db"), "if_octets bytes_in:DERIVE:0:U, bytes_out:DERIVE:0:U\n")
	write(t, filepath.Join(userDir, ".hidden"), "not a types line\n")
	userFile := filepath.Join(dir, "my.db")
	write(t, userFile, "sys_only a:GAUGE:0:U, b:GAUGE:0:U\n")

	t.Run("built-in, then system, then user paths in order", func(t *testing.T) {
		db, sysErr, err := LoadTypesDB(sys, []string{userDir, userFile})
		if err != nil || sysErr != nil {
			t.Fatal(err, sysErr)
		}
		for name, want := range map[string]string{
			"load":      "one:GAUGE,two:GAUGE,three:GAUGE",
			"if_octets": "bytes_in:DERIVE,bytes_out:DERIVE",
			"sys_only":  "a:GAUGE,b:GAUGE",
			"df":        "used:GAUGE,free:GAUGE",
		} {
			ds, ok := db.DataSet(name)
			if !ok || namesKinds(ds) != want {
				t.Errorf("%s = %v, want %s", name, ds, want)
			}
		}
	})
	t.Run("absent system file is not an error", func(t *testing.T) {
		db, sysErr, err := LoadTypesDB(filepath.Join(dir, "nope"), nil)
		if err != nil || sysErr != nil || db.Len() != len(builtinTypes) {
			t.Errorf("err %v %v, %d types", err, sysErr, db.Len())
		}
	})
	t.Run("a bad system file is reported and skipped", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.db")
		write(t, bad, "x y\n")
		db, sysErr, err := LoadTypesDB(bad, nil)
		if err != nil || sysErr == nil || db.Len() != len(builtinTypes) {
			t.Errorf("err %v, sysErr %v, %d types", err, sysErr, db.Len())
		}
	})
	t.Run("a bad user file names file and line", func(t *testing.T) {
		bad := filepath.Join(dir, "user-bad.db")
		write(t, bad, "ok value:GAUGE:0:U\nbroken value:GAUGE\n")
		_, _, err := LoadTypesDB("", []string{bad})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != bad || pe.Line != 2 {
			t.Errorf("err = %v, want %s line 2", err, bad)
		}
		if !strings.Contains(err.Error(), "user-bad.db:2:8") {
			t.Errorf("message %q lacks file:line:col", err)
		}
	})
	t.Run("a missing user path is an error", func(t *testing.T) {
		if _, _, err := LoadTypesDB("", []string{filepath.Join(dir, "missing.db")}); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
	})
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
