package influx

import (
	"hash/maphash"
	"sync"
	"time"

	"outpost/tsdb"
)

// The string-field modes of influx.string_fields (see doc.go).
const (
	// StringsLimit keeps a string field's _info series while its metric
	// has few distinct values, and drops the values past the bound.
	StringsLimit = "limit"
	// StringsKeep makes every distinct string a series, as before the
	// policy existed.
	StringsKeep = "keep"
	// StringsDrop makes no _info series at all: every string field that
	// is not a number or a boolean is dropped and counted.
	StringsDrop = "drop"
)

// Defaults of the string-field keys.
const (
	DefaultStringFields      = StringsLimit
	DefaultStringFieldValues = 10
	DefaultStringFieldWindow = 24 * time.Hour
	DefaultStringFieldSeries = 100_000
)

// DefaultDropStringFields is the default of influx.drop_string_fields:
// the metric names (measurement_field, without _info) of Telegraf strings
// known to change with every report. system's uptime_format ("3 days,
// 4:05") is the one in the captured Telegraf traffic; it changes every
// minute.
func DefaultDropStringFields() []string { return []string{"system_uptime_format"} }

// Rejection reasons of string fields (samples:<reason> in the counts).
const (
	reasonStringDropped   = "string_field_dropped"   // drop list, or mode drop
	reasonStringVolatile  = "string_field_volatile"  // a new value past the bound
	reasonStringUntracked = "string_field_untracked" // the tracker is full
)

// StringPolicy decides which string fields become _info series
// (influx.string_fields and its companions). It is shared by every request
// of a Handler (and may be shared with the UDP listener) and is safe for
// concurrent use.
//
// In mode limit it tracks, per _info metric and tag set (its labels but
// value), the distinct strings last seen, at most Values of them. A string
// already tracked is always kept. A new one is kept while fewer than
// Values are tracked, or in place of one not seen for Window; otherwise it
// is dropped and the metric is volatile: it takes no new string until a
// whole Window passes without a drop. So a string that changes every
// minute makes Values series and then none, while a version that changes
// now and then, or a state among a few values, keeps its series.
//
// Memory is bounded: at most Series metrics are tracked, 70 bytes each
// with one string, about 300 with ten. When the tracker is full, metrics not
// seen for Window are forgotten; if none is, strings of metrics not yet
// tracked are dropped (counted as string_field_untracked). The tracker
// lives in memory only: after a restart each metric may make up to Values
// new series once more before it is found volatile again.
type StringPolicy struct {
	mode   string
	drop   map[string]struct{}
	values int
	window int64 // ms
	series int
	seed   maphash.Seed

	mu        sync.Mutex
	metrics   map[uint64]*stringMetric // by hash of the labels but value
	lastSweep int64                    // ms
}

// stringMetric is what the policy remembers of one _info metric and tag set.
type stringMetric struct {
	seen    []stringSeen
	refused int64 // ms of the last drop; 0 for none
}

// stringSeen is one tracked string: its hash and when it was last seen.
type stringSeen struct {
	h    uint64
	last int64 // ms
}

// NewStringPolicy returns the policy cfg describes. cfg is expected to
// have passed Validate; values out of range fall back to the defaults.
func NewStringPolicy(cfg Config) *StringPolicy {
	sp := &StringPolicy{
		mode: cfg.StringFields, values: cfg.StringFieldValues, window: cfg.StringFieldWindow.Milliseconds(),
		series: cfg.StringFieldSeries, seed: maphash.MakeSeed(), metrics: make(map[uint64]*stringMetric),
		drop: make(map[string]struct{}, len(cfg.DropStringFields)),
	}
	switch sp.mode {
	case StringsLimit, StringsKeep, StringsDrop:
	default:
		sp.mode = DefaultStringFields
	}
	if sp.values <= 0 {
		sp.values = DefaultStringFieldValues
	}
	if sp.window <= 0 {
		sp.window = DefaultStringFieldWindow.Milliseconds()
	}
	if sp.series <= 0 {
		sp.series = DefaultStringFieldSeries
	}
	for _, n := range cfg.DropStringFields {
		sp.drop[n] = struct{}{}
	}
	return sp
}

// dropped reports whether the string field of metric name (measurement_
// field, without _info) is dropped whatever its value: by the drop list,
// or because the mode is drop.
func (sp *StringPolicy) dropped(name []byte) bool {
	if sp.mode == StringsDrop {
		return true
	}
	_, ok := sp.drop[string(name)]
	return ok
}

// admit reports whether string value s of the _info series whose labels
// but value are ls (the metric name replaced by name) may be written at
// now (ms); when not, it returns the reason.
func (sp *StringPolicy) admit(ls []tsdb.Label, namePos int, name, s string, now int64) (bool, string) {
	if sp.mode != StringsLimit {
		return true, ""
	}
	var h maphash.Hash
	h.SetSeed(sp.seed)
	for i, l := range ls {
		if l.Name == labelValue {
			continue // replaced by the string
		}
		v := l.Value
		if i == namePos {
			v = name
		}
		h.WriteString(l.Name)
		h.WriteByte(0)
		h.WriteString(v)
		h.WriteByte(0)
	}
	key, vh := h.Sum64(), maphash.String(sp.seed, s)

	sp.mu.Lock()
	defer sp.mu.Unlock()
	m := sp.metrics[key]
	if m == nil {
		if len(sp.metrics) >= sp.series && !sp.sweep(now) {
			return false, reasonStringUntracked
		}
		m = &stringMetric{seen: make([]stringSeen, 0, 1)}
		sp.metrics[key] = m
	}
	return m.admit(vh, now, sp.values, sp.window)
}

// admit is StringPolicy.admit for one metric.
func (m *stringMetric) admit(vh uint64, now int64, values int, window int64) (bool, string) {
	oldest := -1
	for i := range m.seen {
		if m.seen[i].h == vh {
			m.seen[i].last = max(m.seen[i].last, now)
			return true, ""
		}
		if oldest < 0 || m.seen[i].last < m.seen[oldest].last {
			oldest = i
		}
	}
	if m.refused == 0 || now-m.refused >= window {
		switch {
		case len(m.seen) < values:
			m.seen = append(m.seen, stringSeen{vh, now})
			return true, ""
		case oldest >= 0 && now-m.seen[oldest].last >= window:
			m.seen[oldest] = stringSeen{vh, now}
			return true, ""
		}
	}
	m.refused = now
	return false, reasonStringVolatile
}

// sweep forgets the metrics not seen (nor refused) for a window, at most
// once a minute, and reports whether there is room for one more. sp.mu is
// held.
func (sp *StringPolicy) sweep(now int64) bool {
	if now-sp.lastSweep >= time.Minute.Milliseconds() {
		sp.lastSweep = now
		for k, m := range sp.metrics {
			last := m.refused
			for _, s := range m.seen {
				last = max(last, s.last)
			}
			if now-last >= sp.window {
				delete(sp.metrics, k)
			}
		}
	}
	return len(sp.metrics) < sp.series
}

// Tracked returns how many metrics the policy tracks (for tests and
// metrics).
func (sp *StringPolicy) Tracked() int {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return len(sp.metrics)
}
