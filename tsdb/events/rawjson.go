package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"unsafe"
)

// The search and the index read an event's values straight from its JSON
// bytes (valid JSON: the canonical body Append stored), without decoding
// it into maps: a search reads a million events in well under a second
// that way, where encoding/json would take over ten.

// pathLeaves calls fn with each scalar at the dotted path (as text:
// strings unescaped, numbers as written, true, false, null) in the JSON
// value raw. An array on the way or at the end is walked element by
// element (Elasticsearch flattens arrays of objects); an object at the
// end has no leaves. A key with dots in it counts as that many segments
// ("host.name" as one key is host.name too). An empty path means raw's
// own scalars. fn must not retain its argument; it returns false to
// stop. Malformed JSON ends the walk early, never a panic.
func pathLeaves(raw []byte, path string, fn func(string) bool) {
	w := walker{b: raw, fn: fn}
	w.value(path, false)
}

// allLeaves calls fn with every scalar in raw, at any depth.
func allLeaves(raw []byte, fn func(string) bool) {
	w := walker{b: raw, fn: fn}
	w.value("", true)
}

type walker struct {
	b    []byte
	i    int
	fn   func(string) bool
	stop bool
	bad  bool
}

func (w *walker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value walks the value at w.i with the rest of the path ("" at the end);
// deep walks objects at the end too.
func (w *walker) value(path string, deep bool) {
	w.ws()
	if w.i >= len(w.b) || w.stop || w.bad {
		w.bad = true
		return
	}
	switch w.b[w.i] {
	case '{':
		w.i++
		w.object(path, deep)
	case '[':
		w.i++
		for first := true; ; first = false {
			w.ws()
			if w.i < len(w.b) && w.b[w.i] == ']' {
				w.i++
				return
			}
			if !first {
				if w.i >= len(w.b) || w.b[w.i] != ',' {
					w.bad = true
					return
				}
				w.i++
			}
			if w.value(path, deep); w.bad || w.stop {
				return
			}
		}
	case '"':
		s, ok := w.str()
		if !ok {
			w.bad = true
		} else if path == "" && !w.fn(s) {
			w.stop = true
		}
	default:
		j := w.i
		for j < len(w.b) && !isDelim(w.b[j]) {
			j++
		}
		if j == w.i {
			w.bad = true
			return
		}
		s := w.b[w.i:j]
		w.i = j
		if path == "" && !w.fn(unsafe.String(&s[0], len(s))) {
			w.stop = true
		}
	}
}

// object walks an object's members; w.i is past its '{'.
func (w *walker) object(path string, deep bool) {
	for first := true; ; first = false {
		w.ws()
		if w.i < len(w.b) && w.b[w.i] == '}' {
			w.i++
			return
		}
		if !first {
			if w.i >= len(w.b) || w.b[w.i] != ',' {
				w.bad = true
				return
			}
			w.i++
			w.ws()
		}
		if w.i >= len(w.b) || w.b[w.i] != '"' {
			w.bad = true
			return
		}
		key, ok := w.str()
		w.ws()
		if !ok || w.i >= len(w.b) || w.b[w.i] != ':' {
			w.bad = true
			return
		}
		w.i++
		switch {
		case path == "" && deep:
			w.value("", true)
		case path != "" && strings.HasPrefix(path, key) && (len(key) == len(path) || path[len(key)] == '.'):
			rest := ""
			if len(key) < len(path) {
				rest = path[len(key)+1:]
			}
			w.value(rest, false)
		default:
			w.skip()
		}
		if w.bad || w.stop {
			return
		}
	}
}

// strEnd returns the index of the closing quote of the string at w.i (a
// '"') and whether it has escapes; -1 when it is not closed.
func (w *walker) strEnd() (int, bool) {
	esc := false
	for j := w.i + 1; j < len(w.b); {
		q := bytes.IndexByte(w.b[j:], '"')
		if q < 0 {
			return -1, false
		}
		bs := bytes.IndexByte(w.b[j:j+q], '\\')
		if bs < 0 {
			return j + q, esc
		}
		esc = true
		j += bs + 2 // past the backslash and the character it escapes
	}
	return -1, false
}

// str reads the string at w.i (a '"'). Without escapes the result
// aliases w.b (no copy: the hot path of a search); fn never retains it.
func (w *walker) str() (string, bool) {
	start := w.i + 1
	end, esc := w.strEnd()
	if end < 0 {
		return "", false
	}
	w.i = end + 1
	if !esc {
		if end == start {
			return "", true
		}
		return unsafe.String(&w.b[start], end-start), true
	}
	var s string
	if json.Unmarshal(w.b[start-1:end+1], &s) != nil {
		return "", false
	}
	return s, true
}

// skip moves past the value at w.i.
func (w *walker) skip() {
	w.ws()
	depth := 0
	for w.i < len(w.b) {
		switch c := w.b[w.i]; c {
		case '"':
			end, _ := w.strEnd()
			if end < 0 {
				w.bad = true
				return
			}
			w.i = end + 1
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 { // the end of the container of a scalar
				return
			}
			depth--
			if depth == 0 {
				w.i++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		default:
			if depth == 0 && (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
				return
			}
		}
		w.i++
	}
}

// isDelim reports whether c ends a number or literal.
func isDelim(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
