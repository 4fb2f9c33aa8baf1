package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func mustMatchers(t *testing.T, s string) []Matcher {
	t.Helper()
	ms, err := ParseMatchers(s)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func newSilence(t *testing.T, matchers string, start, end time.Time) Silence {
	return Silence{Matchers: mustMatchers(t, matchers), StartsAt: start, EndsAt: end, CreatedBy: "ops", Comment: "maintenance"}
}

func TestSilences_Set_Validation(t *testing.T) {
	fx := newFixture(t, simpleConfig(0, 0, 0), nil)
	s := fx.n.Silences()
	f := func(sil Silence, want string) {
		t.Helper()
		_, err := s.Set(sil)
		if err == nil {
			t.Fatalf("Set(%+v): no error, want %s", sil, want)
		}
		if !errors.Is(err, ErrInvalidSilence) {
			t.Errorf("Set: %v does not wrap ErrInvalidSilence", err)
		}
		if got := err.Error(); got != want {
			t.Errorf("Set:\n got %s\nwant %s", got, want)
		}
	}
	end := t0.Add(time.Hour)
	f(Silence{EndsAt: end, CreatedBy: "a", Comment: "b"}, "invalid silence: at least one matcher is required")
	f(newSilence(t, `host=~".*"`, t0, end),
		"invalid silence: at least one matcher must not match the empty string (the silence would match every alert)")
	f(newSilence(t, `host=~".*",job=""`, t0, end),
		"invalid silence: at least one matcher must not match the empty string (the silence would match every alert)")
	f(Silence{Matchers: []Matcher{{Name: "bad name", Value: "x", IsEqual: true}}, EndsAt: end, CreatedBy: "a", Comment: "b"},
		`invalid silence: matchers[0]: bad label name "bad name"`)
	f(Silence{Matchers: []Matcher{{Name: "a", Value: "(", IsRegex: true, IsEqual: true}}, EndsAt: end, CreatedBy: "a", Comment: "b"},
		"invalid silence: matchers[0]: bad regexp \"(\": error parsing regexp: missing closing ): `(`")
	f(newSilence(t, `host=a`, t0, time.Time{}), "invalid silence: endsAt is required")
	f(newSilence(t, `host=a`, end, t0),
		"invalid silence: endsAt 2026-03-01T12:00:00Z is not after startsAt 2026-03-01T13:00:00Z")
	f(newSilence(t, `host=a`, t0.Add(-2*time.Hour), t0.Add(-time.Hour)),
		"invalid silence: endsAt 2026-03-01T11:00:00Z is in the past (expire the silence instead)")
	noAuthor := newSilence(t, `host=a`, t0, end)
	noAuthor.CreatedBy = ""
	f(noAuthor, "invalid silence: createdBy is required")
	noComment := newSilence(t, `host=a`, t0, end)
	noComment.Comment = ""
	f(noComment, "invalid silence: comment is required")

	// A matcher that matches "" is fine next to one that does not.
	if _, err := s.Set(newSilence(t, `host=~".*",job=node`, t0, end)); err != nil {
		t.Errorf("valid silence refused: %v", err)
	}
	if _, err := s.Set(Silence{ID: "nope", Matchers: mustMatchers(t, "a=b"), EndsAt: end, CreatedBy: "a", Comment: "b"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Set with unknown ID: %v, want ErrNotFound", err)
	}
}

func TestSilences_States(t *testing.T) {
	fx := newFixture(t, simpleConfig(0, 0, 0), nil)
	s := fx.n.Silences()
	id, err := s.Set(newSilence(t, `host="web-1"`, t0.Add(time.Hour), t0.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"host": "web-1", "alertname": "Down"}
	f := func(want SilenceState, wantMutes bool) {
		t.Helper()
		sil, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.State(sil); got != want {
			t.Errorf("at %s state = %s, want %s", fx.clk.Now().Format(time.Kitchen), got, want)
		}
		if got := len(s.Mutes(labels)) > 0; got != wantMutes {
			t.Errorf("at %s mutes = %v, want %v", fx.clk.Now().Format(time.Kitchen), got, wantMutes)
		}
	}
	f(SilencePending, false)
	fx.clk.Advance(time.Hour)
	f(SilenceActive, true)
	if got := s.Mutes(map[string]string{"host": "web-2"}); len(got) != 0 {
		t.Errorf("silence mutes web-2: %v", got)
	}
	fx.clk.Advance(time.Hour)
	f(SilenceExpired, false)
}

func TestSilences_Update(t *testing.T) {
	fx := newFixture(t, simpleConfig(0, 0, 0), nil)
	s := fx.n.Silences()
	set := func(sil Silence) string {
		t.Helper()
		id, err := s.Set(sil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	get := func(id string) Silence {
		t.Helper()
		sil, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return sil
	}

	t.Run("active, new end: in place", func(t *testing.T) {
		id := set(newSilence(t, "host=a", t0, t0.Add(time.Hour)))
		sil := get(id)
		sil.EndsAt = t0.Add(3 * time.Hour)
		sil.Comment = "longer"
		if got := set(sil); got != id {
			t.Errorf("in-place update got new id %s", got)
		}
		if got := get(id); !got.EndsAt.Equal(t0.Add(3*time.Hour)) || got.Comment != "longer" {
			t.Errorf("update not stored: %+v", got)
		}
	})
	t.Run("active, new matchers: old expired, new id", func(t *testing.T) {
		id := set(newSilence(t, "host=b", t0, t0.Add(time.Hour)))
		fx.clk.Advance(time.Minute)
		sil := get(id)
		sil.Matchers = mustMatchers(t, "host=c")
		id2 := set(sil)
		if id2 == id {
			t.Fatal("changed matchers updated in place")
		}
		if old := get(id); s.State(old) != SilenceExpired || !old.EndsAt.Equal(fx.clk.Now()) {
			t.Errorf("old silence %s ends %s, want expired now", s.State(old), old.EndsAt)
		}
		if nw := get(id2); s.State(nw) != SilenceActive || !nw.StartsAt.Equal(fx.clk.Now()) {
			t.Errorf("new silence %s starts %s, want active from now", s.State(nw), nw.StartsAt)
		}
	})
	t.Run("pending, later start: in place", func(t *testing.T) {
		now := fx.clk.Now()
		id := set(newSilence(t, "host=d", now.Add(time.Hour), now.Add(2*time.Hour)))
		sil := get(id)
		sil.StartsAt = now.Add(90 * time.Minute)
		if got := set(sil); got != id {
			t.Errorf("pending update got new id")
		}
	})
	t.Run("expired: new id", func(t *testing.T) {
		now := fx.clk.Now()
		id := set(newSilence(t, "host=e", now, now.Add(time.Minute)))
		fx.clk.Advance(2 * time.Minute)
		sil := get(id)
		sil.EndsAt = fx.clk.Now().Add(time.Hour)
		if got := set(sil); got == id {
			t.Errorf("expired silence updated in place")
		}
	})
}

func TestSilences_Expire(t *testing.T) {
	fx := newFixture(t, simpleConfig(0, 0, 0), nil)
	s := fx.n.Silences()
	active, _ := s.Set(newSilence(t, "host=a", t0, t0.Add(time.Hour)))
	pending, _ := s.Set(newSilence(t, "host=b", t0.Add(time.Hour), t0.Add(2*time.Hour)))
	fx.clk.Advance(time.Minute)
	for _, id := range []string{active, pending, active} { // the second expiry of active is a no-op
		if err := s.Expire(id); err != nil {
			t.Fatalf("Expire(%s): %v", id, err)
		}
	}
	for _, id := range []string{active, pending} {
		sil, _ := s.Get(id)
		if s.State(sil) != SilenceExpired {
			t.Errorf("%s not expired", id)
		}
	}
	if sil, _ := s.Get(pending); !sil.StartsAt.Equal(fx.clk.Now()) {
		t.Errorf("expired pending silence starts %s, want now", sil.StartsAt)
	}
	if err := s.Expire("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Expire(unknown) = %v, want ErrNotFound", err)
	}
}

func TestSilences_GCAndReopen(t *testing.T) {
	fx := newFixture(t, simpleConfig(0, 0, 0), nil)
	s := fx.n.Silences()
	short, _ := s.Set(newSilence(t, "host=a", t0, t0.Add(time.Hour)))
	long, _ := s.Set(newSilence(t, "host=b", t0, t0.Add(200*time.Hour)))
	pending, _ := s.Set(newSilence(t, `host=~"c|d"`, t0.Add(time.Hour), t0.Add(2*time.Hour)))

	fx.restart()
	s = fx.n.Silences()
	if got := len(s.List()); got != 3 {
		t.Fatalf("after reopen %d silences, want 3", got)
	}
	if sil, err := s.Get(pending); err != nil || !matchAll(sil.Matchers, map[string]string{"host": "d"}) {
		t.Errorf("reopened regex silence does not match: %v %v", sil, err)
	}

	// Five days after the short one ended it is collected; the others stay.
	fx.clk.Advance(time.Hour + DefaultRetention)
	if n, err := s.gc(); err != nil || n != 1 {
		t.Fatalf("gc = %d, %v; want 1", n, err)
	}
	if _, err := s.Get(short); !errors.Is(err, ErrNotFound) {
		t.Errorf("collected silence still there: %v", err)
	}
	fx.restart()
	var ids []string
	for _, sil := range fx.n.Silences().List() {
		ids = append(ids, sil.ID)
	}
	// List: active first, then expired.
	if want := []string{long, pending}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("List after gc and reopen = %v, want %v", ids, want)
	}
}
