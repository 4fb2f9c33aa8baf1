package query

// TestEngine_VMDiff is the differential test against VictoriaMetrics, the
// reference implementation of MetricsQL: the same data (vmdiff_data_test.go)
// is written to a real tsdb.DB and to Debian's victoria-metrics (started by
// the test, vmdiff_vm_test.go), and every query of vdQueries
// (vmdiff_queries_test.go) is evaluated on both, instant at several times
// and over several ranges. Results must have the same label sets and values
// equal within 1e-9 relative (NaN equals NaN). A query marked with a
// difference documents, in doc.go's "MetricsQL, not PromQL" section, why
// VictoriaMetrics 1.79.5 answers otherwise; the mark says what is still
// compared.
//
//	go test -run TestEngine_VMDiff -v ./query/

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// vdInstants are the instant query times: inside the data, in a gap, just
// after a staleness marker, at and after the end, in late data.
var vdInstants = []time.Duration{
	time.Hour + 7*time.Second,
	80 * time.Minute,
	2*time.Hour + 10*time.Second,
	165 * time.Minute,
	212 * time.Minute,
	4 * time.Hour,
	4*time.Hour + 4*time.Minute,
}

// vdRange is one range query's grid, relative to vdStart.
type vdRange struct{ start, end, step time.Duration }

// vdRanges are the range query grids: the whole data at 1m, a part at 5m,
// and an unaligned start with a step that is no multiple of the interval.
var vdRanges = []vdRange{
	{0, 4*time.Hour + 10*time.Minute, time.Minute},
	{30 * time.Minute, 4 * time.Hour, 5 * time.Minute},
	{50*time.Minute + 11*time.Second, 3*time.Hour + 7*time.Minute, 97 * time.Second},
}

// TestEngine_VMDiff compares the engine's answers with VictoriaMetrics'.
func TestEngine_VMDiff(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against VictoriaMetrics skipped in -short mode")
	}
	vm := startVM(t)
	early, late := vdData()
	db := openTestDB(t, vdEnd.Add(time.Hour))
	writePoints(t, db, vdPoints(early))
	writePoints(t, db, vdPoints(late[1:])) // out of order, into an open head epoch
	if err := db.Flush(t.Context()); err != nil {
		t.Fatalf("flush: %v", err)
	}
	writePoints(t, db, vdPoints(late[:1])) // into an epoch already in a partition
	vm.write(t, early)
	vm.flush(t)
	vm.write(t, late)
	vm.flush(t)
	e := NewEngine(db, Options{})

	var compared, marked int
	for _, q := range vdQueries {
		t.Run(q.q, func(t *testing.T) {
			n, diffs := vdCompareQuery(t, e, vm, q.q)
			compared += n
			if q.diff != "" {
				marked++
				vdCheckMarked(t, q, diffs)
				return
			}
			for i, d := range diffs {
				if i == 5 {
					t.Errorf("... and %d more differences", len(diffs)-5)
					break
				}
				t.Error(d)
			}
		})
	}
	t.Logf("%d queries (%d marked with a documented difference), %d evaluations compared", len(vdQueries), marked, compared)
	if len(vdQueries) < 150 {
		t.Errorf("only %d queries; the differential test needs at least 150", len(vdQueries))
	}
}

// vdDiff is one difference between the two answers.
type vdDiff struct {
	kind string // "error", "series", "value"
	msg  string
}

func (d vdDiff) String() string { return d.msg }

// vdCheckMarked checks a query marked with a documented difference: the
// differences must be of the kinds the mark allows.
func vdCheckMarked(t *testing.T, q vdQuery, diffs []vdDiff) {
	t.Helper()
	allowed := map[string]bool{}
	switch q.scope {
	case vdValues:
		allowed["value"] = true
	case vdSeriesSet:
		allowed["value"], allowed["series"] = true, true
	case vdUnsupported:
		allowed["error"] = true
	}
	for _, d := range diffs {
		if !allowed[d.kind] {
			t.Errorf("%s (not covered by the mark %q)", d, q.diff)
		}
	}
	if len(diffs) == 0 {
		t.Logf("marked %q but no difference seen", q.diff)
	}
}

// vdCompareQuery evaluates q on both sides at every instant and range and
// returns the number of evaluations and the differences.
func vdCompareQuery(t *testing.T, e *Engine, vm *vmServer, q string) (int, []vdDiff) {
	var diffs []vdDiff
	n := 0
	for _, d := range vdInstants {
		at := vdStart.Add(d)
		what := fmt.Sprintf("instant at +%s", d)
		ours, oerr := e.Instant(t.Context(), q, at)
		theirs, verr := vm.query(t, "query", url.Values{"query": {q}, "time": {strconv.FormatInt(at.Unix(), 10)}})
		diffs = append(diffs, vdCompare(what, ours, oerr, theirs, verr)...)
		n++
	}
	for _, r := range vdRanges {
		start, end := vdStart.Add(r.start), vdStart.Add(r.end)
		what := fmt.Sprintf("range +%s..+%s step %s", r.start, r.end, r.step)
		ours, oerr := e.Range(t.Context(), q, start, end, r.step)
		theirs, verr := vm.query(t, "query_range", url.Values{"query": {q},
			"start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)},
			"step": {strconv.FormatFloat(r.step.Seconds(), 'f', -1, 64)}})
		diffs = append(diffs, vdCompare(what, ours, oerr, theirs, verr)...)
		n++
	}
	return n, diffs
}

// vdCompare compares one evaluation.
func vdCompare(what string, ours Value, oerr error, theirs vmResult, verr error) []vdDiff {
	if oerr != nil || verr != nil {
		if oerr != nil && verr != nil {
			return nil // both refuse
		}
		return []vdDiff{{"error", fmt.Sprintf("%s: outpost error %v, victoria-metrics error %v", what, oerr, verr)}}
	}
	mine := vdOurs(ours)
	var diffs []vdDiff
	keys := make([]string, 0, len(theirs))
	for k := range theirs {
		keys = append(keys, k)
	}
	for k := range mine {
		if theirs[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		a, b := mine[k], theirs[k]
		switch {
		case a == nil:
			diffs = append(diffs, vdDiff{"series", fmt.Sprintf("%s: %s only in victoria-metrics (%s)", what, k, vdSummary(b))})
			continue
		case b == nil:
			diffs = append(diffs, vdDiff{"series", fmt.Sprintf("%s: %s only in outpost (%s)", what, k, vdSummary(a))})
			continue
		}
		diffs = append(diffs, vdComparePoints(what+" "+k, a, b)...)
	}
	return diffs
}

// vdComparePoints compares the points of one series.
func vdComparePoints(what string, a, b map[int64]float64) []vdDiff {
	var bad []string
	ts := make([]int64, 0, len(a)+len(b))
	for t := range a {
		ts = append(ts, t)
	}
	for t := range b {
		if _, ok := a[t]; !ok {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	for _, t := range ts {
		va, oka := a[t]
		vb, okb := b[t]
		if oka && okb && vdClose(va, vb) {
			continue
		}
		at := time.UnixMilli(t).Sub(vdStart).String()
		switch {
		case !oka:
			bad = append(bad, fmt.Sprintf("+%s vm=%v ours=none", at, vb))
		case !okb:
			bad = append(bad, fmt.Sprintf("+%s vm=none ours=%v", at, va))
		default:
			bad = append(bad, fmt.Sprintf("+%s vm=%v ours=%v", at, vb, va))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if len(bad) > 4 {
		bad = append(bad[:4], fmt.Sprintf("... %d points in all", len(bad)))
	}
	return []vdDiff{{"value", fmt.Sprintf("%s: %s", what, strings.Join(bad, ", "))}}
}

// vdClose reports whether a and b are equal within 1e-9 relative, or
// 1e-12 absolute for results that cancel to about zero; NaN equals NaN.
func vdClose(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b {
		return true
	}
	d := math.Abs(a - b)
	return d <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) || d <= 1e-12
}

// vdOurs converts an engine result to the comparable form.
func vdOurs(v Value) vmResult {
	res := vmResult{}
	switch v := v.(type) {
	case Scalar:
		res["{}"] = map[int64]float64{v.T: v.V}
	case Vector:
		for _, s := range v {
			res[s.Labels.String()] = map[int64]float64{s.T: s.V}
		}
	case Matrix:
		for _, s := range v {
			m := make(map[int64]float64, len(s.Points))
			for _, p := range s.Points {
				m[p.T] = p.V
			}
			res[s.Labels.String()] = m
		}
	}
	return res
}

// vdSummary summarises a series' points for a message.
func vdSummary(m map[int64]float64) string {
	ts := make([]int64, 0, len(m))
	for t := range m {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	var b strings.Builder
	for i, t := range ts {
		if i == 3 {
			fmt.Fprintf(&b, " ... %d points", len(ts))
			break
		}
		fmt.Fprintf(&b, "+%s=%v ", time.UnixMilli(t).Sub(vdStart), m[t])
	}
	return strings.TrimSpace(b.String())
}
