package promrw

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"outpost/tsdb"
)

func TestParseImportLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		line   string
		labels string // tsdb.Labels.String of the labels as sent
		values []float64
		times  []int64
	}{
		{"export's own", `{"metric":{"__name__":"m","a":"b"},"values":[1,2.5],"timestamps":[1700000000000,1700000010000]}`,
			`m{a="b"}`, []float64{1, 2.5}, []int64{1700000000000, 1700000010000}},
		{"special values", `{"metric":{"__name__":"m"},"values":["NaN","+Inf","-Inf",-0,1e-300,"12.5"],"timestamps":[1,2,3,4,5,6]}`,
			`m{}`, []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, 1e-300, 12.5}, []int64{1, 2, 3, 4, 5, 6}},
		{"key order, white space, CRLF", " { \"timestamps\" : [ -1 ] , \"values\":[ 3 ],\t\"metric\" : { \"__name__\" : \"m\" } }\r",
			`m{}`, []float64{3}, []int64{-1}},
		{"unknown keys skipped", `{"metric":{"__name__":"m"},"x":{"y":[1,{"z":null}],"w":true},"values":[1],"timestamps":[2],"v":"s"}`,
			`m{}`, []float64{1}, []int64{2}},
		{"escapes", `{"metric":{"__name__":"m\"q","a\\b":"\u00e9\ud83d\ude00\n\/","c":"\ud800x"},"values":[],"timestamps":[]}`,
			"m\"q{a\\b=\"é😀\\n/\", c=\"\uFFFDx\"}", nil, nil},
		{"empty metric", `{"metric":{},"values":[1],"timestamps":[1]}`, `{}`, []float64{1}, []int64{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l ImportLine
			if err := ParseImportLine([]byte(tc.line), &l); err != nil {
				t.Fatal(err)
			}
			if got := l.Labels.String(); got != tc.labels {
				t.Errorf("labels %s, want %s", got, tc.labels)
			}
			if !slices.EqualFunc(l.Values, tc.values, func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }) {
				t.Errorf("values %v, want %v", l.Values, tc.values)
			}
			if !slices.Equal(l.Timestamps, tc.times) {
				t.Errorf("timestamps %v, want %v", l.Timestamps, tc.times)
			}
			if !strings.HasPrefix(string(l.Metric), "{") || !strings.HasSuffix(string(l.Metric), "}") {
				t.Errorf("metric text %q", l.Metric)
			}
		})
	}
}

func TestParseImportLine_Errors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{``, `byte 1: expected '{', found the end of the line`},
		{`[]`, `byte 1: expected '{', found '['`},
		{`{"metric":{"__name__":"m"},"values":[1]}`, `no "timestamps" key`},
		{`{"metric":{"__name__":"m"},"values":[1,2],"timestamps":[1]}`, `2 values but 1 timestamps`},
		{`{"metric":{"__name__":"m"},"values":[1],"timestamps":[1.5]}`, `timestamps[0]: 1.5 is not an int64`},
		{`{"metric":{"__name__":"m"},"values":[1],"timestamps":[99999999999999999999]}`, `is not an int64`},
		{`{"metric":{"__name__":"m"},"values":[null],"timestamps":[1]}`, `values[0]: 'n' is not a number`},
		{`{"metric":{"__name__":"m"},"values":["x"],"timestamps":[1]}`, `values[0]: "x" is not a number`},
		{`{"metric":{"__name__":"m"},"values":[1e999],"timestamps":[1]}`, `values[0]: 1e999 is not a float64`},
		{`{"metric":{"__name__":1},"values":[],"timestamps":[]}`, `the value of label "__name__" is '1', not a string`},
		{`{"metric":{"__name__":"m"},"metric":{},"values":[],"timestamps":[]}`, `key "metric" given twice`},
		{`{"metric":{"__name__":"m"},"values":[],"timestamps":[]} x`, `unexpected 'x' after the object`},
		{"{\"metric\":{\"__name__\":\"m\x01\"},\"values\":[],\"timestamps\":[]}", `control character 0x01`},
		{"{\"metric\":{\"__name__\":\"\xff\"},\"values\":[],\"timestamps\":[]}", `not valid UTF-8`},
		{`{"metric":{"__name__":"m\q"},"values":[],"timestamps":[]}`, `bad escape \q`},
		{`{"metric":{"__name__":"m\u12"},"values":[],"timestamps":[]}`, `bad \u escape`},
		{`{"metric":{"__name__":"m`, `is not closed`},
		{`{"metric":{"__name__":"m"},"values":[1,],"timestamps":[1]}`, `values[1]: ']' is not a number`},
		{`{"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, `nested deeper than 64`},
	} {
		var l ImportLine
		err := ParseImportLine([]byte(tc.line), &l)
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrSyntax with %q", tc.line, err, tc.want)
		}
	}
}

func TestParseImportLine_Bounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"metric":{"__name__":"m"},"values":[`)
	for i := range MaxLineSamples + 1 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('1')
	}
	b.WriteString(`],"timestamps":[]}`)
	var l ImportLine
	if err := ParseImportLine([]byte(b.String()), &l); err == nil || !strings.Contains(err.Error(), "more than 131072 values") {
		t.Fatalf("error %v, want more than %d values", err, MaxLineSamples)
	}
	big := `{"metric":{"__name__":"m","a":"` + strings.Repeat("x", maxMetricBytes) + `"},"values":[],"timestamps":[]}`
	if err := ParseImportLine([]byte(big), &l); err == nil || !strings.Contains(err.Error(), "the limit is 65536") {
		t.Fatalf("error %v, want the metric limit", err)
	}
}

func TestParseImportLine_ReusesLine(t *testing.T) {
	var l ImportLine
	if err := ParseImportLine([]byte(`{"metric":{"__name__":"a\"b","x":"1"},"values":[1],"timestamps":[1]}`), &l); err != nil {
		t.Fatal(err)
	}
	if err := ParseImportLine([]byte(`{"metric":{"__name__":"c"},"values":[2,3],"timestamps":[4,5]}`), &l); err != nil {
		t.Fatal(err)
	}
	if l.Labels.String() != "c{}" || !slices.Equal(l.Values, []float64{2, 3}) || !slices.Equal(l.Timestamps, []int64{4, 5}) {
		t.Fatalf("second parse left %v %v %v", l.Labels, l.Values, l.Timestamps)
	}
	if want := (tsdb.Labels{{Name: "__name__", Value: "c"}}); !slices.Equal(l.Labels, want) {
		t.Fatalf("labels %v", l.Labels)
	}
}
