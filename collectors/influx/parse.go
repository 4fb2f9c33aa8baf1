package influx

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"outpost/tsdb"
)

// ParseOptions tell a Parser how to map one request body.
type ParseOptions struct {
	// DB is the value of label "db" for lines without a db tag: the db (v1)
	// or bucket (v2) query parameter. Empty adds no label.
	DB string
	// Precision is the unit of the timestamps; 0 means Nanosecond.
	Precision Precision
	// Now is the receive time, used for lines without a timestamp; the zero
	// Time means time.Now().
	Now time.Time
	// MaxLineBytes rejects longer lines (counted apart as too long); 0 means
	// no limit.
	MaxLineBytes int
	// Strings decides which string fields become _info series (see
	// StringPolicy); nil makes every distinct string a series.
	Strings *StringPolicy
}

// Parser maps the lines of one body to points, batch by batch, so that a
// large body never needs all its points in memory at once. A Parser is not
// safe for concurrent use; the handler pools them.
//
// Memory: the label arrays of the points of one batch are slices of one
// reused arena, and their strings are substrings of one strings.Builder per
// batch, so a point costs no allocation of its own. Within one body, tag
// sets and metric names seen before are reused rather than copied again
// (see tagset.go); nothing is kept from one body to the next. A batch ends
// at BatchPoints points or maxBatchBytes, and a line that would map to more
// than maxLineMapped is rejected, so a batch never holds more than their
// sum; the caches hold at most maxCacheBytes.
type Parser struct {
	dec  *lineprotocol.Decoder
	body []byte // the body, or the current window of a streamed one
	opts ParseOptions
	recv int64 // receive time in ms, for lines without a timestamp

	// src streams the body window by window (nil: body is the whole
	// body); lineBase is the number of lines before the current window.
	src      *lineReader
	lineBase int
	// lineSb and lineCost measure the line being parsed: where its strings
	// start in sb, and what its points will take besides them.
	lineSb, lineCost int

	pts    []tsdb.Point
	labels []tsdb.Label // arena of the current batch's label arrays; reused
	// The previous batch's points and labels, kept intact for one more Next
	// so a caller can write batch n while Next builds batch n+1.
	prevPts    []tsdb.Point
	prevLabels []tsdb.Label
	// keys is the arena of the points' series keys (tsdb.Point.Key), which
	// alternates with prevKeys as labels do.
	keys, prevKeys []byte
	// keyable reports that the line's raw tag section (section) identifies
	// its tags, so its points get a series key.
	keyable   bool
	section   []byte
	sb        strings.Builder // arena of the current batch's strings; new per batch
	arenaHint int             // bytes the last batch's string arena took

	// Caches for the current body. Their strings live in their own arena,
	// cache, so that they never keep a batch's arena alive.
	cache    strings.Builder
	sets     []tagSet         // tag sets seen, by raw tag section (setIndex)
	setIndex map[string]int32 // raw tag section -> index in sets
	setArena []tsdb.Label     // backing store of the sets' templates
	names    map[string]string
	slots    []nameSlot // names by field position, for lines of measurement meas

	// Scratch for the line being parsed.
	meas    []byte       // measurement (unescaped); kept to the next line for slots
	cur     tagSet       // the line's label template
	tagBuf  []byte       // the line's escaped tag keys and values, unescaped
	tagRefs []tagRef     // the line's tags: key, value, key, value...
	tags    []tsdb.Label // tags, sorted (uncached path)
	tpl     []tsdb.Label // template (uncached path)
	nameBuf []byte
	fields  []field
	off     int // a byte offset inside the line, -1 if not known yet

	done     bool
	parseBad int // lines rejected by the parser
	longBad  int // lines rejected for their length
	nowMs    int64
	// String fields dropped by opts.Strings, by reason.
	strDropped, strVolatile, strUntracked int
	first                                 *ParseError
	long                                  *ParseError // first too-long line
}

// field is one parsed field of the line being parsed.
type field struct {
	name string  // metric name, in the batch's string arena
	str  string  // for _info series: the string value
	v    float64 // sample value
	info bool    // the field becomes name{...,value=str} = 1
}

// lineError is an error found by the Parser rather than the decoder. Its
// line comes from off, the offset in the body of the offending token, or
// from Parser.off when off is -1 (then the column is unknown).
type lineError struct {
	msg string
	off int
}

func (e *lineError) Error() string { return e.msg }

// NewParser returns a Parser over body. The Parser reads body while it is
// used; body must not change meanwhile. Body is never modified.
func NewParser(body []byte, opts ParseOptions) *Parser {
	p := &Parser{}
	p.Reset(body, opts)
	return p
}

// Reset makes p parse a new body, keeping its buffers.
func (p *Parser) Reset(body []byte, opts ParseOptions) {
	if opts.Precision <= 0 {
		opts.Precision = Nanosecond
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p.opts = opts
	p.recv = receiveMillis(opts.Now, opts.Precision)
	p.done, p.parseBad, p.longBad, p.first, p.long = false, 0, 0, nil, nil
	p.strDropped, p.strVolatile, p.strUntracked, p.nowMs = 0, 0, 0, opts.Now.UnixMilli()
	p.src, p.lineBase = nil, 0
	p.resetCaches()
	p.body = body
	if opts.MaxLineBytes > 0 {
		p.body = p.blankLongLines(body)
	}
	p.dec = lineprotocol.NewDecoderWithBytes(p.body)
}

// resetStream makes p parse the body lr reads, window by window. lr
// handles too-long lines itself, so opts.MaxLineBytes is not used.
func (p *Parser) resetStream(lr *lineReader, opts ParseOptions) {
	opts.MaxLineBytes = 0
	p.Reset(nil, opts)
	p.src = lr
}

// Parse maps a whole body at once. It returns the points of every good line
// (their labels copied out of the Parser's arenas) and, when some lines were
// bad, the first *ParseError.
func Parse(body []byte, opts ParseOptions) ([]tsdb.Point, error) {
	p := NewParser(body, opts)
	var pts []tsdb.Point
	for batch := p.Next(math.MaxInt); len(batch) > 0; batch = p.Next(math.MaxInt) {
		for _, pt := range batch {
			pt.Labels, pt.Key = slices.Clone(pt.Labels), slices.Clone(pt.Key)
			pts = append(pts, pt)
		}
	}
	return pts, p.Err()
}

// Next returns the points of the next lines, at least max of them unless
// the body ends first or the batch reaches maxBatchBytes (a line is never
// split, so a batch may exceed max by the fields of one line). It returns
// nil only when the body is consumed. The returned points and their Labels
// stay valid through the following call of Next (two batches alternate
// between two arenas, so one can be written while the next is parsed) and
// until Reset; their strings stay valid for good.
func (p *Parser) Next(max int) []tsdb.Point {
	p.pts, p.prevPts = p.prevPts[:0], p.pts
	p.labels, p.prevLabels = p.prevLabels[:0], p.labels
	p.keys, p.prevKeys = p.prevKeys[:0], p.keys
	if p.sb.Len() > 0 {
		p.arenaHint = p.sb.Len()
	}
	p.sb = strings.Builder{} // the last batch's strings may still be in use
	hint := p.arenaHint
	if hint == 0 {
		hint = min(len(p.body), 64<<10)
	}
	p.sb.Grow(hint + hint/8 + 256)
	p.clearSlots() // they may name strings of an earlier batch's arena
	for !p.done && len(p.pts) < max {
		if p.batchBytes() >= maxBatchBytes {
			if len(p.pts) > 0 {
				break
			}
			// Only rejected lines' strings: nothing refers to them.
			p.sb = strings.Builder{}
			p.clearSlots()
		}
		if !p.dec.Next() {
			if !p.refill() {
				p.done = true
				break
			}
			continue
		}
		npts, nlabels, nkeys := len(p.pts), len(p.labels), len(p.keys)
		if err := p.line(); err != nil {
			p.pts, p.labels, p.keys = p.pts[:npts], p.labels[:nlabels], p.keys[:nkeys]
			if p.src != nil && p.src.cutEntry(p.body, err) {
				// The window ended inside the line's quoted string: the
				// line starts the next window instead.
				p.dec = lineprotocol.NewDecoderWithBytes(nil)
				continue
			}
			p.reject(err)
		}
	}
	if len(p.pts) == 0 {
		return nil
	}
	return p.pts
}

// refill moves a streamed body on to its next window, and reports whether
// there was one.
func (p *Parser) refill() bool {
	if p.src == nil {
		return false
	}
	w := p.src.next()
	if w == nil {
		return false
	}
	p.body, p.lineBase = w, p.src.base
	p.dec = lineprotocol.NewDecoderWithBytes(w)
	return true
}

// batchBytes is what the current batch takes: its points, label arrays,
// series keys and strings.
func (p *Parser) batchBytes() int {
	return len(p.pts)*pointBytes + len(p.labels)*labelBytes + len(p.keys) + p.sb.Len()
}

// Err returns the first error of the body so far (a *ParseError), or nil.
func (p *Parser) Err() error {
	if pe := p.firstError(); pe != nil {
		return pe
	}
	return nil
}

// firstError returns the earliest of the first parse error and the first
// too-long line.
func (p *Parser) firstError() *ParseError {
	long := p.long
	if p.src != nil {
		long = p.src.long // a streamed body's long lines are the reader's
	}
	switch {
	case p.first == nil:
		return long
	case long == nil || p.first.Line <= long.Line:
		return p.first
	}
	return long
}

// release drops every reference to the last body and its strings, so that a
// pooled Parser does not keep them alive.
func (p *Parser) release() {
	clear(p.labels[:cap(p.labels)])
	clear(p.pts[:cap(p.pts)])
	clear(p.prevLabels[:cap(p.prevLabels)])
	clear(p.prevPts[:cap(p.prevPts)])
	p.prevPts, p.prevLabels = p.prevPts[:0], p.prevLabels[:0]
	p.section, p.keyable = nil, false
	clear(p.tags[:cap(p.tags)])
	clear(p.tpl[:cap(p.tpl)])
	clear(p.fields[:cap(p.fields)])
	p.pts, p.labels, p.tags, p.tpl, p.fields = p.pts[:0], p.labels[:0], p.tags[:0], p.tpl[:0], p.fields[:0]
	p.resetCaches()
	p.dec, p.body, p.sb, p.first, p.long, p.cur = nil, nil, strings.Builder{}, nil, nil, tagSet{}
	p.src, p.opts.DB, p.opts.Strings = nil, "", nil
}

// Rejected returns how many lines were rejected so far: for bad syntax or
// mapping (parse) and for their length (tooLong).
func (p *Parser) Rejected() (parse, tooLong int) {
	if p.src != nil {
		return p.parseBad, p.longBad + p.src.longN
	}
	return p.parseBad, p.longBad
}

// StringsDropped calls fn with the number of string fields that the
// string policy dropped so far, for each reason that dropped any.
func (p *Parser) StringsDropped(fn func(reason string, n int)) {
	for _, r := range [...]struct {
		reason string
		n      int
	}{{reasonStringDropped, p.strDropped}, {reasonStringVolatile, p.strVolatile}, {reasonStringUntracked, p.strUntracked}} {
		if r.n > 0 {
			fn(r.reason, r.n)
		}
	}
}

// line parses one line and appends its points.
func (p *Parser) line() error {
	m, err := p.dec.Measurement()
	if err != nil {
		return err
	}
	p.off = -1
	p.lineSb, p.lineCost = p.sb.Len(), 0
	p.note(m)
	if string(m) != string(p.meas) {
		p.slots = p.slots[:0] // the name slots belong to the last measurement
	}
	p.meas = append(p.meas[:0], m...)
	if err := p.readTags(); err != nil {
		return err
	}
	p.fields = p.fields[:0]
	for {
		key, kind, val, err := p.dec.NextFieldBytes()
		if err != nil {
			return err
		}
		if key == nil {
			break
		}
		if err := p.addField(key, kind, val); err != nil {
			return err
		}
	}
	tb, err := p.dec.TimeBytes()
	if err != nil {
		return err
	}
	t := p.recv
	if tb != nil {
		p.note(tb)
		raw, msg := parseTimestamp(tb)
		if msg == "" {
			var ok bool
			if t, ok = toMillis(raw, p.opts.Precision); !ok {
				msg = "timestamp " + string(tb) + " out of range for precision"
			}
		}
		if msg != "" {
			return &lineError{msg, p.offset(tb)}
		}
	}
	p.emit(t)
	return nil
}

// reject counts a bad line and keeps the first error with its position.
func (p *Parser) reject(err error) {
	p.parseBad++
	if p.first != nil {
		return
	}
	pe := &ParseError{Msg: err.Error()}
	var de *lineprotocol.DecodeError
	if errors.As(err, &de) {
		pe.Line, pe.Col, pe.Msg = int(de.Line)+p.lineBase, de.Column, de.Err.Error()
		pe.Text = quoteLine(lineN(p.body, int(de.Line)))
	} else if le := (*lineError)(nil); errors.As(err, &le) && (le.off >= 0 || p.off >= 0) {
		off := p.off
		if le.off >= 0 {
			off = le.off
		}
		start := bytes.LastIndexByte(p.body[:off], '\n') + 1
		pe.Line = bytes.Count(p.body[:start], []byte{'\n'}) + 1 + p.lineBase
		pe.Text = quoteLine(lineN(p.body[start:], 1))
		if le.off >= 0 {
			pe.Col = off - start + 1
		}
	}
	p.first = pe
}

// note remembers where in the body the current line is, from a slice the
// decoder returned; the offset gives our own errors a line number.
func (p *Parser) note(b []byte) {
	if p.off < 0 {
		p.off = p.offset(b)
	}
}

// offset returns where b starts in the body, or -1. Only slices that point
// into the body itself (tokens without escapes) tell.
func (p *Parser) offset(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	i := cap(p.body) - cap(b)
	if i >= 0 && i < len(p.body) && &p.body[i] == &b[0] {
		return i
	}
	return -1
}

// lineN returns line n (1-based) of body, without its '\n'.
func lineN(body []byte, n int) []byte {
	for ; n > 1; n-- {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return nil
		}
		body = body[i+1:]
	}
	if i := bytes.IndexByte(body, '\n'); i >= 0 {
		body = body[:i]
	}
	return body
}

// blankLongLines returns body with every line longer than MaxLineBytes
// replaced by spaces (the decoder skips blank lines), recording them. The
// body is copied first, and only when such a line exists.
func (p *Parser) blankLongLines(body []byte) []byte {
	limit, copied := p.opts.MaxLineBytes, false
	for start, n := 0, 1; start < len(body); n++ {
		end := bytes.IndexByte(body[start:], '\n')
		if end < 0 {
			end = len(body)
		} else {
			end += start
		}
		if end-start > limit {
			if !copied {
				body, copied = bytes.Clone(body), true
			}
			p.longBad++
			if p.long == nil {
				p.long = &ParseError{Line: n, Col: limit + 1, Text: quoteLine(body[start:end]),
					Msg: "line too long (" + strconv.Itoa(end-start) + " bytes, the limit is " + strconv.Itoa(limit) + ")"}
			}
			for i := start; i < end; i++ {
				body[i] = ' '
			}
		}
		start = end + 1
	}
	return body
}
