package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParse_SyntaxError(t *testing.T) {
	f := func(q, wantPos string) {
		t.Helper()
		_, err := Parse(q)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
			t.Fatalf("Parse(%q) = %v, want a *ParseError", q, err)
		}
		if !strings.HasPrefix(err.Error(), wantPos+": parse error: ") {
			t.Errorf("Parse(%q) = %q, want position %s", q, err, wantPos)
		}
	}
	f(`sum(rate(x[5m])`, "1:16")
	f(`foo{bar="baz"`, "1:14")
	f(`x +`, "1:4")
	f(`x ) y`, "1:3")
	f(``, "1:1")
	f(`   `, "1:1")
	f(`rate(x[5m]) by`, "1:13")
	f("sum(x)\n  + ", "2:5")
}

func TestParse_UnknownFunction(t *testing.T) {
	f := func(q, name string) {
		t.Helper()
		_, err := Parse(q)
		if !errors.Is(err, ErrUnknownFunction) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("Parse(%q) = %v, want unknown function naming %q", q, err, name)
		}
	}
	f(`nosuch(x)`, "nosuch")
	f(`sum(frobnicate(x))`, "frobnicate")
	f(`info(x)`, "info")
	f(`bitmap_nand(x, 1)`, "bitmap_nand")
}

func TestParse_ArgCount(t *testing.T) {
	f := func(q, name string) {
		t.Helper()
		_, err := Parse(q)
		if !errors.Is(err, ErrArgCount) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("Parse(%q) = %v, want an argument count error naming %q", q, err, name)
		}
	}
	f(`rate()`, "rate")
	f(`rate(x[5m], 1)`, "rate")
	f(`histogram_quantile(0.9)`, "histogram_quantile")
	f(`label_replace(x, "a", "b", "c")`, "label_replace")
	f(`topk(x)`, "topk")
	f(`quantile_over_time(x[5m])`, "quantile_over_time")
	f(`clamp(x, 1)`, "clamp")
	f(`time(1)`, "time")
}

func TestParse_Valid(t *testing.T) {
	for _, q := range []string{
		`sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))`,
		`histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))`,
		`max_over_time(deriv(x[5m])[1h:1m] offset 1h)`,
		`x @ end() unless y keep_metric_names`,
		`WITH (f(a) = a * 2) f(x)`,
		`rate(x)`, `x{a="b" or c="d"}`, `1 + 1`, `"s"`,
	} {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
}

func TestIsScalarExpr(t *testing.T) {
	f := func(q string, want bool) {
		t.Helper()
		e, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if got := isScalarExpr(e); got != want {
			t.Errorf("isScalarExpr(%q) = %v, want %v", q, got, want)
		}
	}
	f(`1`, true)
	f(`time() - 60`, true)
	f(`scalar(x) * 2`, true)
	f(`vector(1)`, false)
	f(`x + 1`, false)
	f(`sum(x)`, false)
}

func TestExcludeMetrics(t *testing.T) {
	f := func(q, want string) {
		t.Helper()
		got, err := ExcludeMetrics(q, "ALERTS|ALERTS_FOR_STATE")
		if err != nil || got != want {
			t.Fatalf("ExcludeMetrics(%q) = %q, %v; want %q", q, got, err, want)
		}
	}
	f(`{host!=""}`, `{host!="",__name__!~"ALERTS|ALERTS_FOR_STATE"}`)
	f(`system_uptime`, `system_uptime{__name__!~"ALERTS|ALERTS_FOR_STATE"}`)
	f(`{__name__=~"a|b",host!=""} or up`, `{__name__=~"a|b",host!="",__name__!~"ALERTS|ALERTS_FOR_STATE"} or up{__name__!~"ALERTS|ALERTS_FOR_STATE"}`)
	if _, err := ExcludeMetrics(`sum(`, "X"); err == nil {
		t.Fatal("no error for a bad expression")
	}
}
