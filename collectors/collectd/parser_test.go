package collectd

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// A typical identifier prefix: host, TIME_HR, INTERVAL_HR, plugin.
var (
	tHR       = uint64(1795434230)<<30 | 1<<29 // 1795434230.5 s
	hdr       = cat(strPart(partHost, "web1"), numPart(partTimeHR, tHR), numPart(partIntervalHR, 10<<30))
	loadParts = cat(strPart(partPlugin, "load"), strPart(partType, "load"),
		valuesPart(gauge(0.5), gauge(0.25), gauge(0.125)))
)

func TestParser_Parse_Parts(t *testing.T) {
	f := func(name string, pkt []byte, want []ValueList, wantRes Result) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, res, err := parseAll(NewParser(None, nil), pkt)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("value lists:\n got %+v\nwant %+v", got, want)
			}
			if res != wantRes {
				t.Errorf("result = %+v, want %+v", res, wantRes)
			}
		})
	}
	f("empty packet", nil, nil, Result{})
	f("one value list, seconds time and interval",
		cat(strPart(partHost, "h"), numPart(partTime, 1700000000), numPart(partInterval, 10),
			strPart(partPlugin, "cpu"), strPart(partPluginInstance, "0"), strPart(partType, "cpu"),
			strPart(partTypeInstance, "idle"), valuesPart(derive(42))),
		[]ValueList{{Host: "h", Plugin: "cpu", PluginInstance: "0", Type: "cpu", TypeInstance: "idle",
			Time: 1700000000 << 30, Interval: 10 << 30, Values: []Value{derive(42)}}},
		Result{ValueLists: 1})
	f("high-resolution time, three gauges",
		cat(hdr, loadParts),
		[]ValueList{{Host: "web1", Plugin: "load", Type: "load", Time: tHR, Interval: 10 << 30,
			Values: []Value{gauge(0.5), gauge(0.25), gauge(0.125)}}},
		Result{ValueLists: 1})
	f("every value kind, extremes kept bit for bit",
		cat(hdr, strPart(partPlugin, "p"), strPart(partType, "t"),
			valuesPart(counter(math.MaxUint64), gauge(math.Inf(-1)), derive(-5), absolute(7))),
		[]ValueList{{Host: "web1", Plugin: "p", Type: "t", Time: tHR, Interval: 10 << 30,
			Values: []Value{counter(math.MaxUint64), gauge(math.Inf(-1)), derive(-5), absolute(7)}}},
		Result{ValueLists: 1})
	f("delta encoding: later lists inherit the parts not resent",
		cat(hdr, strPart(partPlugin, "memory"), strPart(partType, "memory"),
			strPart(partTypeInstance, "used"), valuesPart(gauge(1)),
			strPart(partTypeInstance, "free"), valuesPart(gauge(2)),
			numPart(partTimeHR, tHR+1), strPart(partPlugin, "df"), strPart(partPluginInstance, "root"),
			strPart(partType, "df"), strPart(partTypeInstance, ""), valuesPart(gauge(3), gauge(4))),
		[]ValueList{
			{Host: "web1", Plugin: "memory", Type: "memory", TypeInstance: "used", Time: tHR, Interval: 10 << 30, Values: []Value{gauge(1)}},
			{Host: "web1", Plugin: "memory", Type: "memory", TypeInstance: "free", Time: tHR, Interval: 10 << 30, Values: []Value{gauge(2)}},
			{Host: "web1", Plugin: "df", PluginInstance: "root", Type: "df", Time: tHR + 1, Interval: 10 << 30, Values: []Value{gauge(3), gauge(4)}},
		},
		Result{ValueLists: 3})
	f("unknown parts are skipped, notifications counted",
		cat(hdr, []byte{0x7f, 0x00, 0x00, 0x06, 0xaa, 0xbb}, numPart(partSeverity, 2),
			strPart(partMessage, "disk full"), loadParts),
		[]ValueList{{Host: "web1", Plugin: "load", Type: "load", Time: tHR, Interval: 10 << 30,
			Values: []Value{gauge(0.5), gauge(0.25), gauge(0.125)}}},
		Result{ValueLists: 1, Notifications: 1})
	f("a string ends at its first NUL, as in C",
		cat(strPart(partPlugin, "cpu\x00junk"), strPart(partType, "cpu"), valuesPart(derive(1))),
		[]ValueList{{Plugin: "cpu", Type: "cpu", Values: []Value{derive(1)}}},
		Result{ValueLists: 1})
	f("a 127-byte name, collectd's longest",
		cat(strPart(partPlugin, strings.Repeat("p", 127)), strPart(partType, "t"), valuesPart(derive(1))),
		[]ValueList{{Plugin: strings.Repeat("p", 127), Type: "t", Values: []Value{derive(1)}}},
		Result{ValueLists: 1})
}

func TestParser_Parse_Corrupt(t *testing.T) {
	good := cat(hdr, loadParts)
	f := func(name string, pkt []byte, wantLists int, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, res, err := parseAll(NewParser(None, nil), pkt)
			if !errors.Is(err, wantErr) {
				t.Fatalf("err = %v, want %v", err, wantErr)
			}
			if len(got) != wantLists || res.ValueLists != wantLists {
				t.Errorf("kept %d value lists (result %d), want %d", len(got), res.ValueLists, wantLists)
			}
			for _, vl := range got {
				if vl.Plugin != "load" || len(vl.Values) != 3 || vl.Values[2] != gauge(0.125) {
					t.Errorf("kept value list %+v is not the good one", vl)
				}
			}
		})
	}
	f("part longer than the packet", cat(good, good[:len(good)-3]), 1, ErrTruncated)
	f("one byte", []byte{0}, 0, ErrTruncated)
	f("four stray bytes after good lists", cat(good, []byte{0, 6, 0, 15}), 1, ErrTruncated)
	f("part length below its header", cat(good, []byte{0, 2, 0, 3, 0, 0}), 1, ErrMalformed)
	f("string without NUL", cat(good, []byte{0, 2, 0, 7, 'c', 'p', 'u'}, loadParts), 1, ErrMalformed)
	f("empty string part", cat(good, []byte{0, 2, 0, 4}, loadParts), 1, ErrMalformed)
	f("string over 128 bytes", cat(good, strPart(partHost, strings.Repeat("h", 128)), loadParts), 1, ErrMalformed)
	f("number part of 4 bytes", cat(good, []byte{0, 8, 0, 8, 1, 2, 3, 4}, loadParts), 1, ErrMalformed)
	f("values count disagrees with length", cat(good, []byte{0, 6, 0, 15, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0}), 1, ErrMalformed)
	f("values with no value", cat(good, []byte{0, 6, 0, 6, 0, 0}, loadParts), 1, ErrMalformed)
	f("values of unknown kind 9", cat(good, valuesPart(Value{Type: 9}), loadParts), 1, ErrMalformed)
	f("garbage after two good packets' lists", cat(good, loadParts, []byte{0xde, 0xad, 0xbe, 0xef, 0x01}), 2, ErrTruncated)
}

func TestParser_Parse_Security(t *testing.T) {
	const user, pw = "alice", "w0nderl4nd"
	auth := users{user: pw, "bob": "bu1|der"}
	iv := []byte("0123456789abcdef")
	plain := cat(hdr, loadParts)
	signed := signPacket(user, pw, plain)
	encrypted := encryptPacket(user, pw, iv, plain)
	f := func(name string, level SecurityLevel, a PasswordLookup, pkt []byte, wantLists, wantIgnored int, wantErr error) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			var lookup PasswordLookup
			if a != nil {
				lookup = a
			}
			got, res, err := parseAll(NewParser(level, lookup), pkt)
			if !errors.Is(err, wantErr) {
				t.Fatalf("err = %v, want %v", err, wantErr)
			}
			if len(got) != wantLists || res.Ignored != wantIgnored {
				t.Fatalf("got %d value lists, %d ignored; want %d, %d", len(got), res.Ignored, wantLists, wantIgnored)
			}
			for _, vl := range got {
				if vl.Host != "web1" || vl.Plugin != "load" || vl.Values[0] != gauge(0.5) {
					t.Errorf("value list %+v is not the one sent", vl)
				}
			}
		})
	}
	f("none, no auth file: plain", None, nil, plain, 1, 0, nil)
	f("none, no auth file: signed accepted unverified", None, nil, signPacket(user, "wrong", plain), 1, 0, nil)
	f("none, no auth file: encrypted refused", None, nil, encrypted, 0, 0, ErrNoAuthFile)
	f("none, auth file: signed verified", None, auth, signed, 1, 0, nil)
	f("none, auth file: wrong password", None, auth, signPacket(user, "wrong", plain), 0, 0, ErrBadSignature)
	f("none, auth file: unknown user", None, auth, signPacket("mallory", pw, plain), 0, 0, ErrUnknownUser)
	f("none, auth file: encrypted", None, auth, encrypted, 1, 0, nil)
	f("sign: plain ignored", Sign, auth, plain, 0, 1, nil)
	f("sign: signed", Sign, auth, signed, 1, 0, nil)
	f("sign: encrypted", Sign, auth, encrypted, 1, 0, nil)
	f("sign: plain list then signed rest", Sign, auth, cat(plain, signPacket(user, pw, plain)), 1, 1, nil)
	f("sign: altered byte", Sign, auth, flip(signed, len(signed)-1), 0, 0, ErrBadSignature)
	f("sign: another user's password", Sign, auth, signPacket("bob", pw, plain), 0, 0, ErrBadSignature)
	f("encrypt: plain ignored", Encrypt, auth, plain, 0, 1, nil)
	f("encrypt: signed ignored", Encrypt, auth, signed, 0, 1, nil)
	f("encrypt: encrypted", Encrypt, auth, encrypted, 1, 0, nil)
	f("encrypt: wrong password", Encrypt, auth, encryptPacket(user, "wrong", iv, plain), 0, 0, ErrDecrypt)
	f("encrypt: unknown user", Encrypt, auth, encryptPacket("mallory", pw, iv, plain), 0, 0, ErrUnknownUser)
	f("encrypt: altered ciphertext", Encrypt, auth, flip(encrypted, len(encrypted)-2), 0, 0, ErrDecrypt)
	f("encrypt: two encrypted parts", Encrypt, auth, cat(encrypted, encrypted), 2, 0, nil)
	f("encrypt: signed inside encrypted", Encrypt, auth, encryptPacket(user, pw, iv, signed), 1, 0, nil)
	f("encrypt: corrupt plaintext keeps its good lists and the next part",
		Encrypt, auth, cat(encryptPacket(user, pw, iv, cat(plain, []byte{0, 2, 0, 5, 'x'})), encrypted), 2, 0, ErrMalformed)
	f("encrypt: truncated after a good part", Encrypt, auth, cat(encrypted, encrypted[:30]), 1, 0, ErrTruncated)
	f("encrypt: user name length zero", Encrypt, auth, setUint16(encrypted, 4, 0), 0, 0, ErrMalformed)
	f("encrypt: user name longer than the part", Encrypt, auth, setUint16(encrypted, 4, 999), 0, 0, ErrMalformed)
	f("encrypt: part too short for its header", Encrypt, auth, encrypted[:40:40], 0, 0, ErrTruncated)
	f("sign: signature part without user", Sign, auth, setUint16(signed, 2, 36), 0, 0, ErrMalformed)
	deep := plain
	for range maxDepth + 1 {
		deep = encryptPacket(user, pw, iv, deep)
	}
	f("encrypt: nested deeper than the limit", Encrypt, auth, deep, 0, 0, ErrMalformed)
}

// flip returns a copy of b with byte i inverted.
func flip(b []byte, i int) []byte {
	c := cat(b)
	c[i] ^= 0xff
	return c
}

// setUint16 returns a copy of b with a big-endian uint16 at offset i.
func setUint16(b []byte, i int, v uint16) []byte {
	c := cat(b)
	c[i], c[i+1] = byte(v>>8), byte(v)
	return c
}

func TestParser_Parse_NoAllocationsWhenWarm(t *testing.T) {
	auth := users{"alice": "pw"}
	plain := cat(hdr, loadParts, strPart(partPlugin, "cpu"), strPart(partType, "cpu"), valuesPart(derive(9)))
	for _, tc := range []struct {
		name  string
		level SecurityLevel
		pkt   []byte
	}{
		{"none", None, plain},
		{"sign", Sign, signPacket("alice", "pw", plain)},
		{"encrypt", Encrypt, encryptPacket("alice", "pw", []byte("0123456789abcdef"), plain)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(tc.level, auth)
			n := 0
			emit := func(vl *ValueList) { n += len(vl.Values) }
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := p.Parse(tc.pkt, emit); err != nil {
					t.Fatal(err)
				}
			})
			if n == 0 {
				t.Fatal("no values parsed")
			}
			if allocs > 0 {
				t.Errorf("%.1f allocations per packet, want at most 1", allocs)
			}
		})
	}
}

func TestValueList_Millis_RoundsToNearest(t *testing.T) {
	f := func(cdtime uint64, want int64) {
		t.Helper()
		vl := ValueList{Time: cdtime}
		if got := vl.Millis(); got != want {
			t.Errorf("Millis(%d) = %d, want %d", cdtime, got, want)
		}
	}
	f(1700000000<<30, 1700000000000)
	f(1700000000<<30|1<<29, 1700000000500)
	f(1700000000<<30|(1<<30)*999/1000, 1700000000999)
	f(1700000000<<30|(1<<30-1), 1700000001000) // 0.99999999907 s rounds up
	f(1927832825263329187, 1795434230252)
}

func TestParseSecurityLevel(t *testing.T) {
	for in, want := range map[string]SecurityLevel{"none": None, "Sign": Sign, "ENCRYPT": Encrypt} {
		got, err := ParseSecurityLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseSecurityLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSecurityLevel("foo"); err == nil {
		t.Error("ParseSecurityLevel(foo) succeeded")
	}
}
