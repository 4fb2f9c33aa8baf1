package main

// The progress line of `outpost import`: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// humanBytes prints a byte count with a binary unit: 3.4 MiB.
func humanBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", n)
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}

// humanCount prints a count with k/M suffixes: 1.25M.
func humanCount(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", n/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// isTerminal tells whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress reports an import's advance on w.
type progress struct {
	w     io.Writer
	tty   bool
	total int64 // input size, 0 when unknown (stdin)
	start time.Time
	base  int64         // offset the run started at (-resume)
	baseN int64         // samples sent before this run (-resume)
	every time.Duration // between plain lines
	last  time.Time
	drawn bool
}

func newProgress(w io.Writer, total, base, baseN int64, now time.Time, every time.Duration) *progress {
	return &progress{w: w, tty: isTerminal(w), total: total, base: base, baseN: baseN, start: now, last: now, every: every}
}

// line formats the figures: bytes, lines, samples, rate and, when the size
// is known, percentage and ETA.
func (p *progress) line(off, lines, samples int64, now time.Time, eta bool) string {
	el := now.Sub(p.start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	rate := float64(samples-p.baseN) / el
	byteRate := float64(off-p.base) / el
	var b strings.Builder
	if p.total > 0 {
		frac := float64(off) / float64(p.total)
		if p.tty {
			const width = 24
			n := int(frac * width)
			fmt.Fprintf(&b, "[%s%s] ", strings.Repeat("=", n), strings.Repeat(" ", width-n))
		}
		fmt.Fprintf(&b, "%5.1f%% %s/%s", 100*frac, humanBytes(float64(off)), humanBytes(float64(p.total)))
	} else {
		fmt.Fprintf(&b, "%s", humanBytes(float64(off)))
	}
	fmt.Fprintf(&b, ", %s lines, %s samples, %s samples/s, %s/s", humanCount(float64(lines)), humanCount(float64(samples)),
		humanCount(rate), humanBytes(byteRate))
	if eta && p.total > 0 && byteRate > 0 {
		eta := time.Duration(float64(p.total-off) / byteRate * float64(time.Second)).Round(time.Second)
		fmt.Fprintf(&b, ", ETA %s", eta)
	}
	return b.String()
}

// update redraws the bar on a terminal, or writes a line every p.every.
func (p *progress) update(off, lines, samples int64, now time.Time) {
	if p.tty {
		if now.Sub(p.last) < 200*time.Millisecond && p.drawn {
			return
		}
		fmt.Fprintf(p.w, "\r\x1b[K%s", p.line(off, lines, samples, now, true))
		p.last, p.drawn = now, true
		return
	}
	if now.Sub(p.last) >= p.every {
		fmt.Fprintf(p.w, "outpost import: %s\n", p.line(off, lines, samples, now, true))
		p.last = now
	}
}

// done writes the final line.
func (p *progress) done(off, lines, samples int64, now time.Time) {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "outpost import: done: %s in %s\n", p.line(off, lines, samples, now, false), now.Sub(p.start).Round(time.Millisecond))
}
