package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// AppendResult counts what an Append did.
type AppendResult struct {
	Stored     int // new events written
	Duplicates int // events whose ID was stored already (or earlier in the batch)
}

// maxTokensPerField bounds the index entries of one field of one event.
const maxTokensPerField = 64

// prepared is one event ready for its day's transaction. Its tokens may
// alias the event's Body.
type prepared struct {
	ev     *Event
	t      int64
	tokens [][]string // per s.fields: the tokens to index
}

// written is what one day's transaction wrote, for a rollback.
type written struct {
	day  int64
	keys [][]byte // events, then ids, then idx keys, as written
}

// Append stores evs. Every event needs an ID and a time within the
// bounds (CheckTime); otherwise nothing is stored and the error names the
// event's index in evs. When Append returns nil every new event is
// committed to disk. See the package comment for atomicity across days.
func (s *Store) Append(ctx context.Context, evs []Event) (AppendResult, error) {
	var res AppendResult
	byDay := map[int64][]prepared{}
	for i := range evs {
		ev := &evs[i]
		if ev.ID == "" {
			return res, fmt.Errorf("event %d: empty id", i)
		}
		if err := s.CheckTime(ev.Time); err != nil {
			return res, fmt.Errorf("event %d: %w", i, err)
		}
		if !json.Valid(ev.Body) || len(bytes.TrimSpace(ev.Body)) == 0 || bytes.TrimSpace(ev.Body)[0] != '{' {
			return res, fmt.Errorf("event %d: body is not a JSON object", i)
		}
		p := prepared{ev: ev, t: ev.Time.UnixNano(), tokens: make([][]string, len(s.names))}
		for f, path := range s.names {
			pathLeaves(ev.Body, path, func(v string) bool {
				for _, tok := range Tokens(v) {
					if len(tok) <= maxTokenLen && !slices.Contains(p.tokens[f], tok) {
						p.tokens[f] = append(p.tokens[f], tok)
					}
				}
				return true
			})
		}
		d := dayOf(p.t)
		byDay[d] = append(byDay[d], p)
	}
	days := make([]int64, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	slices.Sort(days)
	var done []written
	for _, d := range days {
		w, r, err := s.appendDay(ctx, d, byDay[d])
		if err != nil {
			if rerr := s.rollback(done); rerr != nil {
				err = errors.Join(err, rerr)
			}
			return AppendResult{}, err
		}
		done = append(done, w)
		res.Stored += r.Stored
		res.Duplicates += r.Duplicates
	}
	return res, nil
}

// appendDay writes one day's events in one transaction (shared with
// concurrent appends by bbolt's Batch: one commit, one fsync).
func (s *Store) appendDay(ctx context.Context, d int64, ps []prepared) (written, AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return written{}, AppendResult{}, err
	}
	slices.SortStableFunc(ps, func(a, b prepared) int { return cmpInt(a.t, b.t) })
	if _, err := s.open(d, true); err != nil {
		return written{}, AppendResult{}, err
	}
	var w written
	var res AppendResult
	err := s.use(d, func(db *bolt.DB) error {
		if db == nil {
			return fmt.Errorf("%w: day %s expired while being written", ErrOutOfBounds, dayName(d))
		}
		return db.Batch(func(tx *bolt.Tx) error {
			// Batch may run fn again (alone) when another fn of its
			// transaction failed: start from scratch each time.
			w, res = written{day: d}, AppendResult{}
			return s.writeDay(tx, ps, &w, &res)
		})
	})
	if err != nil {
		return written{}, AppendResult{}, fmt.Errorf("append events to %s: %w", dayName(d), err)
	}
	return w, res, nil
}

func (s *Store) writeDay(tx *bolt.Tx, ps []prepared, w *written, res *AppendResult) error {
	evb, ids, idx, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketIdx), tx.Bucket(bucketMeta)
	evb.FillPercent, ids.FillPercent = 0.9, 0.5
	var ikeys [][]byte
	for _, p := range ps {
		h := idHash(p.ev.ID)
		if ids.Get(h) != nil {
			res.Duplicates++
			continue
		}
		seq, err := evb.NextSequence()
		if err != nil {
			return err
		}
		k := eventKey(p.t, seq)
		if err := evb.Put(k, encodeRecord(k, p.ev.ID, p.ev.Body)); err != nil {
			return err
		}
		if err := ids.Put(h, k); err != nil {
			return err
		}
		w.keys = append(w.keys, k, h)
		for f, toks := range p.tokens {
			name := s.names[f]
			if len(toks) > maxTokensPerField {
				toks = toks[:maxTokensPerField]
				if err := meta.Put([]byte("partial:"+name), nil); err != nil {
					return err
				}
			}
			for _, tok := range toks {
				ik := make([]byte, 0, len(name)+len(tok)+2+keyLen)
				ik = append(append(append(append(ik, name...), 0), tok...), 0)
				ik = append(ik, k...)
				if err := idx.Put(ik, nil); err != nil {
					return err
				}
				ikeys = append(ikeys, ik)
			}
		}
		res.Stored++
	}
	w.keys = append(w.keys, ikeys...)
	return nil
}

// rollback deletes what earlier days of a failed Append wrote.
func (s *Store) rollback(done []written) error {
	var errs []error
	for _, w := range done {
		err := s.use(w.day, func(db *bolt.DB) error {
			if db == nil {
				return nil
			}
			return db.Update(func(tx *bolt.Tx) error {
				for _, k := range w.keys {
					for _, b := range [][]byte{bucketEvents, bucketIDs, bucketIdx} {
						if err := tx.Bucket(b).Delete(k); err != nil {
							return err
						}
					}
				}
				return nil
			})
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("roll back events of %s: %w", dayName(w.day), err))
		}
	}
	return errors.Join(errs...)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
