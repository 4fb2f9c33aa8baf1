package notify

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SilenceState is where a silence is in its life, decided by the clock.
type SilenceState int

// The states of a silence, as Alertmanager names them.
const (
	// SilencePending is a silence whose StartsAt is still ahead.
	SilencePending SilenceState = iota
	// SilenceActive is a silence between StartsAt and EndsAt: it mutes.
	SilenceActive
	// SilenceExpired is a silence past its EndsAt.
	SilenceExpired
)

// String returns "pending", "active" or "expired", Alertmanager's words.
func (s SilenceState) String() string {
	switch s {
	case SilencePending:
		return "pending"
	case SilenceActive:
		return "active"
	case SilenceExpired:
		return "expired"
	}
	panic(fmt.Sprintf("notify: unknown silence state %d", int(s)))
}

// Silence mutes the alerts its matchers all match while it is active.
// Its JSON form is Alertmanager's API v2 silence.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
}

// State returns the state of s at now.
func (s *Silence) State(now time.Time) SilenceState {
	switch {
	case now.Before(s.StartsAt):
		return SilencePending
	case now.Before(s.EndsAt):
		return SilenceActive
	}
	return SilenceExpired
}

// Silences is the silence store, persisted in the notify_silences bucket.
// All methods are safe for concurrent use.
type Silences struct {
	db        *bolt.DB
	now       func() time.Time
	retention time.Duration
	log       *slog.Logger

	// mu guards byID. It is held for writing across each bbolt write, so
	// that memory and the file change together.
	mu   sync.RWMutex
	byID map[string]Silence
}

func openSilences(db *bolt.DB, now func() time.Time, retention time.Duration, log *slog.Logger) (*Silences, error) {
	s := &Silences{db: db, now: now, retention: retention, log: log, byID: map[string]Silence{}}
	err := db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSilences).ForEach(func(k, v []byte) error {
			var sil Silence
			if err := json.Unmarshal(v, &sil); err != nil {
				log.Warn("skipping undecodable silence", attrSilence, string(k), attrErr, err)
				return nil
			}
			s.byID[sil.ID] = sil
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("load silences: %w", err)
	}
	return s, nil
}

// Set stores sil and returns its ID. A sil without ID is a new silence and
// gets a new ID (a UUID). With the ID of a stored silence, Set updates it
// in place when that keeps history true, as Alertmanager does: the
// matchers are unchanged and the silence is pending and stays so, or is
// active and keeps its StartsAt. Otherwise the stored silence is expired
// (unless it already is) and sil is stored as a new silence with a new ID,
// which Set returns. A StartsAt that is zero or in the past becomes now on
// a new silence. An unknown ID is ErrNotFound; a bad silence wraps
// ErrInvalidSilence.
func (s *Silences) Set(sil Silence) (string, error) {
	now := s.now()
	if sil.StartsAt.IsZero() {
		sil.StartsAt = now
	}
	if err := validateSilence(&sil, now); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var writes []Silence
	if sil.ID != "" {
		prev, ok := s.byID[sil.ID]
		if !ok {
			return "", fmt.Errorf("set silence %q: %w", sil.ID, ErrNotFound)
		}
		if canUpdate(&prev, &sil, now) {
			sil.UpdatedAt = now
			return sil.ID, s.write(sil)
		}
		if prev.State(now) != SilenceExpired {
			writes = append(writes, expired(prev, now))
		}
	}
	id := newUUID()
	sil.ID = id
	sil.StartsAt = later(sil.StartsAt, now)
	sil.UpdatedAt = now
	return id, s.write(append(writes, sil)...)
}

// canUpdate reports whether stored silence a may become b in place.
func canUpdate(a, b *Silence, now time.Time) bool {
	if !slices.EqualFunc(a.Matchers, b.Matchers, Matcher.equal) {
		return false
	}
	switch a.State(now) {
	case SilenceActive:
		return a.StartsAt.Equal(b.StartsAt) && !b.EndsAt.Before(now)
	case SilencePending:
		return !b.StartsAt.Before(now)
	}
	return false
}

// Expire ends the silence id now: an active one gets EndsAt now, a pending
// one StartsAt and EndsAt now. Expiring an expired silence does nothing.
func (s *Silences) Expire(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sil, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("expire silence %q: %w", id, ErrNotFound)
	}
	now := s.now()
	if sil.State(now) == SilenceExpired {
		return nil
	}
	return s.write(expired(sil, now))
}

func expired(sil Silence, now time.Time) Silence {
	if sil.State(now) == SilencePending {
		sil.StartsAt = now
	}
	sil.EndsAt = now
	sil.UpdatedAt = now
	return sil
}

// write stores sils in one transaction, then in memory. The caller holds
// s.mu for writing.
func (s *Silences) write(sils ...Silence) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSilences)
		for _, sil := range sils {
			v, err := json.Marshal(sil)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(sil.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store silence: %w", err)
	}
	for _, sil := range sils {
		s.byID[sil.ID] = sil
	}
	return nil
}

// Get returns the silence id, or ErrNotFound.
func (s *Silences) Get(id string) (Silence, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sil, ok := s.byID[id]
	if !ok {
		return Silence{}, fmt.Errorf("get silence %q: %w", id, ErrNotFound)
	}
	return sil, nil
}

// List returns every stored silence: active ones first (ending soonest
// first), then pending (starting soonest first), then expired (ended last
// first), the order of Alertmanager's API.
func (s *Silences) List() []Silence {
	now := s.now()
	s.mu.RLock()
	out := make([]Silence, 0, len(s.byID))
	for _, sil := range s.byID {
		out = append(out, sil)
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b Silence) int {
		sa, sb := a.State(now), b.State(now)
		if c := cmp.Compare(listRank(sa), listRank(sb)); c != 0 {
			return c
		}
		var c int
		switch sa {
		case SilenceActive:
			c = a.EndsAt.Compare(b.EndsAt)
		case SilencePending:
			c = a.StartsAt.Compare(b.StartsAt)
		default:
			c = b.EndsAt.Compare(a.EndsAt)
		}
		return cmp.Or(c, cmp.Compare(a.ID, b.ID))
	})
	return out
}

// listRank orders states for List: active, pending, expired.
func listRank(s SilenceState) int {
	switch s {
	case SilenceActive:
		return 0
	case SilencePending:
		return 1
	}
	return 2
}

// State returns the state of sil on the store's clock.
func (s *Silences) State(sil Silence) SilenceState { return sil.State(s.now()) }

// Mutes returns the IDs of the active silences that match labels, sorted.
func (s *Silences) Mutes(labels map[string]string) []string {
	now := s.now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []string
	for id, sil := range s.byID {
		if sil.State(now) == SilenceActive && matchAll(sil.Matchers, labels) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// gc deletes the silences that expired more than the retention ago and
// returns how many.
func (s *Silences) gc() (int, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var old []string
	for id, sil := range s.byID {
		if !now.Before(sil.EndsAt.Add(s.retention)) {
			old = append(old, id)
		}
	}
	if len(old) == 0 {
		return 0, nil
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSilences)
		for _, id := range old {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("delete old silences: %w", err)
	}
	for _, id := range old {
		delete(s.byID, id)
	}
	return len(old), nil
}
