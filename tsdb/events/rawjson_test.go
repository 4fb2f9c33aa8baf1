package events

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// docLeaves is the reference for pathLeaves over a decoded document.
func docLeaves(v any, path []string, deep bool, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if len(path) == 0 && !deep {
			return
		}
		for k, c := range v {
			switch {
			case len(path) == 0:
				docLeaves(c, nil, true, out)
			default:
				full := strings.Join(path, ".")
				if strings.HasPrefix(full, k) && (len(k) == len(full) || full[len(k)] == '.') {
					docLeaves(c, path[strings.Count(k, ".")+1:], false, out)
				}
			}
		}
	case []any:
		for _, e := range v {
			docLeaves(e, path, deep, out)
		}
	default:
		if len(path) > 0 {
			return
		}
		switch v := v.(type) {
		case string:
			*out = append(*out, v)
		case json.Number:
			*out = append(*out, string(v))
		case bool:
			*out = append(*out, strconv.FormatBool(v))
		case nil:
			*out = append(*out, "null")
		}
	}
}

func leavesOf(raw []byte, path string) []string {
	var got []string
	fn := func(s string) bool { got = append(got, strings.Clone(s)); return true }
	if path == "" {
		allLeaves(raw, fn)
	} else {
		pathLeaves(raw, path, fn)
	}
	return got
}

func checkLeaves(t *testing.T, raw []byte, path string) {
	t.Helper()
	doc := decode(t, string(raw))
	var want []string
	if path == "" {
		docLeaves(doc, nil, true, &want)
	} else {
		docLeaves(doc, strings.Split(path, "."), false, &want)
	}
	got := leavesOf(raw, path)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s at %q: got %q, want %q", raw, path, got, want)
	}
}

func TestPathLeaves(t *testing.T) {
	for _, path := range []string{"", "detail.lastStatus", "detail.containers.exitCode", "detail.containers", "detail",
		"resources", "detail.host.name", "detail.host", "detail-type", "nothing", "detail.containers.name"} {
		checkLeaves(t, []byte(ecsStopped), path)
	}
	checkLeaves(t, []byte(`{"a":"x\"y\u00e9","b":[1,[2,{"c":true}],null],"a.b":{"c":"d"},"e":{"a":{"b":{"c":"f"}}}}`), "b")
	checkLeaves(t, []byte(`{"a":{"b":{"c":"1"}},"a.b":{"c":"2"},"a.b.c":"3"}`), "a.b.c")
	if got := fmt.Sprint(leavesOf([]byte(`{"a":"x\"y"}`), "a")); got != `[x"y]` {
		t.Errorf("escaped string: %s", got)
	}
}

// FuzzPathLeaves checks the raw walker against encoding/json on any
// valid JSON object, and that it never panics on invalid input.
func FuzzPathLeaves(f *testing.F) {
	f.Add([]byte(ecsStopped), "detail.containers.exitCode")
	f.Add([]byte(`{"a":[{"b":"c"},{"b":["d",1.5e3]}],"a.b":null}`), "a.b")
	f.Fuzz(func(t *testing.T, raw []byte, path string) {
		if len(raw) > 1<<16 || strings.Contains(path, "..") || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
			return
		}
		got := leavesOf(raw, path)
		var doc map[string]any
		if json.Unmarshal(raw, &doc) != nil || doc == nil {
			return
		}
		canon, _ := json.Marshal(decode(t, string(raw)))
		checkLeaves(t, canon, path)
		_ = got
	})
}
