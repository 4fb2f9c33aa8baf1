package promqltest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Command is one command of a script: *Load, *Clear or *Eval.
type Command interface{ line() int }

// Load is a `load <interval>` block.
type Load struct {
	Line     int
	Interval int64 // ms
	Series   []SeriesLine
}

// Clear is a `clear` command.
type Clear struct{ Line int }

// Eval is one `eval` case.
type Eval struct {
	Line               int
	Expr               string
	Instant            bool
	At                 int64 // instant time, ms
	Start, End, Step   int64 // range, ms
	Fail               bool
	FailMsg, FailRegex string
	Ordered            bool
	Annotations        bool // expects warn/info annotations (not checked)
	RangeVector        bool // expect range vector
	RVStart, RVEnd     int64
	RVStep             int64
	String             *string
	Scalar             *float64
	Series             []SeriesLine
	Histogram          bool // an expected line holds native histograms
	ParseErr           error
}

func (c *Load) line() int  { return c.Line }
func (c *Clear) line() int { return c.Line }
func (c *Eval) line() int  { return c.Line }

var (
	reInstant = regexp.MustCompile(`^eval(?:_(fail|warn|ordered|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$`)
	reRange   = regexp.MustCompile(`^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$`)
	reExpect  = regexp.MustCompile(`^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$`)
	reRV      = regexp.MustCompile(`^expect\s+range\s+vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$`)
	reString  = regexp.MustCompile(`^expect\s+string\s+(.+)$`)
)

// Parse parses a script. Errors in a case's body are kept on the case;
// only unreadable commands fail the file.
func Parse(text string) ([]Command, error) {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			l = ""
		}
		lines[i] = l
	}
	var cmds []Command
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			continue
		}
		j := i + 1 // the block ends at the next empty line
		for j < len(lines) && lines[j] != "" {
			j++
		}
		body := lines[i+1 : j]
		word := strings.ToLower(strings.Fields(l)[0])
		switch {
		case word == "clear":
			cmds = append(cmds, &Clear{Line: i + 1})
			j = i + 1
		case strings.HasPrefix(word, "load"):
			c, err := parseLoad(i+1, l, body)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			cmds = append(cmds, c)
		case strings.HasPrefix(word, "eval"):
			c, err := parseEval(i+1, l, body)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			cmds = append(cmds, c)
		default:
			return nil, fmt.Errorf("line %d: unknown command %q", i+1, word)
		}
		i = j - 1
	}
	return cmds, nil
}

func parseLoad(n int, head string, body []string) (*Load, error) {
	f := strings.Fields(head)
	if len(f) != 2 {
		return nil, fmt.Errorf("bad load command %q", head)
	}
	iv, err := parseDuration(f[1])
	if err != nil {
		return nil, err
	}
	c := &Load{Line: n, Interval: iv}
	for _, l := range body {
		if strings.Contains(l, "@st") {
			continue
		}
		sl, err := parseSeriesLine(l)
		if err != nil {
			return nil, err
		}
		c.Series = append(c.Series, sl)
	}
	return c, nil
}

func parseEval(n int, head string, body []string) (*Eval, error) {
	c := &Eval{Line: n}
	var mod string
	if m := reInstant.FindStringSubmatch(head); m != nil {
		mod = m[1]
		c.Instant, c.Expr = true, m[3]
		if m[2] != "" {
			at, err := parseDuration(m[2])
			if err != nil {
				return nil, err
			}
			c.At = at
		}
	} else if m := reRange.FindStringSubmatch(head); m != nil {
		mod = m[1]
		var err error
		if c.Start, err = parseDuration(m[2]); err != nil {
			return nil, err
		}
		if c.End, err = parseDuration(m[3]); err != nil {
			return nil, err
		}
		if c.Step, err = parseDuration(m[4]); err != nil {
			return nil, err
		}
		c.Expr = m[5]
	} else {
		return nil, fmt.Errorf("bad eval command %q", head)
	}
	switch mod {
	case "fail":
		c.Fail = true
	case "ordered":
		c.Ordered = true
	case "warn", "info":
		c.Annotations = true
	}
	for _, l := range body {
		if err := c.parseBodyLine(l); err != nil {
			c.ParseErr = err
		}
	}
	return c, nil
}

func (c *Eval) parseBodyLine(l string) error {
	switch {
	case strings.HasPrefix(l, "expected_fail_message "):
		c.FailMsg = strings.TrimPrefix(l, "expected_fail_message ")
		return nil
	case strings.HasPrefix(l, "expected_fail_regexp "):
		c.FailRegex = strings.TrimPrefix(l, "expected_fail_regexp ")
		return nil
	}
	if m := reRV.FindStringSubmatch(l); m != nil {
		var err error
		c.RangeVector = true
		if c.RVStart, err = parseDuration(m[1]); err != nil {
			return err
		}
		if c.RVEnd, err = parseDuration(m[2]); err != nil {
			return err
		}
		c.RVStep, err = parseDuration(m[3])
		return err
	}
	if m := reString.FindStringSubmatch(l); m != nil {
		s, _, err := unquote(strings.TrimSpace(m[1]))
		if err != nil {
			return err
		}
		c.String = &s
		return nil
	}
	if f := strings.Fields(l); len(f) > 0 && f[0] == "expect" {
		m := reExpect.FindStringSubmatch(l)
		if m == nil {
			return fmt.Errorf("bad expect line %q", l)
		}
		switch m[1] {
		case "fail":
			c.Fail = true
			if m[2] == "msg" {
				c.FailMsg = strings.TrimSpace(m[3])
			} else if m[2] == "regex" {
				c.FailRegex = strings.TrimSpace(m[3])
			}
		case "ordered":
			c.Ordered = true
		case "warn", "info":
			c.Annotations = true
		}
		return nil
	}
	if f, err := strconv.ParseInt(l, 0, 64); err == nil {
		v := float64(f)
		c.Scalar = &v
		return nil
	}
	if f, err := strconv.ParseFloat(l, 64); err == nil {
		c.Scalar = &f
		return nil
	}
	sl, err := parseSeriesLine(l)
	if err != nil {
		return err
	}
	if sl.Histogram {
		c.Histogram = true
	}
	c.Series = append(c.Series, sl)
	return nil
}
