package promrw

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

// forwardedHeader marks a remote write request sent by a Forwarder. The
// receiving outpost stores it but does not forward it again, so two
// outposts forwarding to each other (or one to itself) never loop.
const forwardedHeader = "X-Outpost-Forwarded"

// forwardedKey marks the context of a write that came from a Forwarder.
type forwardedKey struct{}

// ForwardOptions carries what a Forwarder needs besides its config.
type ForwardOptions struct {
	// Dir is the data directory; queues go to Dir/forward/<target>/.
	Dir string
	// Parse reads the targets' match selectors (query.ParseSelectors).
	Parse SelectorParser
	// Client sends the requests; nil means a client of its own.
	Client *http.Client
	// Logger receives outages, recoveries and drops; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Forwarder sends a copy of what is written through its Tap to remote
// write targets, each through its own on-disk Queue. Run sends; Close
// syncs and closes the queues, after Run returned and nothing writes.
type Forwarder struct {
	targets []*target
	opts    ForwardOptions
	log     *slog.Logger
	bufs    sync.Pool // *[]byte: Tap's encoding scratch
}

// target is one forward target with its queue and counters.
type target struct {
	cfg      TargetConfig
	matchers [][]*tsdb.Matcher // nil: every series
	ext      tsdb.Labels       // external labels, sorted
	q        *Queue
	wake     chan struct{} // Tap -> sender: something was queued

	sent, rejected, failed, retries atomic.Int64
	sendNanos, sends, lastSuccess   atomic.Int64 // lastSuccess: Unix ms
	queueErrs                       atomic.Int64
}

// OpenForwarder opens the queue of every target of cfg (checked by
// Validate).
func OpenForwarder(cfg ForwardConfig, opts ForwardOptions) (*Forwarder, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	f := &Forwarder{opts: opts, log: opts.Logger.With("component", "forward")}
	for i, tc := range cfg.Targets {
		tc = tc.withDefaults()
		t := &target{cfg: tc, wake: make(chan struct{}, 1)}
		if len(tc.Match) > 0 && opts.Parse != nil {
			ms, err := opts.Parse(tc.Match)
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("forward.targets[%d].match: %w", i, err)
			}
			t.matchers = ms
		}
		for n, v := range tc.ExternalLabels {
			t.ext = append(t.ext, tsdb.Label{Name: n, Value: v})
		}
		sort.Slice(t.ext, func(a, b int) bool { return t.ext[a].Name < t.ext[b].Name })
		q, err := OpenQueue(filepath.Join(opts.Dir, "forward", tc.Name), tc.MaxQueueBytes)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("forward target %s: %w", tc.Name, err)
		}
		t.q = q
		f.targets = append(f.targets, t)
	}
	return f, nil
}

// Tap returns a Writer that writes through w and then queues what w
// accepted for every target; w itself when there are no targets. A
// partial write is forwarded whole: the store does not say which points
// it refused, and the target has its own limits.
func (f *Forwarder) Tap(w collectors.Writer) collectors.Writer {
	if f == nil || len(f.targets) == 0 {
		return w
	}
	return tap{f: f, w: w}
}

type tap struct {
	f *Forwarder
	w collectors.Writer
}

// Write implements collectors.Writer.
func (t tap) Write(ctx context.Context, pts []tsdb.Point) error {
	err := t.w.Write(ctx, pts)
	var pwe *tsdb.PartialWriteError
	if (err == nil || errors.As(err, &pwe)) && ctx.Value(forwardedKey{}) == nil {
		t.f.enqueue(pts)
	}
	return err
}

// enqueue queues pts for every target that selects them, as records of at
// most max_samples_per_send samples; consecutive points of one series
// share one timeseries entry.
func (f *Forwarder) enqueue(pts []tsdb.Point) {
	bp, _ := f.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer f.bufs.Put(bp)
	var ls tsdb.Labels
	var samples []tsdb.Sample
	for _, t := range f.targets {
		buf, n := (*bp)[:0], 0
		var prev tsdb.Labels
		flushSeries := func() {
			if len(samples) > 0 {
				buf = appendTimeSeries(buf, ls, samples)
				n += len(samples)
				samples = samples[:0]
			}
		}
		flushRecord := func() {
			flushSeries()
			if n > 0 {
				t.append(f, n, buf)
				buf, n = buf[:0], 0
			}
		}
		for i := range pts {
			p := &pts[i]
			if !t.selects(p.Labels) {
				continue
			}
			if prev == nil || !prev.Equal(p.Labels) {
				flushSeries()
				prev = p.Labels
				ls = t.withExternal(ls[:0], p.Labels)
			}
			samples = append(samples, tsdb.Sample{T: p.T, V: p.V})
			if n+len(samples) >= t.cfg.MaxSamplesPerSend {
				flushRecord()
			}
		}
		flushRecord()
		*bp = buf
	}
}

// append queues one record and wakes the sender.
func (t *target) append(f *Forwarder, n int, rec []byte) {
	dropped, err := t.q.Append(n, rec)
	if err != nil {
		if t.queueErrs.Add(1) == 1 {
			f.log.Error("cannot queue samples for the target; they are not forwarded", "target", t.cfg.Name, "err", err)
		}
		return
	}
	if dropped > 0 {
		f.log.Warn("forward queue full (max_queue_bytes): dropped its oldest samples", "target", t.cfg.Name, "samples", dropped)
	}
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// selects reports whether one of the target's selectors matches ls.
func (t *target) selects(ls tsdb.Labels) bool {
	if t.matchers == nil {
		return true
	}
	for _, set := range t.matchers {
		ok := true
		for _, m := range set {
			if !m.Matches(ls.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// withExternal appends ls merged with the target's external labels to
// dst, sorted; a label of ls wins over an external label of its name.
func (t *target) withExternal(dst, ls tsdb.Labels) tsdb.Labels {
	i, j := 0, 0
	for i < len(ls) || j < len(t.ext) {
		switch {
		case j == len(t.ext) || (i < len(ls) && ls[i].Name < t.ext[j].Name):
			dst = append(dst, ls[i])
			i++
		case i == len(ls) || t.ext[j].Name < ls[i].Name:
			dst = append(dst, t.ext[j])
			j++
		default: // same name: the series' own
			dst = append(dst, ls[i])
			i, j = i+1, j+1
		}
	}
	return dst
}

// Run sends every target's queue until ctx ends, and syncs the queues
// every second.
func (f *Forwarder) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range f.targets {
		wg.Go(func() { f.send(ctx, t) })
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-tick.C:
			for _, t := range f.targets {
				if err := t.q.Sync(); err != nil && !errors.Is(err, errQueueClosed) {
					f.log.Error("sync forward queue", "target", t.cfg.Name, "err", err)
				}
			}
		}
	}
}

// Close syncs and closes every queue. Writes through the Tap after Close
// are stored but not forwarded.
func (f *Forwarder) Close() error {
	var errs []error
	for _, t := range f.targets {
		if t.q != nil {
			errs = append(errs, t.q.Close())
		}
	}
	return errors.Join(errs...)
}
