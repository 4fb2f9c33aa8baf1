package promrw

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"outpost/tsdb"
)

// MaxLabels is the most labels one series may have; a series with more is
// rejected (Prometheus sets no limit, VictoriaMetrics drops labels past 30
// by default; 256 keeps every real series and bounds what one costs).
const MaxLabels = 256

// maxSeriesText is how much of a series' labels an error message quotes.
const maxSeriesText = 512

// Errors that reject one series: its samples are dropped and the others
// are written; the answer is 400 naming the first one.
var (
	// ErrInvalidLabels means a label set the store cannot hold: no metric
	// name, an empty or malformed label name, a name given twice, or more
	// than MaxLabels labels.
	ErrInvalidLabels = errors.New("invalid labels")
	// ErrHistogram means native histogram samples, which outpost does not
	// store (remote write 1.0 carries them as an extension).
	ErrHistogram = errors.New("native histograms are not supported")
)

// SeriesError names a series of a request that was rejected, and why.
type SeriesError struct {
	// Where locates the series: "series 3" (the 0-based index in a remote
	// write request) or "line 12" (the 1-based line of an import body).
	Where string
	// Labels are the series' labels as sent, cut to 512 bytes.
	Labels string
	// Err says what is wrong; it wraps ErrInvalidLabels or ErrHistogram.
	Err error
}

// Error implements error.
func (e *SeriesError) Error() string {
	return e.Where + " " + e.Labels + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *SeriesError) Unwrap() error { return e.Err }

// seriesError builds the SeriesError of the series with labels ls.
func seriesError(where string, ls tsdb.Labels, err error) *SeriesError {
	text := ls.String()
	if ls.Get(tsdb.MetricName) == "" {
		text = "(no metric name)" + text
	}
	if len(text) > maxSeriesText {
		n := maxSeriesText
		for n > 0 && text[n]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			n--
		}
		text = text[:n] + "..."
	}
	return &SeriesError{Where: where, Labels: text, Err: err}
}

// Normalize turns the labels of a series as sent into a valid tsdb.Labels,
// in place: labels with an empty value are dropped (Prometheus treats
// {a=""} as no label a), the rest are sorted by name when they are not
// already. It rejects, wrapping ErrInvalidLabels: an empty metric name, an
// empty label name, a name holding a control character, a name given
// twice, more than MaxLabels labels. Names are otherwise free UTF-8, as
// Prometheus 3 allows (OpenTelemetry names such as http.server.duration
// arrive that way from Grafana Alloy); the decoders have checked that
// every string is valid UTF-8.
func Normalize(ls tsdb.Labels) (tsdb.Labels, error) {
	out := ls[:0]
	for _, l := range ls {
		if l.Value != "" {
			out = append(out, l)
		}
	}
	if len(out) > MaxLabels {
		return out, fmt.Errorf("%w: %d labels, the limit is %d", ErrInvalidLabels, len(out), MaxLabels)
	}
	for _, l := range out {
		if err := checkName(l.Name); err != nil {
			return out, err
		}
	}
	if !slices.IsSortedFunc(out, compareNames) {
		slices.SortFunc(out, compareNames)
	}
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return out, fmt.Errorf("%w: label name %q given twice", ErrInvalidLabels, out[i].Name)
		}
	}
	if out.Get(tsdb.MetricName) == "" {
		return out, fmt.Errorf("%w: no metric name (label __name__ is missing or empty)", ErrInvalidLabels)
	}
	return out, nil
}

// checkName rejects a label name that is empty or holds a control
// character.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty label name", ErrInvalidLabels)
	}
	if i := strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 {
		return fmt.Errorf("%w: label name %q holds a control character", ErrInvalidLabels, name)
	}
	return nil
}

func compareNames(a, b tsdb.Label) int { return strings.Compare(a.Name, b.Name) }
