package events

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SearchRequest is one page of a search.
type SearchRequest struct {
	// Query selects events; nil means every event.
	Query *Query
	// Start and End bound the events' times, both inclusive; a zero Start
	// means the oldest, a zero End the newest.
	Start, End time.Time
	// Limit caps the events of the page (default 100).
	Limit int
	// Cursor continues a search: the Next of the page before, with the
	// same Query, Start and End.
	Cursor string
}

// Page is one page of results, newest first.
type Page struct {
	Events []Found
	// Next is the cursor of the following page; "" when this page is the
	// last. A full page may be followed by an empty one.
	Next string
	// Scanned counts the records read (for statistics and benchmarks).
	Scanned int
}

// readBatch bounds the records one read transaction reads.
const readBatch = 16384

// Search returns the newest events that match req.Query within its time
// range, after its Cursor. Errors: ErrBadCursor, ErrClosed, ctx's.
func (s *Store) Search(ctx context.Context, req SearchRequest) (Page, error) {
	q := req.Query
	if q == nil {
		q = &Query{src: "*", root: allNode{}}
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !req.Start.IsZero() {
		lo = req.Start.UnixNano()
	}
	if !req.End.IsZero() {
		hi = req.End.UnixNano()
	}
	ub := eventKey(hi, math.MaxUint64)
	if req.Cursor != "" {
		c, err := parseCursor(req.Cursor)
		if err != nil {
			return Page{}, err
		}
		if bytes.Compare(c, ub) < 0 {
			ub = c
		}
	}
	lb := eventKey(lo, 0)
	if bytes.Compare(lb, ub) > 0 {
		return Page{}, nil
	}
	days, err := s.dayList()
	if err != nil {
		return Page{}, err
	}
	field, token := q.indexTerm(s.indexed)
	var page Page
	for _, d := range slices.Backward(days) {
		if d > dayOf(keyTime(ub)) {
			continue
		}
		if d < dayOf(lo) {
			break
		}
		ok, err := s.open(d, false)
		if err != nil {
			return page, err
		}
		if !ok {
			continue
		}
		full, err := s.searchDay(ctx, d, q, field, token, lb, ub, limit, &page)
		if err != nil {
			return page, err
		}
		if full {
			break
		}
	}
	return page, nil
}

// searchDay adds day d's matches to page; full reports that the page has
// its limit (page.Next is then set).
func (s *Store) searchDay(ctx context.Context, d int64, q *Query, field, token string, lb, ub []byte, limit int, page *Page) (full bool, err error) {
	var prefix []byte
	pos := ub
	if field != "" {
		prefix = append(append(append([]byte(field), 0), token...), 0)
		pos = append(slices.Clone(prefix), ub...)
	}
	for first := true; pos != nil; first = false {
		err := s.use(d, func(db *bolt.DB) error {
			if db == nil {
				pos = nil
				return nil
			}
			return db.View(func(tx *bolt.Tx) error {
				evb := tx.Bucket(bucketEvents)
				c := evb.Cursor()
				if prefix != nil && first {
					if tx.Bucket(bucketMeta).Get([]byte("partial:"+field)) != nil {
						prefix, pos = nil, ub // this day's index is incomplete for field: scan
					}
				}
				if prefix != nil {
					c = tx.Bucket(bucketIdx).Cursor()
				}
				k, v := seekLE(c, pos)
				for n := 0; ; n++ {
					ek := k
					if prefix != nil {
						if k == nil || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+keyLen {
							pos = nil
							return nil
						}
						ek = k[len(prefix):]
						v = evb.Get(ek)
					}
					if ek == nil || bytes.Compare(ek, lb) < 0 {
						pos = nil
						return nil
					}
					if n == readBatch {
						pos = slices.Clone(k)
						return nil
					}
					if n%1024 == 0 {
						if err := ctx.Err(); err != nil {
							return err
						}
					}
					page.Scanned++
					if v != nil && s.consider(q, ek, v, page) && len(page.Events) == limit {
						page.Next = formatCursor(ek)
						full = true
						pos = nil
						return nil
					}
					k, v = c.Prev()
				}
			})
		})
		if err != nil {
			return false, fmt.Errorf("search events of %s: %w", dayName(d), err)
		}
	}
	return full, nil
}

// consider adds the record (k, v) to page when it matches q.
func (s *Store) consider(q *Query, k, v []byte, page *Page) bool {
	id, body, ok := decodeRecord(k, v)
	if !ok {
		s.Corrupt.Add(1)
		return false
	}
	if !q.root.may(body) {
		return false
	}
	if !q.root.match(body) {
		return false
	}
	page.Events = append(page.Events, Found{ID: string(id), Time: time.Unix(0, keyTime(k)).UTC(), Body: bytes.Clone(body)})
	return true
}

// seekLE positions c at the last key <= key.
func seekLE(c *bolt.Cursor, key []byte) ([]byte, []byte) {
	k, v := c.Seek(key)
	if k == nil {
		return c.Last()
	}
	if !bytes.Equal(k, key) {
		return c.Prev()
	}
	return k, v
}

// A cursor names the last event of a page: "<time ns>_<seq>". The next
// page starts just below it.
func formatCursor(k []byte) string {
	return strconv.FormatInt(keyTime(k), 10) + "_" + strconv.FormatUint(keySeq(k), 10)
}

// parseCursor returns the (inclusive) upper key of the page after c.
func parseCursor(c string) ([]byte, error) {
	ts, ss, ok := strings.Cut(c, "_")
	t, err1 := strconv.ParseInt(ts, 10, 64)
	seq, err2 := strconv.ParseUint(ss, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadCursor, c)
	}
	if seq > 0 {
		return eventKey(t, seq-1), nil
	}
	if t == math.MinInt64 {
		return eventKey(t, 0), nil
	}
	return eventKey(t-1, math.MaxUint64), nil
}
