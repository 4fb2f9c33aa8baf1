package tsdb

import "context"

// Select returns the series matching every matcher that have samples in
// [mint, maxt] (milliseconds, inclusive), sorted by labels.
func (db *DB) Select(ctx context.Context, mint, maxt int64, ms ...*Matcher) (*SeriesSet, error) {
	return nil, errTODO
}

// LabelNames returns the sorted label names of the series matching ms with samples in [mint, maxt].
func (db *DB) LabelNames(ctx context.Context, mint, maxt int64, ms ...*Matcher) ([]string, error) {
	return nil, errTODO
}

// LabelValues returns the sorted values of label name among the series matching ms with samples in [mint, maxt].
func (db *DB) LabelValues(ctx context.Context, name string, mint, maxt int64, ms ...*Matcher) ([]string, error) {
	return nil, errTODO
}

// Series returns the label sets of the series matching ms with samples in [mint, maxt], sorted.
func (db *DB) Series(ctx context.Context, mint, maxt int64, ms ...*Matcher) ([]Labels, error) {
	return nil, errTODO
}

// SeriesSet iterates the series a Select found, in label order.
type SeriesSet struct {
	series []Series
	i      int
	err    error
}

// Next advances to the next series.
func (s *SeriesSet) Next() bool { s.i++; return s.i <= len(s.series) }

// At returns the current series. It stays valid after Next and may be read
// from another goroutine.
func (s *SeriesSet) At() Series { return s.series[s.i-1] }

// Err returns the error that stopped the iteration, if any.
func (s *SeriesSet) Err() error { return s.err }

// Len returns the number of series in the set.
func (s *SeriesSet) Len() int { return len(s.series) }

// Series is one selected series: its labels and its samples in the selected range.
type Series struct {
	Labels Labels
	src    seriesData
}

// Iterator returns a new iterator over the series' samples in time order,
// one sample per timestamp. Iterators of one Series are independent.
func (s Series) Iterator() *Iterator { return newIterator(s.src) }

// seriesData is what a Series reads its samples from.
type seriesData struct {
	mint, maxt int64
}

// Iterator walks samples in ascending time order.
type Iterator struct {
	t   int64
	v   float64
	err error
}

func newIterator(src seriesData) *Iterator { return &Iterator{} }

// Next moves to the next sample.
func (it *Iterator) Next() bool { return false }

// SeekTo moves to the first sample at or after t and reports whether there is one.
// It never moves backwards.
func (it *Iterator) SeekTo(t int64) bool { return false }

// At returns the current sample.
func (it *Iterator) At() (int64, float64) { return it.t, it.v }

// Err returns the first error met while decoding, if any.
func (it *Iterator) Err() error { return it.err }
