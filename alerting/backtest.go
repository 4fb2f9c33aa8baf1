package alerting

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"outpost/alerting/rulefile"
)

// A backtest (POST /api/v1/alerting/test) runs one rule group over stored
// history as it would have run live: a scratch Manager (alerting.db in a
// temporary directory, this Manager's routes, receivers and silences)
// evaluates the group at each of its steps from start to end, querying
// the real store at those past times, on a clock that follows the steps.
// Its dispatcher is stepped by hand: each aggregation group flushes when
// its group_wait or group_interval comes due, and the notifications it
// makes are taken from its outbox, never delivered. Nothing of the
// backtest is written to the store or to this Manager's alerting.db.

// Bounds of a backtest.
const (
	// MaxBacktestSteps bounds the evaluations of one backtest.
	MaxBacktestSteps = 100_000
	// maxBacktestItems bounds the timeline entries and per-series
	// notifications a result lists; the totals count them all.
	maxBacktestItems = 200_000
)

// ErrBacktestTooLong: the time range holds more steps than
// MaxBacktestSteps.
var ErrBacktestTooLong = errors.New("backtest too long")

// stepClock is a backtest's clock: the time of the step or flush being
// run.
type stepClock struct{ ns atomic.Int64 }

func (c *stepClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *stepClock) now() time.Time  { return time.Unix(0, c.ns.Load()).UTC() }

// Backtest evaluates the rule group g (from ParseGroup; file is its rule
// file) over [start, end] at the group's interval and returns its state
// timeline and the notifications it would have sent. Start is rounded up
// to a multiple of the interval. ctx bounds the run.
func (m *Manager) Backtest(ctx context.Context, g *rulefile.Group, file []byte, start, end time.Time) (*BacktestResult, error) {
	step := g.Interval
	if step <= 0 {
		step = m.cfg.EvaluationInterval
	}
	if t := start.Truncate(step); t.Before(start) {
		start = t.Add(step)
	}
	steps := int64(0)
	if !end.Before(start) {
		steps = int64(end.Sub(start)/step) + 1
	}
	if steps > MaxBacktestSteps {
		return nil, fmt.Errorf("%w: %s to %s at the group's interval %s is %d evaluations, over the limit of %d: shorten the range or lengthen the interval",
			ErrBacktestTooLong, start.Format(time.RFC3339), end.Format(time.RFC3339), rulefile.FormatDuration(step), steps, MaxBacktestSteps)
	}
	dir, err := os.MkdirTemp("", "outpost-backtest-")
	if err != nil {
		return nil, fmt.Errorf("backtest: make a scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	sm, clk, err := m.openScratch(dir, file, start)
	if err != nil {
		return nil, err
	}
	defer sm.Close()
	run := newBacktestRun(sm, clk, step, start, end)
	run.res.Group = g.Name
	if err := run.loop(ctx); err != nil {
		return nil, err
	}
	if err := run.drain(end); err != nil {
		return nil, err
	}
	run.finish()
	return run.res, nil
}

// openScratch opens the backtest's Manager in dir, its clock at start:
// the group's file as its only rules, this Manager's configuration
// otherwise, its silences copied, nothing written to the store, nothing
// delivered, no logs. It is never Run: its notifier delivers nothing and
// its remediator runs no command (the jobs it is given wait in its queue
// and go with it).
func (m *Manager) openScratch(dir string, file []byte, start time.Time) (*Manager, *stepClock, error) {
	path := filepath.Join(dir, "group.yml")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		return nil, nil, fmt.Errorf("backtest: write the group: %w", err)
	}
	cfg := m.cfg
	cfg.Rules, cfg.Defaults = []string{path}, false
	clk := &stepClock{}
	clk.set(start)
	sm, err := Open(cfg, Options{
		Dir: dir, Query: m.opts.Query, Now: clk.now, Hostname: m.opts.Hostname, Version: m.opts.Version,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("backtest: open a scratch manager: %w", err)
	}
	// Scratch state: a crash loses nothing worth a sync.
	sm.db.NoSync = true
	if err := sm.notifier.Silences().CopySilences(m.notifier.Silences().List()); err != nil {
		sm.Close()
		return nil, nil, fmt.Errorf("backtest: copy the silences: %w", err)
	}
	return sm, clk, nil
}

// drainEvery is how many steps a backtest runs between two reads of the
// scratch history, which it then prunes: memory and the scratch file stay
// bounded whatever the range.
const drainEvery = 1000

// backtestRun is one backtest under way. Its result is built as it goes:
// the scratch history is read (and pruned) before each batch of
// notifications is classified and every drainEvery steps, so the
// classification of a notification sees every change of state before it.
type backtestRun struct {
	m          *Manager
	clk        *stepClock
	step       time.Duration
	start, end time.Time
	res        *BacktestResult
	errored    map[string]bool // rules with an error in res.Errors

	byFP  map[string]*BacktestSeries // by fingerprint, every series seen
	fired map[string]time.Time       // by fingerprint: its last change to firing
	// last is, by series, severity, receiver and integration, the time of
	// the last notification that told it firing.
	last  map[string]time.Time
	items int // timeline entries and series notifications listed
}

// newBacktestRun starts a backtest's bookkeeping.
func newBacktestRun(m *Manager, clk *stepClock, step time.Duration, start, end time.Time) *backtestRun {
	return &backtestRun{m: m, clk: clk, step: step, start: start, end: end, errored: map[string]bool{},
		byFP: map[string]*BacktestSeries{}, fired: map[string]time.Time{}, last: map[string]time.Time{},
		res: &BacktestResult{Start: start, End: end, Step: rulefile.FormatDuration(step), Errors: []BacktestError{},
			Notifications: []BacktestNotification{}}}
}

// loop evaluates every step and flushes the dispatcher's groups as their
// timers come due between steps.
func (r *backtestRun) loop(ctx context.Context) error {
	for ts := r.start; !ts.After(r.end); ts = ts.Add(r.step) {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("backtest stopped at %s: %w", ts.Format(time.RFC3339), err)
		}
		r.clk.set(ts)
		r.m.Evaluate(ctx, ts)
		r.res.Steps++
		r.ruleErrors(ts)
		until := ts.Add(r.step)
		if until.After(r.end) {
			until = r.end.Add(time.Nanosecond)
		}
		if err := r.flushUntil(ts, until); err != nil {
			return err
		}
		if r.res.Steps%drainEvery == 0 {
			if err := r.drain(ts); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushUntil flushes every dispatcher group due before until, each at its
// due time (not before from), and takes the notifications made.
func (r *backtestRun) flushUntil(from, until time.Time) error {
	n := r.m.notifier
	for {
		next, ok := n.NextFlush()
		if !ok || !next.Before(until) {
			return nil
		}
		if next.Before(from) {
			next = from
		}
		r.clk.set(next)
		if err := n.FlushDue(); err != nil {
			return fmt.Errorf("backtest: flush at %s: %w", next.Format(time.RFC3339), err)
		}
		sent, err := n.TakeOutbox()
		if err != nil {
			return fmt.Errorf("backtest: %w", err)
		}
		if len(sent) > 0 {
			if err := r.drain(next); err != nil {
				return err
			}
			r.take(sent)
		}
		if after, ok := n.NextFlush(); ok && !after.After(next) {
			return fmt.Errorf("backtest: the dispatcher's group timer did not move on from %s", next.Format(time.RFC3339))
		}
	}
}

// ruleErrors records the rules whose evaluation at ts failed: the first
// failure of each, and the count of all.
func (r *backtestRun) ruleErrors(ts time.Time) {
	for _, g := range r.m.Groups() {
		for _, ri := range g.Rules {
			if ri.LastError == "" {
				continue
			}
			r.res.FailedEvaluations++
			if !r.errored[ri.Key] {
				r.errored[ri.Key] = true
				r.res.Errors = append(r.res.Errors, BacktestError{Rule: ri.Spec.Name, Time: ts, Error: ri.LastError})
			}
		}
	}
}
