package influx

import (
	"errors"
	"strconv"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"outpost/tsdb"
)

// labelDB and labelValue are the label names the mapping adds.
const (
	labelDB    = "db"
	labelValue = "value"
)

// str copies b into the batch's string arena and returns it as a string. The
// arena only ever grows, so the string stays valid and unchanged.
func (p *Parser) str(b []byte) string {
	start := p.sb.Len()
	p.sb.Write(b)
	return p.sb.String()[start:]
}

// addField converts one field value to a sample (see doc.go for the rules).
// Values are parsed here, not by the decoder, for speed (see number.go);
// the errors are the decoder's.
func (p *Parser) addField(key []byte, kind lineprotocol.ValueKind, val []byte) error {
	f := field{}
	var err error
	switch kind {
	case lineprotocol.Float:
		f.v, err = parseFloat(val)
	case lineprotocol.Int:
		var x int64
		x, err = strconv.ParseInt(string(val), 10, 64)
		err = valueError(err, errInvalidInt)
		f.v = float64(x)
	case lineprotocol.Uint:
		var x uint64
		x, err = strconv.ParseUint(string(val), 10, 64)
		err = valueError(err, errInvalidUint)
		f.v = float64(x)
	case lineprotocol.Bool:
		var ok bool
		if f.v, ok = boolValue(val); !ok {
			err = errInvalidBool
		}
	case lineprotocol.String: // the decoder has checked it is valid UTF-8
		if x, ok := stringNumber(val); ok {
			f.v = x
		} else if p.stringDropped(key) {
			p.strDropped++
			return nil
		} else {
			f.v, f.info, f.str = 1, true, p.str(val)
		}
	default:
		err = errInvalidFloat
	}
	if err != nil {
		return &lineError{"cannot parse value for field key " + strconv.Quote(string(key)) + ": " + err.Error(), p.offset(val)}
	}
	f.name = p.metricName(len(p.fields), key, f.info)
	// What the point will take: itself, its labels (an _info series has
	// one more) and its series key; the line's strings are counted in sb.
	p.lineCost += pointBytes + (len(p.cur.tpl)+1)*labelBytes + len(keyPrefix) + len(p.opts.DB) + len(p.section) + 2 + len(f.name)
	if p.lineCost+p.sb.Len()-p.lineSb > maxLineMapped {
		return &lineError{"line maps to too many samples and labels (over " + strconv.Itoa(maxLineMapped>>10) +
			" KiB at field " + strconv.Itoa(len(p.fields)+1) + ", with " + strconv.Itoa(len(p.cur.tpl)) + " labels each)", p.offset(key)}
	}
	p.fields = append(p.fields, f)
	return nil
}

// valueError maps a strconv error to the decoder's wording.
func valueError(err, syntax error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, strconv.ErrRange):
		return errValueOutOfRange
	}
	return syntax
}

// boolValue reads a boolean as line protocol spells it.
func boolValue(b []byte) (float64, bool) {
	switch string(b) {
	case "t", "T", "true", "True", "TRUE":
		return 1, true
	case "f", "F", "false", "False", "FALSE":
		return 0, true
	}
	return 0, false
}

// stringNumber reports the value of a string field that spells a number
// (strconv.ParseFloat) or a boolean as line protocol spells it.
func stringNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	if x, ok := boolValue(b); ok {
		return x, true
	}
	switch c := b[0]; {
	case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'i', c == 'I', c == 'n', c == 'N':
	default:
		return 0, false // cannot be a number: spare ParseFloat's error allocation
	}
	x, err := strconv.ParseFloat(string(b), 64)
	return x, err == nil
}

// emit appends one point per field of the line, all at time t. Each point's
// labels are a copy of the template in the arena; the slice's capacity is
// cut so that appending to one point's labels cannot reach the next.
func (p *Parser) emit(t int64) {
	tpl, namePos := p.cur.tpl, p.cur.namePos
	for i := range p.fields {
		f := &p.fields[i]
		if f.info && !p.admitString(f) {
			continue
		}
		start := len(p.labels)
		if f.info {
			p.appendInfoLabels(f)
		} else {
			p.labels = append(p.labels, tpl...)
			p.labels[start+namePos].Value = f.name
		}
		end := len(p.labels)
		p.pts = append(p.pts, tsdb.Point{Labels: p.labels[start:end:end], T: t, V: f.v, Key: p.seriesKey(f)})
	}
}

// stringDropped reports whether the string policy drops string field key
// of the current line whatever its value (the drop list, or mode drop).
func (p *Parser) stringDropped(key []byte) bool {
	if p.opts.Strings == nil {
		return false
	}
	b := append(p.nameBuf[:0], p.meas...)
	b = append(b, '_')
	b = append(b, key...)
	p.nameBuf = b
	return p.opts.Strings.dropped(b)
}

// admitString reports whether the string policy lets string field f of the
// current line become its _info series, counting it when not.
func (p *Parser) admitString(f *field) bool {
	if p.opts.Strings == nil {
		return true
	}
	ok, reason := p.opts.Strings.admit(p.cur.tpl, p.cur.namePos, f.name, f.str, p.nowMs)
	switch {
	case ok:
	case reason == reasonStringUntracked:
		p.strUntracked++
	default:
		p.strVolatile++
	}
	return ok
}

// keyPrefix starts every series key of this package (see tsdb.Point.Key).
const keyPrefix = "lp\x00"

// seriesKey returns the series key of field f of the current line: the db
// parameter, the raw tag section and the metric name determine its labels.
// Lines whose tags had escapes, and _info series, get none.
func (p *Parser) seriesKey(f *field) []byte {
	if !p.keyable || f.info {
		return nil
	}
	start := len(p.keys)
	p.keys = append(p.keys, keyPrefix...)
	p.keys = append(p.keys, p.opts.DB...)
	p.keys = append(p.keys, 0)
	p.keys = append(p.keys, p.section...)
	p.keys = append(p.keys, 0)
	p.keys = append(p.keys, f.name...)
	return p.keys[start:len(p.keys):len(p.keys)]
}

// appendInfoLabels appends the labels of a string field's _info series:
// the template, the name, and label value = the string. The string replaces
// a tag called value; an empty string gives no value label at all (an empty
// label value means no label in Prometheus).
func (p *Parser) appendInfoLabels(f *field) {
	placed := f.str == ""
	for i, l := range p.cur.tpl {
		if i == p.cur.namePos {
			l.Value = f.name
		}
		if l.Name == labelValue {
			if !placed {
				l.Value = f.str
				p.labels = append(p.labels, l)
			}
			placed = true
			continue
		}
		if !placed && l.Name > labelValue {
			p.labels = append(p.labels, tsdb.Label{Name: labelValue, Value: f.str})
			placed = true
		}
		p.labels = append(p.labels, l)
	}
	if !placed {
		p.labels = append(p.labels, tsdb.Label{Name: labelValue, Value: f.str})
	}
}
