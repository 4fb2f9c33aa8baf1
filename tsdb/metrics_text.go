package tsdb

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"strings"
)

// TextWriter writes metric families in the Prometheus text exposition
// format (version 0.0.4): each family's # HELP and # TYPE lines, then its
// samples. It buffers; Flush writes what is left and returns the first
// write error. The packages that expose figures on /metrics share it, so
// escaping and number formatting are the same everywhere.
//
// A TextWriter is not safe for concurrent use.
type TextWriter struct {
	bw *bufio.Writer
}

// NewTextWriter returns a TextWriter over w.
func NewTextWriter(w io.Writer) *TextWriter { return &TextWriter{bw: bufio.NewWriter(w)} }

// Family starts family name of type typ (counter, gauge, histogram or
// summary) with its help text.
func (tw *TextWriter) Family(name, typ, help string) {
	tw.bw.WriteString("# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + typ + "\n")
}

// Sample writes one sample of name with label pairs lv (name, value,
// name, value...).
func (tw *TextWriter) Sample(name string, v float64, lv ...string) {
	tw.bw.WriteString(name)
	for i := 0; i+1 < len(lv); i += 2 {
		if i == 0 {
			tw.bw.WriteByte('{')
		} else {
			tw.bw.WriteByte(',')
		}
		tw.bw.WriteString(lv[i] + `="` + labelEscaper.Replace(lv[i+1]) + `"`)
	}
	if len(lv) > 1 {
		tw.bw.WriteByte('}')
	}
	tw.bw.WriteByte(' ')
	tw.bw.WriteString(FormatValue(v))
	tw.bw.WriteByte('\n')
}

// One writes a family with a single unlabelled sample.
func (tw *TextWriter) One(name, typ, help string, v float64) {
	tw.Family(name, typ, help)
	tw.Sample(name, v)
}

// Flush writes the buffered text and returns the first write error.
func (tw *TextWriter) Flush() error { return tw.bw.Flush() }

// FormatValue formats a sample value as the text format spells it:
// +Inf, -Inf, NaN, or the shortest decimal.
func FormatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// labelEscaper and helpEscaper escape label values and help texts as the
// text format requires.
var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)
