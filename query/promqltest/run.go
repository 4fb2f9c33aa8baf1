package promqltest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metricsql"

	"outpost/query"
	"outpost/tsdb"
)

// Outcome is how one case ended.
type Outcome int

// The outcomes of a case.
const (
	Passed   Outcome = iota
	Failed           // failed, and no flag explains it
	Diverged         // failed, flagged as a documented MetricsQL difference
	Skipped          // not run: native histograms, unparsable, bad case
)

// CaseFlags are a case's flags from cases.tsv.
type CaseFlags struct {
	NativeHistogram bool
	Flags           []string
}

// divergent reports whether the flags name a documented MetricsQL
// difference ("ordered" only says the order is checked).
func (f CaseFlags) divergent() bool {
	for _, fl := range f.Flags {
		if fl != "ordered" {
			return true
		}
	}
	return false
}

// Summary counts the outcomes of a run.
type Summary struct {
	Passed, Failed, Diverged, Skipped int
	UnflaggedTotal, UnflaggedPassed   int
	DivergedByFlag                    map[string]int
}

// Add adds o's counts to s.
func (s *Summary) Add(o Summary) {
	s.Passed += o.Passed
	s.Failed += o.Failed
	s.Diverged += o.Diverged
	s.Skipped += o.Skipped
	s.UnflaggedTotal += o.UnflaggedTotal
	s.UnflaggedPassed += o.UnflaggedPassed
	for k, v := range o.DivergedByFlag {
		if s.DivergedByFlag == nil {
			s.DivergedByFlag = map[string]int{}
		}
		s.DivergedByFlag[k] += v
	}
}

// WriteTotals writes the closing lines, the last exactly
// "N passed, M failed, K skipped" (M counts every failure, explained or not).
func (s Summary) WriteTotals(w io.Writer) {
	if s.UnflaggedTotal > 0 {
		fmt.Fprintf(w, "unflagged cases: %d/%d passed (%.1f%%)\n", s.UnflaggedPassed, s.UnflaggedTotal, 100*float64(s.UnflaggedPassed)/float64(s.UnflaggedTotal))
	}
	if s.Diverged > 0 {
		var fl []string
		for k, v := range s.DivergedByFlag {
			fl = append(fl, fmt.Sprintf("%s=%d", k, v))
		}
		sort.Strings(fl)
		fmt.Fprintf(w, "failed as documented MetricsQL differences: %d (flags: %s)\n", s.Diverged, strings.Join(fl, " "))
	}
	fmt.Fprintf(w, "unexplained failures: %d\n", s.Failed)
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.Passed, s.Failed+s.Diverged, s.Skipped)
}

// Runner runs scripts against the engine over a real store.
type Runner struct {
	// Flags are the cases.tsv flags by "file:line"; nil when there is none.
	Flags map[string]CaseFlags
	// Out receives one line per case.
	Out io.Writer
	// TempDir is where stores are created; "" means os.TempDir().
	TempDir string
}

// LoadFlags reads cases.tsv from dir, if there is one.
func LoadFlags(dir string) (map[string]CaseFlags, error) {
	f, err := os.Open(filepath.Join(dir, "cases.tsv"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]CaseFlags{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) < 8 || p[0] == "file" {
			continue
		}
		cf := CaseFlags{NativeHistogram: p[5] == "yes"}
		if p[6] != "" {
			cf.Flags = strings.Split(p[6], ",")
		}
		out[p[0]+":"+p[1]] = cf
	}
	return out, sc.Err()
}

// RunDir runs every *.test file of dir.
func (r *Runner) RunDir(ctx context.Context, dir string) (Summary, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.test"))
	if err != nil {
		return Summary{}, err
	}
	sort.Strings(files)
	var total Summary
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return total, err
		}
		s, err := r.RunFile(ctx, filepath.Base(f), string(b))
		if err != nil {
			return total, fmt.Errorf("%s: %w", f, err)
		}
		total.Add(s)
	}
	return total, nil
}

// env is the store and engine a script runs against.
type env struct {
	dir string
	db  *tsdb.DB
	e   *query.Engine
	// histSeries are label sets loaded with native-histogram samples.
	histSeries map[string]bool
}

func (r *Runner) newEnv() (*env, error) {
	dir, err := os.MkdirTemp(r.TempDir, "promqltest-")
	if err != nil {
		return nil, err
	}
	cfg := tsdb.DefaultConfig()
	cfg.Path = dir
	cfg.Retention = 100 * 365 * 24 * time.Hour
	cfg.MaxFuture = 100 * 365 * 24 * time.Hour
	now := time.Unix(0, 0).Add(24 * time.Hour)
	db, err := tsdb.Open(cfg, tsdb.Options{Now: func() time.Time { return now }})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e := query.NewEngine(db, query.Options{Now: func() time.Time { return now }, Timeout: time.Minute})
	return &env{dir: dir, db: db, e: e, histSeries: map[string]bool{}}, nil
}

func (v *env) close() {
	if v == nil {
		return
	}
	v.db.Close()
	os.RemoveAll(v.dir)
}

// RunFile runs one script; name is its file name, used for flags.
func (r *Runner) RunFile(ctx context.Context, name, text string) (Summary, error) {
	cmds, err := Parse(text)
	if err != nil {
		return Summary{}, err
	}
	ev, err := r.newEnv()
	if err != nil {
		return Summary{}, err
	}
	defer func() { ev.close() }()
	var s Summary
	for _, c := range cmds {
		switch c := c.(type) {
		case *Clear:
			ev.close()
			if ev, err = r.newEnv(); err != nil {
				return s, err
			}
		case *Load:
			if err := ev.load(ctx, c); err != nil {
				return s, fmt.Errorf("line %d: %w", c.Line, err)
			}
		case *Eval:
			key := name + ":" + strconv.Itoa(c.Line)
			flags, known := r.Flags[key]
			out, reason := r.runEval(ctx, ev, c, flags, known)
			r.record(&s, out, flags, key, c.Expr, reason)
		}
	}
	return s, nil
}

func (r *Runner) record(s *Summary, out Outcome, flags CaseFlags, key, expr, reason string) {
	unflagged := len(flags.Flags) == 0 && out != Skipped
	if unflagged {
		s.UnflaggedTotal++
	}
	word := "PASS"
	switch out {
	case Passed:
		s.Passed++
		if unflagged {
			s.UnflaggedPassed++
		}
	case Failed:
		s.Failed++
		word = "FAIL"
	case Diverged:
		s.Diverged++
		word = "DIFF"
		if s.DivergedByFlag == nil {
			s.DivergedByFlag = map[string]int{}
		}
		for _, f := range flags.Flags {
			s.DivergedByFlag[f]++
		}
		reason = "[" + strings.Join(flags.Flags, ",") + "] " + reason
	case Skipped:
		s.Skipped++
		word = "SKIP"
	}
	if r.Out != nil {
		if reason != "" {
			reason = ": " + reason
		}
		fmt.Fprintf(r.Out, "%s %s %s%s\n", word, key, expr, reason)
	}
}

// load writes a load block's series.
func (v *env) load(ctx context.Context, c *Load) error {
	var pts []tsdb.Point
	for _, sl := range c.Series {
		if sl.Histogram {
			v.histSeries[sl.Labels.String()] = true
			continue
		}
		for i, val := range sl.Values {
			if val.Omitted {
				continue
			}
			pts = append(pts, tsdb.Point{Labels: sl.Labels, T: int64(i) * c.Interval, V: val.V})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	return v.db.Write(ctx, pts)
}

// runEval runs one case and tells how it went and why.
func (r *Runner) runEval(ctx context.Context, v *env, c *Eval, flags CaseFlags, known bool) (Outcome, string) {
	switch {
	case c.ParseErr != nil:
		return Skipped, "case not understood: " + c.ParseErr.Error()
	case flags.NativeHistogram || c.Histogram:
		return Skipped, "native histograms"
	}
	if _, err := metricsql.Parse(c.Expr); err != nil {
		return Skipped, "metricsql cannot parse: " + err.Error()
	}
	if !known && r.Flags != nil {
		return Skipped, "not listed in cases.tsv (a native-histogram case)"
	}
	if !known && selectsHistogram(c.Expr, v.histSeries) {
		return Skipped, "native histograms"
	}
	res, err := evalCase(ctx, v.e, c)
	ok, reason := check(c, res, err)
	switch {
	case ok:
		return Passed, ""
	case flags.divergent():
		return Diverged, reason
	}
	return Failed, reason
}

// selectsHistogram reports whether expr names a metric that was loaded
// with native-histogram samples (a coarse check for unlisted cases).
func selectsHistogram(expr string, hist map[string]bool) bool {
	for k := range hist {
		name := k[:strings.IndexByte(k, '{')]
		if name != "" && strings.Contains(expr, name) {
			return true
		}
	}
	return false
}

func evalCase(ctx context.Context, e *query.Engine, c *Eval) (query.Value, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if c.Instant {
		return e.Instant(ctx, c.Expr, time.UnixMilli(c.At))
	}
	return e.Range(ctx, c.Expr, time.UnixMilli(c.Start), time.UnixMilli(c.End), time.Duration(c.Step)*time.Millisecond)
}

// almostEqual is Prometheus' test comparison with epsilon 1e-6.
func almostEqual(a, b float64) bool {
	if math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	if a == b {
		return true
	}
	diff := math.Abs(a - b)
	if a == 0 || b == 0 || math.Abs(a)+math.Abs(b) < 2.2250738585072014e-308 {
		return diff < 1e-6*2.2250738585072014e-308
	}
	return diff/math.Min(math.Abs(a)+math.Abs(b), math.MaxFloat64) < 1e-6
}
