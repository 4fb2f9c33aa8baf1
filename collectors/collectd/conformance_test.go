package collectd

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"outpost/tsdb"
)

// The real packets of ../shared/conformance/ingest/collectd-packets, sent by
// collectd 5.12 to three servers (none, Sign, Encrypt) with this user.
const (
	captureUser     = "collectd-test"
	capturePassword = "s3cr3t-pw"
)

var decodedLine = regexp.MustCompile(`^0x([0-9a-f]{4}) +(\w+) +len=(\d+) +(.*)$`)

// readDecoded reads a decoded.txt: for each packet file, the value lists its
// part-by-part decode describes.
func readDecoded(t *testing.T, path string) map[string][]ValueList {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]ValueList{}
	var name string
	var st ValueList
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "### "); ok {
			name, _, _ = strings.Cut(rest, " ")
			st = ValueList{}
			out[name] = nil
			continue
		}
		m := decodedLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		arg := m[4]
		switch m[2] {
		case "host", "plugin", "plugin_instance", "type", "type_instance":
			s, err := strconv.Unquote(arg)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, line, err)
			}
			*map[string]*string{"host": &st.Host, "plugin": &st.Plugin, "plugin_instance": &st.PluginInstance,
				"type": &st.Type, "type_instance": &st.TypeInstance}[m[2]] = s
		case "time_hr", "interval_hr":
			v, err := strconv.ParseUint(strings.Fields(arg)[0], 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", name, line, err)
			}
			if m[2] == "time_hr" {
				st.Time = v
			} else {
				st.Interval = v
			}
		case "values":
			vl := st
			vl.Values = decodedValues(t, strings.Fields(arg)[1:])
			out[name] = append(out[name], vl)
		case "signature", "encryption":
			if !strings.Contains(arg, "ok=true") {
				t.Fatalf("%s: the capture says its security part failed: %q", name, line)
			}
		default:
			t.Fatalf("%s: part %q not understood by this test", name, m[2])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodedValues(t *testing.T, fields []string) []Value {
	t.Helper()
	var vals []Value
	for _, f := range fields {
		kind, num, _ := strings.Cut(f, ":")
		switch kind {
		case "gauge":
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				t.Fatal(err)
			}
			vals = append(vals, gauge(v))
		case "derive":
			v, err := strconv.ParseInt(num, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			vals = append(vals, derive(v))
		case "counter", "absolute":
			v, err := strconv.ParseUint(num, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			vals = append(vals, Value{Type: map[string]DSType{"counter": Counter, "absolute": Absolute}[kind], Bits: v})
		default:
			t.Fatalf("value %q not understood by this test", f)
		}
	}
	return vals
}

func TestParser_Parse_RealCollectdPackets(t *testing.T) {
	dir := sharedPath(t, "collectd-packets")
	auth := users{captureUser: capturePassword}
	levels := []struct {
		dir   string
		level SecurityLevel
		auth  PasswordLookup
	}{
		{"none", None, nil},
		{"sign", Sign, auth},
		{"encrypt", Encrypt, auth},
	}
	total := 0
	var lists [3]map[string][]ValueList
	for i, lv := range levels {
		t.Run(lv.dir, func(t *testing.T) {
			want := readDecoded(t, filepath.Join(dir, lv.dir, "decoded.txt"))
			if len(want) != 10 {
				t.Fatalf("decoded.txt lists %d packets, want 10", len(want))
			}
			lists[i] = map[string][]ValueList{}
			p := NewParser(lv.level, lv.auth)
			for name, wantVLs := range want {
				pkt, err := os.ReadFile(filepath.Join(dir, lv.dir, name))
				if err != nil {
					t.Fatal(err)
				}
				got, res, err := parseAll(p, pkt)
				if err != nil || res.Ignored != 0 {
					t.Fatalf("%s: err %v, %d ignored", name, err, res.Ignored)
				}
				if !reflect.DeepEqual(got, wantVLs) {
					t.Errorf("%s: decoded %d value lists, want %d as decoded.txt:\n got %+v\nwant %+v",
						name, len(got), len(wantVLs), got, wantVLs)
				}
				lists[i][name] = got
				total += len(got)
			}
		})
	}
	t.Run("the same cycle carries the same lists at every level", func(t *testing.T) {
		if lists[0] == nil || !reflect.DeepEqual(lists[0], lists[1]) || !reflect.DeepEqual(lists[0], lists[2]) {
			t.Error("none, sign and encrypt packets decode differently")
		}
	})
	t.Run("sign packets at level none, verified and unverified", func(t *testing.T) {
		for _, a := range []PasswordLookup{auth, nil} {
			got, _, err := parseAll(NewParser(None, a), mustRead(t, filepath.Join(dir, "sign", "pkt-003.bin")))
			if err != nil || !reflect.DeepEqual(got, lists[0]["pkt-003.bin"]) {
				t.Errorf("auth %v: err %v, %d lists", a != nil, err, len(got))
			}
		}
	})
	t.Run("refused at the wrong level or with the wrong password", func(t *testing.T) {
		check := func(level SecurityLevel, a PasswordLookup, sub string, wantErr error, wantIgnored int) {
			t.Helper()
			got, res, err := parseAll(NewParser(level, a), mustRead(t, filepath.Join(dir, sub, "pkt-001.bin")))
			if !errors.Is(err, wantErr) || len(got) != 0 || res.Ignored != wantIgnored {
				t.Errorf("%v %s: err %v, %d lists, %d ignored; want %v, 0, %d", level, sub, err, len(got), res.Ignored, wantErr, wantIgnored)
			}
		}
		wrong := users{captureUser: "not-it"}
		n := len(lists[0]["pkt-001.bin"])
		check(Sign, auth, "none", nil, n)
		check(Encrypt, auth, "none", nil, n)
		check(Encrypt, auth, "sign", nil, n)
		check(Sign, wrong, "sign", ErrBadSignature, 0)
		check(Encrypt, wrong, "encrypt", ErrDecrypt, 0)
		check(Encrypt, users{"someone": capturePassword}, "encrypt", ErrUnknownUser, 0)
		check(None, nil, "encrypt", ErrNoAuthFile, 0)
	})
	if total == 0 {
		t.Fatal("no value list decoded")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goCollectdDecode is one packet of decoded-by-go-collectd.json.
type goCollectdDecode struct {
	Bytes      int `json:"bytes"`
	NValueList int `json:"n_value_lists"`
	ValueLists []struct {
		Host           string  `json:"host"`
		Plugin         string  `json:"plugin"`
		PluginInstance string  `json:"plugin_instance"`
		Type           string  `json:"type"`
		TypeInstance   string  `json:"type_instance"`
		TimeUnixNs     int64   `json:"time_unix_ns"`
		Interval       float64 `json:"interval_seconds"`
		Values         []struct {
			DS       string      `json:"ds"`
			WireType string      `json:"wire_type"`
			Value    json.Number `json:"value"`
		} `json:"values"`
	} `json:"value_lists"`
}

func TestParser_Parse_GoCollectdOracle(t *testing.T) {
	dir := sharedPath(t, "collectd")
	var oracle map[string]goCollectdDecode
	if err := json.Unmarshal(mustRead(t, filepath.Join(dir, "decoded-by-go-collectd.json")), &oracle); err != nil {
		t.Fatal(err)
	}
	withFile := typesFromShared(t)
	total := 0
	for name, want := range oracle {
		t.Run(name, func(t *testing.T) {
			pkt := mustRead(t, filepath.Join(dir, "packets", name))
			got, _, err := parseAll(NewParser(None, nil), pkt)
			if err != nil || len(pkt) != want.Bytes || len(got) != want.NValueList || len(got) != len(want.ValueLists) {
				t.Fatalf("err %v, %d bytes, %d lists; want %d bytes, %d lists", err, len(pkt), len(got), want.Bytes, want.NValueList)
			}
			total += len(got)
			for i, w := range want.ValueLists {
				g := got[i]
				id := [5]string{g.Host, g.Plugin, g.PluginInstance, g.Type, g.TypeInstance}
				if id != [5]string{w.Host, w.Plugin, w.PluginInstance, w.Type, w.TypeInstance} {
					t.Errorf("list %d: identifier %q, want %+v", i, id, w)
				}
				if d := g.Millis()*1e6 - w.TimeUnixNs; d > 500_000 || d < -500_000 {
					t.Errorf("list %d: %d ms, want %d ns", i, g.Millis(), w.TimeUnixNs)
				}
				if float64(g.Interval)/(1<<30) != w.Interval {
					t.Errorf("list %d: interval %d, want %v s", i, g.Interval, w.Interval)
				}
				checkOracleValues(t, i, g, w.Values, withFile, BuiltinTypesDB())
			}
		})
	}
	if total != 160 {
		t.Errorf("decoded %d value lists over the 8 packets, want 160", total)
	}
}

func checkOracleValues(t *testing.T, i int, g ValueList, want []struct {
	DS       string      `json:"ds"`
	WireType string      `json:"wire_type"`
	Value    json.Number `json:"value"`
}, dbs ...*TypesDB) {
	t.Helper()
	if len(g.Values) != len(want) {
		t.Fatalf("list %d: %d values, want %d", i, len(g.Values), len(want))
	}
	for j, w := range want {
		v := g.Values[j]
		if strings.ToLower(v.Type.String()) != w.WireType {
			t.Errorf("list %d value %d: kind %v, want %s", i, j, v.Type, w.WireType)
		}
		wv, err := strconv.ParseFloat(w.Value.String(), 64)
		if err != nil || v.Float64() != wv {
			t.Errorf("list %d value %d: %v, want %s", i, j, v.Float64(), w.Value)
		}
		for k, db := range dbs {
			m := newMapper(db)
			pts := m.appendPoints(nil, &g, 0, drops{})
			if len(pts) != len(want) {
				t.Fatalf("types %d: list %d gave %d points", k, i, len(pts))
			}
			if name := pts[j].Labels.Get(tsdb.MetricName); name != g.Plugin+"_"+w.DS {
				t.Errorf("types %d: list %d value %d named %q, want %q", k, i, j, name, g.Plugin+"_"+w.DS)
			}
		}
	}
}

// typesFromShared loads the built-in types plus the peer copy of collectd's
// types.db.
func typesFromShared(t *testing.T) *TypesDB {
	t.Helper()
	db, sysErr, err := LoadTypesDB(sharedPath(t, "types.db"), nil)
	if err != nil || sysErr != nil {
		t.Fatalf("load types.db: %v %v", err, sysErr)
	}
	return db
}

// lineProtocol renders points as InfluxDB 1.x wrote them in the expected
// .lp files: tags sorted, field "value", timestamps in ns.
func lineProtocol(pts []tsdb.Point) []string {
	var out []string
	for _, p := range pts {
		var b strings.Builder
		b.WriteString(p.Labels.Get(tsdb.MetricName))
		for _, l := range p.Labels {
			if l.Name != tsdb.MetricName {
				fmt.Fprintf(&b, ",%s=%s", l.Name, l.Value)
			}
		}
		fmt.Fprintf(&b, " value=%s %d", strconv.FormatFloat(p.V, 'f', -1, 64), p.T*1e6)
		out = append(out, b.String())
	}
	return out
}

func TestMapper_InfluxDB1xCapture(t *testing.T) {
	dir := sharedPath(t, "collectd")
	pkt := mustRead(t, filepath.Join(dir, "packets", "influxdb1x-collectd-capture.bin"))
	for _, tc := range []struct {
		name  string
		types *TypesDB
	}{{"types.db", typesFromShared(t)}, {"built-in table only", BuiltinTypesDB()}} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMapper(tc.types)
			var pts []tsdb.Point
			d := drops{}
			if _, err := NewParser(None, nil).Parse(pkt, func(vl *ValueList) { pts = m.appendPoints(pts, vl, 0, d) }); err != nil {
				t.Fatal(err)
			}
			if len(d) != 0 {
				t.Errorf("dropped %v", d)
			}
			want := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(dir, "influxdb1x-capture-expected-split.lp")))), "\n")
			if got := lineProtocol(pts); !slices.Equal(got, want) {
				t.Errorf("split form:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
			wantJoin := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(dir, "influxdb1x-capture-expected-join.lp")))), "\n")
			if got := joinForm(pts); !slices.Equal(got, wantJoin) {
				t.Errorf("join form:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(wantJoin, "\n     "))
			}
		})
	}
}

// joinForm regroups split points into InfluxDB's "join" lines: measurement
// <plugin>, one field per data source, in first-seen order of series.
func joinForm(pts []tsdb.Point) []string {
	type line struct {
		key    string
		fields map[string]float64
		t      int64
	}
	var lines []*line
	byKey := map[string]*line{}
	for _, p := range pts {
		name := p.Labels.Get(tsdb.MetricName)
		var tags strings.Builder
		for _, l := range p.Labels {
			if l.Name != tsdb.MetricName {
				fmt.Fprintf(&tags, ",%s=%s", l.Name, l.Value)
			}
		}
		plugin, ds, _ := strings.Cut(name, "_")
		key := plugin + tags.String()
		ln := byKey[key]
		if ln == nil {
			ln = &line{key: key, fields: map[string]float64{}, t: p.T}
			byKey[key] = ln
			lines = append(lines, ln)
		}
		ln.fields[ds] = p.V
	}
	var out []string
	for _, ln := range lines {
		names := make([]string, 0, len(ln.fields))
		for n := range ln.fields {
			names = append(names, n)
		}
		sort.Strings(names)
		var fs []string
		for _, n := range names {
			fs = append(fs, n+"="+strconv.FormatFloat(ln.fields[n], 'f', -1, 64))
		}
		out = append(out, fmt.Sprintf("%s %s %d", ln.key, strings.Join(fs, ","), ln.t*1e6))
	}
	return out
}

// vectors is protocol-vectors.json, as far as these tests read it.
type vectors struct {
	Encode []struct {
		ID      string          `json:"id"`
		Input   json.RawMessage `json:"input"`
		WireHex string          `json:"wire_hex"`
	} `json:"encode"`
	Decode []struct {
		ID         string `json:"id"`
		PayloadHex string `json:"payload_hex"`
		PacketHex  string `json:"packet_hex"`
		WantError  string `json:"want_error"`
		Cases      []struct {
			InUint64   uint64          `json:"in_uint64"`
			WantUnix   json.RawMessage `json:"want_unix"`
			PayloadHex string          `json:"payload_hex"`
			Want       json.RawMessage `json:"want"`
			WantError  string          `json:"want_error"`
		} `json:"cases"`
	} `json:"decode"`
	Security []struct {
		ID            string `json:"id"`
		Username      string `json:"username"`
		Password      string `json:"password"`
		SignedPayload string `json:"signed_payload"`
		PartHex       string `json:"part_plus_payload_hex"`
		IVHex         string `json:"iv_hex"`
		CiphertextHex string `json:"ciphertext_hex"`
		WantPlainHex  string `json:"want_plaintext_hex"`
		Plaintext     string `json:"plaintext"`
		WantPrefixHex string `json:"want_prefix_hex"`
	} `json:"security"`
	TypesDBConversion struct {
		TypesDB string `json:"typesdb"`
		Cases   []struct {
			Type    string               `json:"type"`
			Wire    []map[string]float64 `json:"wire"`
			Want    json.RawMessage      `json:"want"`
			DSNames []string             `json:"ds_names"`
		} `json:"cases"`
	} `json:"typesdb_conversion"`
}

func readVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	if err := json.Unmarshal(mustRead(t, sharedPath(t, "collectd/protocol-vectors.json")), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
