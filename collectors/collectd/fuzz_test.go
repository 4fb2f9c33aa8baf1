package collectd

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// maxFuzzPacket caps fuzz inputs at the largest UDP datagram.
const maxFuzzPacket = 65535

// fuzzUsers are the users the fuzzed parsers know.
var fuzzUsers = users{"alice": "pw", captureUser: capturePassword}

// Run: go test -run '^$' -fuzz '^FuzzParsePacket$' -fuzztime 60s ./collectors/collectd/
//
// Seeds: testdata/fuzz/FuzzParsePacket, packets built here (signed and
// encrypted ones need the keys), and the peer captures when ../shared is
// present.
func FuzzParsePacket(f *testing.F) {
	plain := cat(hdr, loadParts, strPart(partPlugin, "cpu"), strPart(partType, "cpu"), valuesPart(derive(3)))
	iv := []byte("0123456789abcdef")
	f.Add(signPacket("alice", "pw", plain), byte(Sign))
	f.Add(encryptPacket("alice", "pw", iv, plain), byte(Encrypt))
	f.Add(cat(encryptPacket("alice", "pw", iv, signPacket("alice", "pw", plain)), plain), byte(None))
	for _, glob := range []string{"collectd-packets/*/pkt-00[1-3].bin", "collectd/packets/*.bin"} {
		paths, _ := filepath.Glob(filepath.Join(sharedIngest, glob))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b, byte(strings.Count(p, "/sign/")+2*strings.Count(p, "/encrypt/")))
			}
		}
	}
	parsers := [3]*Parser{NewParser(None, fuzzUsers), NewParser(Sign, fuzzUsers), NewParser(Encrypt, fuzzUsers)}
	noAuth := NewParser(None, nil)
	m := newMapper(BuiltinTypesDB())
	f.Fuzz(func(t *testing.T, pkt []byte, level byte) {
		if len(pkt) > maxFuzzPacket {
			t.Skip()
		}
		orig := cat(pkt)
		for _, p := range []*Parser{parsers[int(level)%3], noAuth} {
			got, res, err := parseAll(p, pkt)
			if err != nil && Reason(err) == "invalid" {
				t.Fatalf("error outside errors.go: %v", err)
			}
			if res.ValueLists != len(got) {
				t.Fatalf("result says %d lists, %d emitted", res.ValueLists, len(got))
			}
			for i := range got {
				checkFuzzedList(t, &got[i])
				m.appendPoints(nil, &got[i], 0, drops{})
			}
			if string(pkt) != string(orig) {
				t.Fatal("Parse modified its input")
			}
			if p == noAuth && err == nil && len(got) > 0 {
				checkReencoded(t, got)
			}
		}
	})
}

func checkFuzzedList(t *testing.T, vl *ValueList) {
	t.Helper()
	if len(vl.Values) == 0 || len(vl.Values) > 65535 {
		t.Fatalf("%d values", len(vl.Values))
	}
	for _, s := range []string{vl.Host, vl.Plugin, vl.PluginInstance, vl.Type, vl.TypeInstance} {
		if len(s) >= maxNameLen || strings.IndexByte(s, 0) >= 0 {
			t.Fatalf("identifier %q breaks collectd's limits", s)
		}
	}
	for _, v := range vl.Values {
		if v.Type > Absolute {
			t.Fatalf("value kind %d", v.Type)
		}
	}
}

// checkReencoded writes the lists again, every part in full, and expects
// the same lists back: the delta encoding carried the state correctly.
func checkReencoded(t *testing.T, lists []ValueList) {
	t.Helper()
	var b []byte
	for _, vl := range lists {
		b = cat(b, strPart(partHost, vl.Host), numPart(partTimeHR, vl.Time), numPart(partIntervalHR, vl.Interval),
			strPart(partPlugin, vl.Plugin), strPart(partPluginInstance, vl.PluginInstance),
			strPart(partType, vl.Type), strPart(partTypeInstance, vl.TypeInstance), valuesPart(vl.Values...))
	}
	again, _, err := parseAll(NewParser(None, nil), b)
	if err != nil || !reflect.DeepEqual(again, lists) {
		t.Fatalf("re-encoded lists differ: %v\n got %+v\nwant %+v", err, again, lists)
	}
}

// Run: go test -run '^$' -fuzz '^FuzzTypesDB$' -fuzztime 60s ./collectors/collectd/
//
// Seeds: testdata/fuzz/FuzzTypesDB and collectd's types.db when present.
func FuzzTypesDB(f *testing.F) {
	for _, p := range []string{filepath.Join(sharedIngest, "types.db"), SystemTypesDB} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<16 {
			t.Skip()
		}
		db, err := ParseTypesDB(strings.NewReader(text))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !errors.Is(err, bufio.ErrTooLong) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		// Written back out, the types read the same.
		var out strings.Builder
		for _, ds := range db.sets {
			out.WriteString(dsString(ds) + "\n")
		}
		again, err := ParseTypesDB(strings.NewReader(out.String()))
		if err != nil {
			t.Fatalf("re-reading %q: %v", out.String(), err)
		}
		if again.Len() != db.Len() {
			t.Fatalf("%d types, then %d", db.Len(), again.Len())
		}
		for name, ds := range db.sets {
			if got, ok := again.DataSet(name); !ok || dsString(got) != dsString(ds) {
				t.Fatalf("type %q: %v, then %v", name, dsString(ds), got)
			}
		}
	})
}
