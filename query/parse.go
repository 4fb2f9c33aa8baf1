package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metricsql"
)

// maxQueryLen bounds the query text the engine parses.
const maxQueryLen = 16 << 10

// Parse parses a MetricsQL query and checks what the parser leaves to the
// evaluator: every function is known to outpost and has an allowed number
// of arguments. Syntax errors come back as *ParseError (wrapping
// ErrSyntax) with the position where parsing stopped.
func Parse(q string) (expr metricsql.Expr, err error) {
	defer func() {
		if r := recover(); r != nil {
			expr, err = nil, &ParseError{Pos: 0, Query: q, Msg: fmt.Sprintf("parser failed: %v", r)}
		}
	}()
	if len(q) > maxQueryLen {
		return nil, &ParseError{Pos: maxQueryLen, Query: q, Msg: fmt.Sprintf("query is longer than %d bytes", maxQueryLen)}
	}
	if strings.TrimSpace(q) == "" {
		return nil, &ParseError{Pos: 0, Query: q, Msg: "no expression found in input"}
	}
	expr, err = metricsql.Parse(q)
	if err != nil {
		if strings.HasPrefix(err.Error(), "unsupported function ") {
			return nil, fmt.Errorf("%w %s", ErrUnknownFunction, strings.TrimPrefix(err.Error(), "unsupported function "))
		}
		return nil, &ParseError{Pos: errorPos(q, err.Error()), Query: q, Msg: err.Error()}
	}
	if err := checkExpr(expr); err != nil {
		return nil, err
	}
	return expr, nil
}

// errorPos finds where the parser stopped: its messages end with the
// unparsed rest of the query, quoted.
func errorPos(q, msg string) int {
	const marker = `unparsed data: `
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		i = strings.LastIndex(msg, "unparsed data left: ")
		if i < 0 {
			return len(q)
		}
		i += len("unparsed data left: ") - len(marker)
	}
	rest, err := strconv.Unquote(msg[i+len(marker):])
	if err != nil || !strings.HasSuffix(q, rest) {
		return len(q)
	}
	return len(q) - len(rest)
}

// checkExpr walks e and validates function names and argument counts.
func checkExpr(e metricsql.Expr) error {
	var err error
	metricsql.VisitAll(e, func(x metricsql.Expr) {
		if err != nil {
			return
		}
		switch t := x.(type) {
		case *metricsql.FuncExpr:
			err = checkFunc(t)
		case *metricsql.AggrFuncExpr:
			err = checkAggr(t)
		case *metricsql.RollupExpr:
			if t.Window != nil {
				if _, derr := t.Window.NonNegativeDuration(1); derr != nil {
					err = errorf(ErrBadArgument, "window %s", t.Window.AppendString(nil))
				}
			}
		}
	})
	return err
}

func checkFunc(fe *metricsql.FuncExpr) error {
	name := lower(fe.Name)
	var lo, hi int
	if rs := rollupSpecs[name]; rs != nil {
		lo, hi = rs.minArgs, rs.maxArgs
	} else if ar, ok := transformArities[name]; ok {
		lo, hi = ar[0], ar[1]
	} else {
		return fmt.Errorf("%w %q", ErrUnknownFunction, fe.Name)
	}
	if n := len(fe.Args); n < lo || (hi >= 0 && n > hi) {
		return fmt.Errorf("%w: function %q takes %s, got %d", ErrArgCount, fe.Name, argRange(lo, hi), n)
	}
	return nil
}

func checkAggr(ae *metricsql.AggrFuncExpr) error {
	name := lower(ae.Name)
	spec := aggrSpecs[name]
	if spec == nil {
		return fmt.Errorf("%w %q", ErrUnknownFunction, ae.Name)
	}
	if n := len(ae.Args); n < spec.minArgs || (spec.maxArgs >= 0 && n > spec.maxArgs) {
		return fmt.Errorf("%w: aggregation %q takes %s, got %d", ErrArgCount, ae.Name, argRange(spec.minArgs, spec.maxArgs), n)
	}
	return nil
}

func argRange(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d argument(s)", lo)
	case lo == hi:
		return fmt.Sprintf("%d argument(s)", lo)
	}
	return fmt.Sprintf("%d to %d arguments", lo, hi)
}

// isScalarExpr reports whether e evaluates to a scalar in PromQL terms: a
// number, scalar arithmetic, or a function returning a scalar.
func isScalarExpr(e metricsql.Expr) bool {
	switch t := e.(type) {
	case *metricsql.NumberExpr:
		return true
	case *metricsql.BinaryOpExpr:
		return isScalarExpr(t.Left) && isScalarExpr(t.Right)
	case *metricsql.FuncExpr:
		switch lower(t.Name) {
		case "scalar", "time", "pi", "now", "start", "end", "step":
			return true
		}
	}
	return false
}

// lower returns s in lower case, without allocating for the usual
// already-lower function names.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func isNaN(v float64) bool { return v != v }

// isInf reports whether v is +Inf or -Inf.
func isInf(v float64) bool { return math.IsInf(v, 0) }
