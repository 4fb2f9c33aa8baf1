package main

// How `outpost query` prints the API's answer: a table for a vector, the
// points of each series for a matrix.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// apiSample is one [unix seconds, "value"] pair of the API.
type apiSample struct {
	t float64
	v string
}

func (s *apiSample) UnmarshalJSON(b []byte) error {
	var pair [2]json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if err := json.Unmarshal(pair[0], &s.t); err != nil {
		return fmt.Errorf("sample time: %w", err)
	}
	if err := json.Unmarshal(pair[1], &s.v); err != nil {
		return fmt.Errorf("sample value: %w", err)
	}
	return nil
}

// apiSeries is one series of a vector (Value) or a matrix (Values).
type apiSeries struct {
	Metric map[string]string `json:"metric"`
	Value  *apiSample        `json:"value"`
	Values []apiSample       `json:"values"`
}

// printResult prints the data of a query answer and returns how many
// series (or 1 for a scalar or a string) it held.
func printResult(w io.Writer, data json.RawMessage) (int, error) {
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return 0, fmt.Errorf("decode the answer: %w", err)
	}
	switch d.ResultType {
	case "scalar", "string":
		var s apiSample
		if err := json.Unmarshal(d.Result, &s); err != nil {
			return 0, fmt.Errorf("decode the %s: %w", d.ResultType, err)
		}
		fmt.Fprintln(w, s.v)
		return 1, nil
	case "vector", "matrix":
		var series []apiSeries
		if err := json.Unmarshal(d.Result, &series); err != nil {
			return 0, fmt.Errorf("decode the %s: %w", d.ResultType, err)
		}
		if d.ResultType == "vector" {
			return len(series), printVector(w, series)
		}
		return len(series), printMatrix(w, series)
	}
	return 0, fmt.Errorf("unknown result type %q", d.ResultType)
}

// printVector prints one row per series: its labels, its value. The
// answer's order is kept (sort() and topk() choose it).
func printVector(w io.Writer, series []apiSeries) error {
	if len(series) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tVALUE")
	for _, s := range series {
		v := ""
		if s.Value != nil {
			v = s.Value.v
		}
		fmt.Fprintf(tw, "%s\t%s\n", formatSeries(s.Metric), v)
	}
	return tw.Flush()
}

// printMatrix prints each series' labels, then its points one per line
// (time in UTC, value), with a blank line between series.
func printMatrix(w io.Writer, series []apiSeries) error {
	for i, s := range series {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, formatSeries(s.Metric))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, p := range s.Values {
			fmt.Fprintf(tw, "  %s\t%s\n", formatTime(p.t), p.v)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// formatSeries writes labels as name{a="x",b="y"}, label names sorted.
func formatSeries(m map[string]string) string {
	names := make([]string, 0, len(m))
	for k := range m {
		if k != "__name__" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString(m["__name__"])
	if len(names) == 0 && b.Len() > 0 {
		return b.String()
	}
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(m[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// formatTime writes the API's Unix seconds as RFC 3339 in UTC, with
// milliseconds only when there are some.
func formatTime(sec float64) string {
	t := time.UnixMilli(int64(math.Round(sec * 1000))).UTC()
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}
