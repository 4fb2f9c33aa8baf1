package collectd

import (
	"crypto/aes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"outpost/tsdb"
)

// The vectors of protocol-vectors.json (see ../shared/conformance/ingest/SOURCES.md).

func TestVectors_Encode(t *testing.T) {
	v := readVectors(t)
	for _, e := range v.Encode {
		t.Run(e.ID, func(t *testing.T) {
			wire := unhex(t, e.WireHex)
			var got []byte
			switch e.ID {
			case "gocd-write-time":
				var in struct {
					T string `json:"time_unix"`
				}
				mustJSON(t, e.Input, &in)
				got = numPart(partTimeHR, unixToCdtime(t, in.T))
			case "gocd-write-values":
				got = valuesPart(gauge(42), derive(31337), Value{Type: Gauge, Bits: 0x7ff8000000000000})
			case "gocd-write-string":
				got = strPart(0xf007, "foo")
			case "gocd-write-int":
				got = numPart(23, 384)
			case "gocd-write-value-list-x2":
				got = checkValueListPair(t, wire)
			default:
				t.Fatalf("vector %q not understood by this test", e.ID)
			}
			if e.ID != "gocd-write-value-list-x2" && string(got) != string(wire) {
				t.Errorf("encoded %x, want %x", got, wire)
			}
		})
	}
}

// checkValueListPair parses the two delta-encoded value lists and returns
// the wire unchanged (the parse is the check).
func checkValueListPair(t *testing.T, wire []byte) []byte {
	t.Helper()
	got, _, err := parseAll(NewParser(None, nil), wire)
	if err != nil || len(got) != 2 {
		t.Fatalf("parse: %v, %d lists", err, len(got))
	}
	want := []struct {
		pi string
		ms int64
		v  int64
	}{{"", 1426076671123, 1}, {"test", 1426076681234, 2}}
	for i, w := range want {
		g := got[i]
		if g.Host != "example.com" || g.Plugin != "golang" || g.Type != "gauge" || g.PluginInstance != w.pi ||
			g.Millis() != w.ms || g.Interval != 10<<30 || len(g.Values) != 1 || g.Values[0] != derive(w.v) {
			t.Errorf("list %d = %+v", i, g)
		}
	}
	return wire
}

// unixToCdtime converts "seconds.fraction" to 2^-30 s units, rounding.
func unixToCdtime(t *testing.T, s string) uint64 {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	whole, err := strconv.ParseUint(sec, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	f, err := strconv.ParseFloat("0."+frac, 64)
	if err != nil {
		t.Fatal(err)
	}
	return whole<<30 + uint64(math.Round(f*(1<<30)))
}

func mustJSON(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

func TestVectors_Decode(t *testing.T) {
	v := readVectors(t)
	for _, d := range v.Decode {
		t.Run(d.ID, func(t *testing.T) {
			switch d.ID {
			case "lcc-parse-time-TIME", "lcc-parse-time-TIME_HR":
				typ := uint16(partTime)
				if strings.HasSuffix(d.ID, "TIME_HR") {
					typ = partTimeHR
				}
				for _, c := range d.Cases {
					got, _, err := parseAll(NewParser(None, nil),
						cat(numPart(typ, c.InUint64), strPart(partPlugin, "p"), strPart(partType, "t"), valuesPart(gauge(1))))
					if err != nil || len(got) != 1 {
						t.Fatalf("parse: %v", err)
					}
					want := strings.Trim(string(c.WantUnix), `"`)
					wantMs := int64(math.Round(mustFloat(t, want) * 1000))
					if got[0].Millis() != wantMs {
						t.Errorf("%d -> %d ms, want %s s", c.InUint64, got[0].Millis(), want)
					}
				}
			case "lcc-parse-string":
				for _, c := range d.Cases {
					got, err := checkString(unhex(t, c.PayloadHex), 5) // the test's 5-byte buffer
					var want string
					_ = json.Unmarshal(c.Want, &want)
					if (err != nil) != (c.WantError != "") || (err == nil && string(got) != want) {
						t.Errorf("%s: %q, %v; want %q, error %q", c.PayloadHex, got, err, want, c.WantError)
					}
				}
			case "gocd-parse-int":
				for _, c := range d.Cases {
					got, err := parseNumber(unhex(t, c.PayloadHex))
					var want uint64
					_ = json.Unmarshal(c.Want, &want)
					if (err != nil) != (c.WantError != "") || got != want {
						t.Errorf("%s: %d, %v; want %d, error %q", c.PayloadHex, got, err, want, c.WantError)
					}
				}
			case "lcc-parse-values":
				got, err := NewParser(None, nil).parseValues(unhex(t, d.PayloadHex))
				if err != nil || len(got) != 3 || got[0] != gauge(42) || got[1] != derive(31337) ||
					got[2].Type != Gauge || !math.IsNaN(got[2].Float64()) {
					t.Errorf("values = %+v, %v", got, err)
				}
			case "gocd-one-byte":
				if _, _, err := parseAll(NewParser(None, nil), unhex(t, d.PacketHex)); !errors.Is(err, ErrTruncated) {
					t.Errorf("err = %v, want %v (%s)", err, ErrTruncated, d.WantError)
				}
			default:
				t.Fatalf("vector %q not understood by this test", d.ID)
			}
		})
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestVectors_Security(t *testing.T) {
	v := readVectors(t)
	for _, s := range v.Security {
		t.Run(s.ID, func(t *testing.T) {
			auth := users{s.Username: s.Password}
			switch s.ID {
			case "sign-sha256":
				pkt := unhex(t, s.PartHex)
				if string(signPacket(s.Username, s.Password, []byte(s.SignedPayload))) != string(pkt) {
					t.Error("our signature differs from the vector's")
				}
				// "collectd" is no valid part: a verified packet fails on it as
				// truncated, an unverified one as a bad signature.
				verify := func(pkt []byte, a users) error {
					_, _, err := parseAll(NewParser(Sign, a), pkt)
					return err
				}
				if err := verify(pkt, auth); !errors.Is(err, ErrTruncated) {
					t.Errorf("good signature: err %v, want it verified (then %v)", err, ErrTruncated)
				}
				bad := flip(flip(pkt, len(pkt)-1), len(pkt)-3)
				if err := verify(bad, auth); !errors.Is(err, ErrBadSignature) {
					t.Errorf("two bytes flipped: err %v", err)
				}
				if err := verify(pkt, users{s.Username: "test123"}); !errors.Is(err, ErrBadSignature) {
					t.Errorf("password test123: err %v", err)
				}
				altered := []byte(strings.Replace(string(pkt), "collectd", "collEctd", 1))
				if err := verify(altered, auth); !errors.Is(err, ErrBadSignature) {
					t.Errorf("payload collEctd: err %v", err)
				}
			case "encrypt-aes256-decrypt":
				key := sha256.Sum256([]byte(s.Password))
				block, _ := aes.NewCipher(key[:])
				ct := unhex(t, s.CiphertextHex)
				got := make([]byte, len(ct))
				xorOFB(block, unhex(t, s.IVHex), got, ct, new([16]byte))
				if want := unhex(t, s.WantPlainHex); string(got) != string(want) {
					t.Errorf("plaintext %x, want %x", got, want)
				}
				// Through the parser: decrypted and checked, then "collectd"
				// fails as a part.
				pkt := cat([]byte{0x02, 0x10, 0, byte(4 + 2 + 5 + 16 + len(ct)), 0, 5}, []byte("admin"), unhex(t, s.IVHex), ct)
				if _, _, err := parseAll(NewParser(Encrypt, users{"admin": s.Password}), pkt); !errors.Is(err, ErrTruncated) {
					t.Errorf("parse: err %v, want decrypted (then %v)", err, ErrTruncated)
				}
			case "encrypt-aes256-header":
				got := encryptPacket(s.Username, s.Password, make([]byte, 16), []byte(s.Plaintext))
				if want := unhex(t, s.WantPrefixHex); string(got[:len(want)]) != string(want) {
					t.Errorf("prefix %x, want %x", got[:len(want)], want)
				}
			default:
				t.Fatalf("vector %q not understood by this test", s.ID)
			}
		})
	}
}

func TestVectors_TypesDBConversion(t *testing.T) {
	v := readVectors(t)
	db, err := ParseTypesDB(strings.NewReader(v.TypesDBConversion.TypesDB))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]DSType{"gauge": Gauge, "derive": Derive, "counter": Counter}
	for i, c := range v.TypesDBConversion.Cases {
		t.Run(strconv.Itoa(i)+"-"+c.Type, func(t *testing.T) {
			var vals []Value
			for _, w := range c.Wire {
				for k, x := range w {
					if kinds[k] == Gauge {
						vals = append(vals, gauge(x))
					} else {
						vals = append(vals, Value{Type: kinds[k], Bits: uint64(int64(x))})
					}
				}
			}
			vl := ValueList{Host: "h", Plugin: "p", Type: c.Type, Time: 1 << 30, Values: vals}
			d := drops{}
			pts := newMapper(db).appendPoints(nil, &vl, 0, d)
			var wantVals []map[string]float64
			if json.Unmarshal(c.Want, &wantVals) != nil { // "dropped (...)"
				if len(pts) != 0 || d[reasonCountMismatch] != uint64(len(vals)) {
					t.Errorf("got %d points, drops %v; want the list dropped", len(pts), d)
				}
				return
			}
			if len(pts) != len(wantVals) {
				t.Fatalf("got %d points, want %d", len(pts), len(wantVals))
			}
			for j, w := range wantVals {
				for _, x := range w {
					if pts[j].V != x || pts[j].Labels.Get(tsdb.MetricName) != "p_"+c.DSNames[j] || pts[j].T != 1000 {
						t.Errorf("point %d = %v, want p_%s = %v", j, pts[j], c.DSNames[j], x)
					}
				}
			}
		})
	}
}

func TestParser_Parse_CapturePackets(t *testing.T) {
	dir := sharedPath(t, "collectd/packets")
	want := map[string]int{"collectd-capture-0.bin": 27, "collectd-capture-1.bin": 30, "collectd-capture-2.bin": 22,
		"collectd-capture-3.bin": 26, "collectd-capture-4.bin": 34, "go-collectd-packet1.bin": 1,
		"go-collectd-packet2.bin": 1, "influxdb1x-collectd-capture.bin": 19}
	total := 0
	for name, n := range want {
		got, _, err := parseAll(NewParser(None, nil), mustRead(t, dir+"/"+name))
		if err != nil || len(got) != n {
			t.Errorf("%s: %d lists, %v; want %d", name, len(got), err, n)
		}
		if name[:8] == "collectd" {
			total += len(got)
		}
	}
	if total != 139 {
		t.Errorf("the five collectd captures hold %d value lists, want 139 (collectd's own test)", total)
	}
}
