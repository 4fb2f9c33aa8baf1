package graphite

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"outpost/collectors"
	"outpost/tsdb"
)

func TestListener_Write_StoreErrors(t *testing.T) {
	lines := "w.a 1 1700000000\nw.b 2 1700000000\nw.c 3 1700000000\n"
	f := func(name string, fail func(call int, pts []tsdb.Point) error, recorded int, samples uint64, reason string, dropped uint64) {
		t.Run(name, func(t *testing.T) {
			rec := &recorder{fail: fail}
			l, stats, stop := start(t, testConfig(), rec)
			c := dial(t, l)
			send(t, c, lines)
			c.Close()
			waitFor(t, "the write to settle", func() bool {
				return stats.Samples.Load() == samples && (reason == "" || rejected(stats, "samples", reason) == dropped)
			})
			stop()
			if rec.count() != recorded || stats.Samples.Load() != samples {
				t.Fatalf("recorded %d, Samples %d; want %d, %d", rec.count(), stats.Samples.Load(), recorded, samples)
			}
			if reason == "" && len(stats.Rejections()) != 0 {
				t.Fatalf("rejections %v", stats.Rejections())
			}
		})
	}
	f("overloaded then accepted", func(call int, _ []tsdb.Point) error {
		if call <= 2 {
			return tsdb.ErrOverloaded
		}
		return nil
	}, 3, 3, "", 0)
	f("overloaded for good", func(int, []tsdb.Point) error { return tsdb.ErrOverloaded }, 0, 0, "overloaded", 3)
	f("partial write", func(_ int, pts []tsdb.Point) error {
		return &tsdb.PartialWriteError{Dropped: 1, First: fmt.Errorf("series %s: %w", pts[0].Labels, tsdb.ErrTooManySeries)}
	}, 0, 2, "too_many_series", 1)
	f("other error", func(int, []tsdb.Point) error { return tsdb.ErrClosed }, 0, 0, "store_error", 3)
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestListener_Run_SummaryLog(t *testing.T) {
	var buf syncBuffer
	stats := collectors.NewStats("graphite")
	l, err := New(testConfig(), &recorder{}, Options{Stats: stats, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// A period long enough that the one burst below (a single write) never
	// straddles two periods, even under -race on a loaded machine.
	l.summaryEvery = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()
	defer func() { cancel(); <-done }()

	c := dial(t, l)
	send(t, c, "only.nan nan 1\n")
	time.Sleep(300 * time.Millisecond)
	if s := buf.String(); s != "" {
		t.Fatalf("NaN values were logged: %s", s)
	}
	send(t, c, strings.Repeat("bad value\nbad 1 2 3\n", 50))
	waitFor(t, "a summary line", func() bool { return strings.Contains(buf.String(), "graphite input rejected") })
	time.Sleep(250 * time.Millisecond)
	out := buf.String()
	if n := strings.Count(out, "graphite input rejected"); n != 1 {
		t.Fatalf("%d summary lines for one burst, want 1:\n%s", n, out)
	}
	for _, want := range []string{"lines/parse=100", `line 2, column 5: invalid value \"value\"`, "component=graphite"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
