package pages

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxPoints is the most points a chart asks for per series: the step of a
// range query is the range divided by it, rounded up to a round step.
const MaxPoints = 1000

// Range is a page's time range and refresh, as its URL gives them.
type Range struct {
	From, To       string        // as written in the URL (now-1h, now, ...)
	Start, End     time.Time     // resolved against the request's clock
	Step           time.Duration // for range queries: ≤ MaxPoints points
	Refresh        time.Duration // 0: no automatic reload
	RefreshText    string        // as written in the URL
	DefaultFromSet bool          // From was not in the URL
}

// Default range of a page.
const (
	defaultFrom = "now-1h"
	defaultTo   = "now"
)

// rangeChoices are the ranges the picker offers; any other can be typed.
var rangeChoices = []string{"now-15m", "now-1h", "now-6h", "now-24h", "now-7d", "now-30d"}

// refreshChoices are the auto-refresh periods the picker offers.
var refreshChoices = []string{"", "10s", "30s", "1m", "5m"}

// minRefresh is the shortest automatic reload a URL may ask for.
const minRefresh = 5 * time.Second

// parseRange reads from, to and refresh from q, resolving times against
// now. Errors name the parameter.
func parseRange(q url.Values, now time.Time) (Range, error) {
	r := Range{From: q.Get("from"), To: q.Get("to"), RefreshText: q.Get("refresh")}
	if r.From == "" {
		r.From, r.DefaultFromSet = defaultFrom, true
	}
	if r.To == "" {
		r.To = defaultTo
	}
	var err error
	if r.Start, err = parseTime(r.From, now); err != nil {
		return r, fmt.Errorf("from: %w", err)
	}
	if r.End, err = parseTime(r.To, now); err != nil {
		return r, fmt.Errorf("to: %w", err)
	}
	if !r.Start.Before(r.End) {
		return r, fmt.Errorf("from: %s is not before to (%s)", r.From, r.To)
	}
	if r.RefreshText != "" {
		d, err := time.ParseDuration(r.RefreshText)
		if err != nil {
			return r, fmt.Errorf("refresh: %q is not a duration such as 30s or 1m", r.RefreshText)
		}
		r.Refresh = max(d, minRefresh)
	}
	r.Step = stepFor(r.End.Sub(r.Start), MaxPoints)
	return r, nil
}

// parseTime reads now, now-DURATION (with d and w units as well as Go's),
// RFC 3339, or Unix seconds.
func parseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now-"):
		d, err := parseDuration(s[len("now-"):])
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %w", s, err)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("%q is not now, now-DURATION, an RFC 3339 time or Unix seconds", s)
}

// parseDuration is time.ParseDuration with d (days) and w (weeks) as well,
// as in 7d or 2w.
func parseDuration(s string) (time.Duration, error) {
	for _, u := range []struct {
		suffix string
		d      time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 || v > 3660 {
				return 0, fmt.Errorf("%q is not a duration such as 1h or 7d", s)
			}
			return time.Duration(v * float64(u.d)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 1h or 7d", s)
	}
	return d, nil
}

// roundSteps are the steps a chart uses, so that points line up from one
// refresh to the next.
var roundSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// stepFor returns the smallest round step that covers span in at most
// points steps, and at least 10 s (a common collection interval: a smaller
// step draws the same samples several times).
func stepFor(span time.Duration, points int) time.Duration {
	want := max(span/time.Duration(points), 10*time.Second)
	for _, s := range roundSteps {
		if s >= want {
			return s
		}
	}
	return (want + 24*time.Hour - 1) / (24 * time.Hour) * (24 * time.Hour)
}

// query returns the URL parameters that carry the range to another page.
func (r Range) query() url.Values {
	v := url.Values{}
	if !r.DefaultFromSet || r.From != defaultFrom {
		v.Set("from", r.From)
	}
	if r.To != defaultTo {
		v.Set("to", r.To)
	}
	if r.RefreshText != "" {
		v.Set("refresh", r.RefreshText)
	}
	return v
}

// Link returns path with the range's parameters and extra ones (name,
// value pairs) appended, for links between pages.
func (r Range) Link(path string, extra ...string) string {
	v := r.query()
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// alignedGrid returns start and end rounded to step, so that a refreshed
// chart asks for the same points (and a result cache could reuse them).
func (r Range) alignedGrid() (time.Time, time.Time) {
	return r.Start.Truncate(r.Step), r.End.Truncate(r.Step)
}
