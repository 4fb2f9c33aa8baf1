package influx

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"outpost/tsdb"
)

// corpusEntry is one decode case of line-protocol/corpus.json (see its
// SUMMARY.md for the schema).
type corpusEntry struct {
	Input struct {
		Key            string          `json:"key"`
		Text           json.RawMessage `json:"text"`
		DefaultTime    json.Number     `json:"defaultTime"`
		Precision      string          `json:"precision"`
		Implementation string          `json:"implementation"`
	} `json:"input"`
	Output struct {
		Result []corpusPoint `json:"result"`
		Error  *string       `json:"error"`
	} `json:"output"`
}

type corpusPoint struct {
	Time   json.Number `json:"time"`
	Name   string      `json:"name"`
	Tags   []struct{ Key, Value string }
	Fields []struct {
		Key   string
		Value map[string]json.RawMessage
	}
}

// text returns the entry's input, decoding the {"binary": base64} form.
func (e *corpusEntry) text(t *testing.T) []byte {
	var s string
	if err := json.Unmarshal(e.Input.Text, &s); err == nil {
		return []byte(s)
	}
	var bin struct{ Binary string }
	if err := json.Unmarshal(e.Input.Text, &bin); err != nil {
		t.Fatalf("%s: text %s", e.Input.Key, e.Input.Text)
	}
	b, err := base64.StdEncoding.DecodeString(bin.Binary)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// expected maps the corpus' decoded points with outpost's rules, written
// independently of parse_map.go: name_field, sorted tags, numbers as
// float64, strings through stringNumber or _info, time floored to ms.
func (e *corpusEntry) expected(t *testing.T) []string {
	var out []string
	for _, p := range e.Output.Result {
		ns, err := strconv.ParseInt(p.Time.String(), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ms := ns / 1e6
		if ns%1e6 < 0 {
			ms--
		}
		var tags []tsdb.Label
		for _, tg := range p.Tags {
			if tg.Key != tsdb.MetricName {
				tags = append(tags, tsdb.Label{Name: tg.Key, Value: tg.Value})
			}
		}
		for _, f := range p.Fields {
			labels := append(slices.Clone(tags), tsdb.Label{Name: tsdb.MetricName, Value: p.Name + "_" + f.Key})
			v := 0.0
			for kind, raw := range f.Value {
				switch kind {
				case "float", "int", "uint":
					v, err = strconv.ParseFloat(string(raw), 64)
					if err != nil {
						t.Fatalf("%s: %s value %s", e.Input.Key, kind, raw)
					}
				case "bool":
					if string(raw) == "true" {
						v = 1
					}
				case "string":
					var s string
					if err := json.Unmarshal(raw, &s); err != nil {
						t.Fatal(err)
					}
					var ok bool
					if v, ok = stringNumber([]byte(s)); !ok {
						v = 1
						labels[len(labels)-1].Value += "_info"
						i := slices.IndexFunc(labels, func(l tsdb.Label) bool { return l.Name == labelValue })
						switch {
						case i >= 0 && s == "":
							labels = slices.Delete(labels, i, i+1)
						case i >= 0:
							labels[i].Value = s
						case s != "":
							labels = append(labels, tsdb.Label{Name: labelValue, Value: s})
						}
					}
				}
			}
			sort.Slice(labels, func(i, j int) bool { return labels[i].Name < labels[j].Name })
			out = append(out, fmtPoint(tsdb.Point{Labels: labels, T: ms, V: v}))
		}
	}
	return out
}

var corpusPrecision = map[string]Precision{"1ns": Nanosecond, "1µs": Microsecond, "1ms": Millisecond, "1s": Second}

// TestParse_Corpus runs every decode case of the line-protocol v2
// conformance corpus through Parse. An entry the corpus rejects must give
// an error (its good lines, if any, may still map: outpost writes them); an
// accepted entry must map to exactly the corpus' points under outpost's
// naming rules.
func TestParse_Corpus(t *testing.T) {
	for _, file := range []string{"corpus-curated.json", "corpus.json"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(ingestDir(t), "line-protocol", file))
			if err != nil {
				t.Fatal(err)
			}
			var corpus struct{ Decode map[string]*corpusEntry }
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&corpus); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(corpus.Decode))
			for k := range corpus.Decode {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			pass := 0
			for _, k := range keys {
				if checkCorpusEntry(t, corpus.Decode[k]) {
					pass++
				}
			}
			t.Logf("%s: %d of %d decode entries pass", file, pass, len(keys))
		})
	}
}

// checkCorpusEntry runs one entry and reports whether it passed.
func checkCorpusEntry(t *testing.T, e *corpusEntry) bool {
	t.Helper()
	prec, ok := corpusPrecision[e.Input.Precision]
	if !ok {
		t.Errorf("%s: unknown precision %q", e.Input.Key, e.Input.Precision)
		return false
	}
	def, err := e.Input.DefaultTime.Int64()
	if err != nil {
		t.Fatal(err)
	}
	body := e.text(t)
	pts, perr := Parse(body, ParseOptions{Precision: prec, Now: time.Unix(0, def)})
	checkPoints(t, pts)
	if e.Output.Error != nil {
		if perr == nil {
			t.Errorf("%s: %q accepted, corpus rejects it: %s", e.Input.Key, body, *e.Output.Error)
			return false
		}
		return true
	}
	if perr != nil {
		t.Errorf("%s: %q rejected (%v), corpus accepts it", e.Input.Key, body, perr)
		return false
	}
	got := make([]string, len(pts))
	for i, p := range pts {
		if p.V == 0 {
			// The corpus' JSON writes -0 as 0 ("u e=-0." in corpus.json);
			// ours is strconv.ParseFloat's -0, which equals 0.
			p.V = 0
		}
		got[i] = fmtPoint(p)
	}
	if want := e.expected(t); !slices.Equal(got, want) {
		t.Errorf("%s: %q:\n got %q\nwant %q", e.Input.Key, body, got, want)
		return false
	}
	return true
}
