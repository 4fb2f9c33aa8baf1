package influx

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// limitConfig is the default configuration without the drop list, so that
// the limit alone decides.
func limitConfig() Config {
	c := DefaultConfig()
	c.DropStringFields = nil
	return c
}

// admitAt runs the policy for string s of metric m_f_info{host=h} at ms.
func admitAt(sp *StringPolicy, host, s string, ms int64) bool {
	ls := tsdb.Labels{{Name: tsdb.MetricName}, {Name: "host", Value: host}}
	ok, _ := sp.admit(ls, 0, "m_f_info", s, ms)
	return ok
}

func TestStringPolicy_Admit_Limit(t *testing.T) {
	const min = int64(time.Minute / time.Millisecond)
	day := DefaultStringFieldWindow.Milliseconds()
	sp := NewStringPolicy(limitConfig())

	// A string that changes every minute: ten series, then none.
	for i := range 30 {
		want := i < DefaultStringFieldValues
		if got := admitAt(sp, "a", fmt.Sprintf(" 0:%02d", i), int64(i)*min); got != want {
			t.Fatalf("minute %d: admitted %v, want %v", i, got, want)
		}
	}
	// A value already tracked is always kept.
	if !admitAt(sp, "a", " 0:03", 31*min) {
		t.Error("a tracked value was refused")
	}
	// Still volatile a window later, because it kept changing.
	for i := int64(0); i < 3*day; i += 10 * min {
		if admitAt(sp, "a", fmt.Sprintf("x%d", i), 40*min+i) {
			t.Fatalf("volatile metric took a new value at %d ms", i)
		}
	}
	// Another tag set is tracked apart.
	if !admitAt(sp, "b", " 0:00", 0) {
		t.Error("host b refused")
	}

	// A version that changes once a month keeps its series, for a year.
	for month := range 12 {
		v := fmt.Sprintf("1.%d.0", month)
		for d := range 30 {
			if !admitAt(sp, "v", v, int64(month*30+d)*day) {
				t.Fatalf("month %d day %d: version %s refused", month, d, v)
			}
		}
	}
	// A state among three values, flipping every minute for two days.
	for i := range 2 * 24 * 60 {
		if !admitAt(sp, "s", []string{"ok", "degraded", "failed"}[i%3], int64(i)*min) {
			t.Fatalf("state refused at minute %d", i)
		}
	}
	// A volatile metric recovers after a window without a refusal, once
	// its tracked values have gone unseen for the window.
	sp2 := NewStringPolicy(limitConfig())
	for i := range 11 {
		admitAt(sp2, "a", fmt.Sprint(i), int64(i)*min)
	}
	if admitAt(sp2, "a", "new", 20*min) {
		t.Fatal("volatile metric took a new value")
	}
	if !admitAt(sp2, "a", "later", 20*min+day) {
		t.Error("a window after its last refusal, the metric took no new value")
	}
}

func TestStringPolicy_Admit_Bounded(t *testing.T) {
	c := limitConfig()
	c.StringFieldSeries = 100
	sp := NewStringPolicy(c)
	for i := range 100 {
		if !admitAt(sp, fmt.Sprint("h", i), "v", 0) {
			t.Fatalf("host %d refused below the bound", i)
		}
	}
	if ok, why := sp.admit(tsdb.Labels{{Name: tsdb.MetricName}, {Name: "host", Value: "new"}}, 0, "m_f_info", "v", 1); ok || why != reasonStringUntracked {
		t.Fatalf("past the bound: %v %q, want refused as %s", ok, why, reasonStringUntracked)
	}
	if n := sp.Tracked(); n != 100 {
		t.Fatalf("tracking %d, bound 100", n)
	}
	// A window later the stale metrics are forgotten and the new one fits.
	if !admitAt(sp, "new", "v", c.StringFieldWindow.Milliseconds()+1) {
		t.Error("stale metrics were not swept")
	}
	if n := sp.Tracked(); n != 1 {
		t.Errorf("tracking %d after the sweep, want 1", n)
	}
}

// fleet is a real store in t.TempDir behind a real Handler, both on a
// simulated clock.
type fleet struct {
	h     *Handler
	db    *tsdb.DB
	stats *collectors.Stats
	now   atomic.Int64 // unix ms
}

func newFleet(t *testing.T, cfg Config) *fleet {
	t.Helper()
	f := &fleet{stats: collectors.NewStats("influx")}
	clock := func() time.Time { return time.UnixMilli(f.now.Load()) }
	scfg := tsdb.DefaultConfig()
	scfg.Path, scfg.Retention = t.TempDir(), 90*24*time.Hour
	db, err := tsdb.Open(scfg, tsdb.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	f.db = db
	f.h = New(db, Options{Now: clock, Stats: f.stats, Strings: NewStringPolicy(cfg)})
	return f
}

// post sends body to /write?db=telegraf through the handler.
func (f *fleet) post(t *testing.T, body []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.h.Write(rec, httptest.NewRequestWithContext(t.Context(), "POST", "/write?db=telegraf&precision=s", bytes.NewReader(body)))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("POST /write: %d %s", rec.Code, rec.Body)
	}
}

// uptimeFormat formats seconds of uptime as Telegraf's system input does.
func uptimeFormat(up int64) string {
	days, h, m := up/86400, up%86400/3600, up%3600/60
	switch days {
	case 0:
		return fmt.Sprintf("%2d:%02d", h, m)
	case 1:
		return fmt.Sprintf("1 day, %2d:%02d", h, m)
	}
	return fmt.Sprintf("%d days, %2d:%02d", days, h, m)
}

// simulate sends Telegraf's default system input (its three lines, as the
// captures have them) for hosts hosts every step over span, starting at
// start, plus a stable version string per host, and returns the store's
// series count.
func (f *fleet) simulate(t *testing.T, start time.Time, hosts int, span, step time.Duration) int {
	t.Helper()
	var b []byte
	for at := time.Duration(0); at < span; at += step {
		ts := start.Add(at)
		f.now.Store(ts.UnixMilli() + 500)
		b = b[:0]
		for h := range hosts {
			up := int64((at+time.Duration(h)*time.Hour)/time.Second) + 700
			sec := ts.Unix()
			b = fmt.Appendf(b, "system,host=h%03d load1=%.2f,load5=0.5,load15=0.4,n_cpus=2i,n_physical_cpus=2i %d\n", h, float64(h%7)/3, sec)
			b = fmt.Appendf(b, "system,host=h%03d uptime=%di,n_users=1i %d\n", h, up, sec)
			b = fmt.Appendf(b, "system,host=h%03d uptime_format=%q %d\n", h, uptimeFormat(up), sec)
			b = fmt.Appendf(b, "agent,host=h%03d version=\"1.%d.0\" %d\n", h, 30+int(at/(15*24*time.Hour)), sec)
		}
		f.post(t, b)
	}
	return f.db.NumSeries()
}

// TestHandler_Write_TelegrafFleet30Days: Telegraf's default system input
// for 100 hosts over 30 simulated days, through the handler into a real
// store, stays within twice the series of one day: with the default
// policy, and with the limit alone (no drop list). With every string kept
// (the behaviour before the policy) a month is far more than that.
func TestHandler_Write_TelegrafFleet30Days(t *testing.T) {
	if testing.Short() {
		t.Skip("30 simulated days")
	}
	const hosts = 100
	step := 20 * time.Minute // uptime_format changes at every report
	if raceEnabled {
		step = 2 * time.Hour // the same growth, in fewer requests
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	keep := DefaultConfig()
	keep.StringFields = StringsKeep
	keep.DropStringFields = nil
	for _, c := range []struct {
		name string
		cfg  Config
	}{{"default", DefaultConfig()}, {"limit_only", limitConfig()}, {"keep", keep}} {
		t.Run(c.name, func(t *testing.T) {
			hosts := hosts
			if c.name == "keep" {
				hosts = 10 // enough to show the growth
			}
			oneDay := newFleet(t, c.cfg).simulate(t, start, hosts, 24*time.Hour, step)
			month := newFleet(t, c.cfg)
			thirty := month.simulate(t, start, hosts, 30*24*time.Hour, step)
			t.Logf("%s: %d series after one day, %d after 30 days; rejections %v", c.name, oneDay, thirty, month.stats.Rejections())
			if c.name == "keep" {
				if thirty <= 2*oneDay {
					t.Errorf("keep: %d series in 30 days, %d in one: the simulation does not show the growth", thirty, oneDay)
				}
				return
			}
			if thirty > 2*oneDay {
				t.Errorf("%d series after 30 days, more than twice the %d of one day", thirty, oneDay)
			}
			// The stable version string keeps its _info series: two
			// versions per host over the month.
			if got := countSeries(t, month.db, "agent_version_info"); got != 2*hosts {
				t.Errorf("agent_version_info: %d series, want %d", got, 2*hosts)
			}
			volatile := rejected(month.stats, "samples", reasonStringVolatile)
			dropped := rejected(month.stats, "samples", reasonStringDropped)
			if c.name == "default" && (dropped == 0 || countSeries(t, month.db, "system_uptime_format_info") != 0) {
				t.Errorf("default: uptime_format not dropped (%d dropped)", dropped)
			}
			if c.name == "limit_only" {
				if got := countSeries(t, month.db, "system_uptime_format_info"); got != hosts*DefaultStringFieldValues || volatile == 0 {
					t.Errorf("limit: %d uptime_format series, %d refused; want %d series", got, volatile, hosts*DefaultStringFieldValues)
				}
			}
		})
	}
}

// countSeries counts the store's series named name.
func countSeries(t *testing.T, db *tsdb.DB, name string) int {
	t.Helper()
	m, err := tsdb.NewMatcher(tsdb.MatchEqual, tsdb.MetricName, name)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := db.Select(t.Context(), 0, 1<<62, m)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ss.Next() {
		n++
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestHandler_Write_StringModes: drop makes no _info series, keep makes
// one per distinct string, and a stable string becomes its _info series
// under the default policy; dropped strings leave the write a 204.
func TestHandler_Write_StringModes(t *testing.T) {
	body := []byte("svc,host=a state=\"running\",version=\"v2.1\",up=1i 1795434175000000000\n" +
		"system,host=a uptime_format=\" 0:12\",load1=0.5 1795434175000000000\n")
	for _, c := range []struct {
		mode, drop string
		want       []string // metric names written
		dropped    uint64
	}{
		{StringsLimit, "system_uptime_format", []string{"svc_state_info", "svc_version_info", "svc_up", "system_load1"}, 1},
		{StringsKeep, "", []string{"svc_state_info", "svc_version_info", "svc_up", "system_uptime_format_info", "system_load1"}, 0},
		{StringsDrop, "", []string{"svc_up", "system_load1"}, 3},
	} {
		t.Run(c.mode, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.StringFields, cfg.DropStringFields = c.mode, strings.Fields(c.drop)
			h, w := newTestHandler(Options{Strings: NewStringPolicy(cfg)})
			srv := testServer(t, h)
			if r := do(t, "POST", srv.URL+"/write?db=x", bytes.NewReader(body), nil); r.status != http.StatusNoContent {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			var got []string
			for _, call := range w.calls {
				for _, p := range call {
					got = append(got, p.Labels.Get(tsdb.MetricName))
				}
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("wrote %v, want %v", got, c.want)
			}
			if n := rejected(h.stats, "samples", reasonStringDropped); n != c.dropped {
				t.Errorf("samples:%s = %d, want %d", reasonStringDropped, n, c.dropped)
			}
		})
	}
}

func TestConfig_Validate_StringFields(t *testing.T) {
	for _, c := range []struct {
		key  string
		edit func(*Config)
	}{
		{"influx.string_fields", func(c *Config) { c.StringFields = "some" }},
		{"influx.string_fields", func(c *Config) { c.StringFields = "" }},
		{"influx.string_field_values", func(c *Config) { c.StringFieldValues = 0 }},
		{"influx.string_field_values", func(c *Config) { c.StringFieldValues = 1001 }},
		{"influx.string_field_window", func(c *Config) { c.StringFieldWindow = time.Second }},
		{"influx.string_field_window", func(c *Config) { c.StringFieldWindow = 400 * 24 * time.Hour }},
		{"influx.string_field_series", func(c *Config) { c.StringFieldSeries = -1 }},
		{"influx.drop_string_fields[1]", func(c *Config) { c.DropStringFields = []string{"a", ""} }},
		{"influx.drop_string_fields[0]", func(c *Config) { c.DropStringFields = []string{"\xff"} }},
		{"influx.drop_string_fields", func(c *Config) { c.DropStringFields = make([]string, maxDropStringFields+1) }},
	} {
		cfg := DefaultConfig()
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), c.key+":") {
			t.Errorf("%s: error %v, want one naming the key", c.key, err)
		}
	}
	for _, mode := range []string{StringsLimit, StringsKeep, StringsDrop} {
		cfg := DefaultConfig()
		cfg.StringFields, cfg.DropStringFields = mode, nil
		if err := cfg.Validate(); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
}

// FuzzParse_StringPolicy checks, for any body, that the string policy in
// mode limit (one value per metric, the tightest bound) only removes _info
// points: what it writes is the policy-free parse minus the points it
// counted as dropped, in the same order, and it tracks no more than its
// bound. Seeds: testdata/*.lp and testdata/strings/*.lp.
func FuzzParse_StringPolicy(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "strings", "*.lp"))
	more, err2 := filepath.Glob(filepath.Join("testdata", "*.lp"))
	if err != nil || err2 != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata/strings: %v %v", err, err2)
	}
	for _, s := range append(seeds, more...) {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "system_uptime_format")
	}
	f.Fuzz(func(t *testing.T, body []byte, drop string) {
		if len(body) > maxFuzzBody {
			return
		}
		cfg := DefaultConfig()
		cfg.StringFieldValues, cfg.StringFieldSeries, cfg.DropStringFields = 1, 8, []string{drop}
		base := ParseOptions{DB: "x", Now: time.Unix(1700000000, 0)}
		all, _ := Parse(body, base)
		withOpts := base
		withOpts.Strings = NewStringPolicy(cfg)
		p := NewParser(body, withOpts)
		var got []string // formatted at once: a batch's labels are reused
		for b := p.Next(7); b != nil; b = p.Next(7) {
			got = append(got, formatAll(b)...)
		}
		dropped := 0
		p.StringsDropped(func(_ string, n int) { dropped += n })
		if len(got)+dropped != len(all) {
			t.Fatalf("%d written + %d dropped != %d without the policy", len(got), dropped, len(all))
		}
		i := 0
		for _, pt := range all {
			if i < len(got) && got[i] == fmtPoint(pt) {
				i++
				continue
			}
			if !strings.HasSuffix(pt.Labels.Get(tsdb.MetricName), "_info") {
				t.Fatalf("policy dropped a non-string point %s", fmtPoint(pt))
			}
		}
		if i != len(got) {
			t.Fatalf("policy wrote points the plain parse has not, or out of order")
		}
		if n := withOpts.Strings.Tracked(); n > cfg.StringFieldSeries {
			t.Fatalf("tracking %d, bound %d", n, cfg.StringFieldSeries)
		}
	})
}
