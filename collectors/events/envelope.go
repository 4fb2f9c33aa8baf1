package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	store "outpost/tsdb/events"
)

// isEnvelope reports whether m is an AWS EventBridge event: detail-type
// and source as strings, and a detail.
func isEnvelope(m map[string]any) bool {
	_, dt := m["detail-type"].(string)
	_, src := m["source"].(string)
	_, detail := m["detail"]
	return dt && src && detail
}

// mapEvent gives event i its ID, time and canonical body.
func (d *Decoder) mapEvent(i int, m map[string]any, now time.Time) (store.Event, error) {
	t, field, err := d.eventTime(m, now)
	if err != nil {
		return store.Event{}, badf(i, field, "%v", err)
	}
	if field != "" {
		if err := d.Check(t); err != nil {
			return store.Event{}, badf(i, field, "%v", err)
		}
	}
	body, err := jsonMarshal(m)
	if err != nil {
		return store.Event{}, badf(i, "", "cannot encode: %v", err)
	}
	id := ""
	if isEnvelope(m) {
		id, _ = m["id"].(string)
	}
	if id == "" {
		// The time is part of the hash so that two identical records
		// without a time field, sent at different times, stay two events.
		h := sha256.New()
		var ts [8]byte
		binary.BigEndian.PutUint64(ts[:], uint64(t.UnixNano()))
		h.Write(ts[:])
		h.Write(body)
		id = hex.EncodeToString(h.Sum(nil)[:16])
	}
	return store.Event{ID: id, Time: t, Body: body}, nil
}

// eventTime returns the event's time and the field it came from ("" for
// the arrival time).
func (d *Decoder) eventTime(m map[string]any, now time.Time) (time.Time, string, error) {
	fields := d.Config.TimeFields
	if isEnvelope(m) {
		fields = []string{"time"}
	}
	for _, f := range fields {
		v, ok := lookup(m, f)
		if !ok || v == nil {
			continue
		}
		t, err := parseTime(v)
		return t, f, err
	}
	return now, "", nil
}

// lookup finds the value at a dotted path: a key with the whole path
// first, then object by object.
func lookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	head, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil, false
	}
	sub, isMap := m[head].(map[string]any)
	if !isMap {
		return nil, false
	}
	return lookup(sub, rest)
}

// parseTime reads RFC 3339 text (a zone is optional: UTC; a space may
// stand for the T), or a number (or numeric text) of seconds,
// milliseconds, microseconds or nanoseconds since the epoch, told apart by
// magnitude.
func parseTime(v any) (time.Time, error) {
	var num string
	switch v := v.(type) {
	case json.Number:
		num = string(v)
	case string:
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			num = v
			break
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot parse %q as a time (RFC 3339 or epoch seconds)", v)
	default:
		return time.Time{}, fmt.Errorf("a time must be text or a number, not a %s", kind(v))
	}
	if n, err := strconv.ParseInt(num, 10, 64); err == nil { // exact: no float rounding
		a := n
		if a < 0 {
			a = -a
		}
		switch {
		case a < 1e11:
			n *= 1e9
		case a < 1e14:
			n *= 1e6
		case a < 1e17:
			n *= 1e3
		}
		return time.Unix(0, n).UTC(), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("cannot parse %q as a time", num)
	}
	a := math.Abs(f)
	switch {
	case a < 1e11:
		f *= 1e9
	case a < 1e14:
		f *= 1e6
	case a < 1e17:
		f *= 1e3
	}
	if f > math.MaxInt64 || f < math.MinInt64 {
		return time.Time{}, fmt.Errorf("%s is out of range as a time", num)
	}
	return time.Unix(0, int64(f)).UTC(), nil
}

// jsonMarshal encodes v without HTML escaping.
func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}
