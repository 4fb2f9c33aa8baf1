package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	store "outpost/tsdb/events"
)

// InputError is a refused request body: what is wrong, where, and the
// status to answer with.
type InputError struct {
	// Index is the event's position in the body, from 0; -1 for the body
	// as a whole.
	Index int
	// Field is the dotted path of the field at fault, if any.
	Field string
	// Status is 400 or 413.
	Status int
	Msg    string
}

// Error implements error.
func (e *InputError) Error() string {
	s := e.Msg
	if e.Field != "" {
		s = fmt.Sprintf("field %q: %s", e.Field, s)
	}
	if e.Index >= 0 {
		s = fmt.Sprintf("event %d: %s", e.Index, s)
	}
	return s
}

func badf(i int, field, format string, args ...any) *InputError {
	return &InputError{Index: i, Field: field, Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// Decoder turns request bodies into events. Its zero value is not
// usable; fill every field.
type Decoder struct {
	Config Config
	// Check rejects an event time the store would refuse (Store.CheckTime).
	Check func(time.Time) error
}

// Decode splits body into events and checks each (see the package
// comment); now is the arrival time. Its errors are *InputError.
func (d *Decoder) Decode(body []byte, now time.Time) ([]store.Event, error) {
	body = bytes.TrimPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\xef\xbb\xbf"))
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) == 0 {
		return nil, badf(-1, "", "empty body: send a JSON object, an array of objects or JSON lines")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out []store.Event
	array := body[0] == '['
	if array {
		dec.Token() // [
	}
	for i := 0; ; i++ {
		if array && !dec.More() {
			break
		}
		start := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) && !array {
			break
		}
		if err != nil {
			return nil, syntaxError(i, err, body, start)
		}
		ev, err := d.event(i, raw, now)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	if array {
		if _, err := dec.Token(); err != nil {
			return nil, syntaxError(len(out), err, body, dec.InputOffset())
		}
		if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
			return nil, badf(-1, "", "malformed JSON at %s: text after the array", lineCol(body, dec.InputOffset()))
		}
	}
	return out, nil
}

// syntaxError words a JSON error of event i, which starts at or after
// start, with the line and column of the bad character. (The Decoder's
// own offsets depend on its buffering, so the event is parsed again
// alone.)
func syntaxError(i int, err error, body []byte, start int64) *InputError {
	pos := int(min(max(start, 0), int64(len(body))))
	for pos < len(body) && (body[pos] == ' ' || body[pos] == '\t' || body[pos] == '\r' || body[pos] == '\n' || body[pos] == ',') {
		pos++
	}
	// A control character after the rest tells a bad character (an error
	// within the rest) from a body that ends too soon (an error past it).
	rest := append(bytes.Clone(body[pos:]), ' ', 1)
	var v any
	var se *json.SyntaxError
	switch err2 := json.Unmarshal(rest, &v); {
	case errors.As(err2, &se) && int(se.Offset) <= len(body)-pos:
		return badf(i, "", "malformed JSON at %s: %s", lineCol(body, int64(pos)+se.Offset-1), se.Error())
	case se != nil || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || err2 == nil:
		return badf(i, "", "malformed JSON at %s: unexpected end of the body", lineCol(body, int64(len(body))))
	}
	return badf(i, "", "malformed JSON: %v", err)
}

func lineCol(b []byte, off int64) string {
	off = min(max(off, 0), int64(len(b)))
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return "line " + strconv.Itoa(line) + ", column " + strconv.FormatInt(col, 10)
}

// event checks raw (event i) and maps it to a stored event.
func (d *Decoder) event(i int, raw json.RawMessage, now time.Time) (store.Event, error) {
	if int64(len(raw)) > d.Config.MaxEventBytes {
		return store.Event{}, &InputError{Index: i, Status: http.StatusRequestEntityTooLarge,
			Msg: fmt.Sprintf("%d bytes, over events.max_event_bytes (%d)", len(raw), d.Config.MaxEventBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return store.Event{}, badf(i, "", "malformed JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return store.Event{}, badf(i, "", "a JSON %s, not an object", kind(v))
	}
	if path, ok := tooDeep(m, 1, d.Config.MaxDepth, ""); !ok {
		return store.Event{}, badf(i, path, "nested deeper than events.max_depth (%d)", d.Config.MaxDepth)
	}
	return d.mapEvent(i, m, now)
}

// tooDeep finds a value nested deeper than max (the event is depth 1);
// it returns the path to the first container past the limit.
func tooDeep(v any, depth, max int, path string) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		if depth > max {
			return path, false
		}
		for k, c := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if p, ok := tooDeep(c, depth+1, max, p); !ok {
				return p, false
			}
		}
	case []any:
		if depth > max {
			return path, false
		}
		for j, c := range v {
			if p, ok := tooDeep(c, depth+1, max, path+"["+strconv.Itoa(j)+"]"); !ok {
				return p, false
			}
		}
	}
	return "", true
}

func kind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "value"
}
