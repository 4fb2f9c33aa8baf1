package rulefile

import (
	"math"
	"testing"
)

func TestParseCondition(t *testing.T) {
	f := func(s, op string, v float64) {
		t.Helper()
		c, err := ParseCondition(s)
		if err != nil {
			t.Fatalf("ParseCondition(%q): %v", s, err)
		}
		if c.Op != op || c.Value != v && !(math.IsInf(v, 0) && c.Value == v) {
			t.Fatalf("ParseCondition(%q) = %+v, want %s %v", s, c, op, v)
		}
		back, err := ParseCondition(c.String())
		if err != nil || *back != *c {
			t.Fatalf("ParseCondition(%q.String() = %q) = %v, %v", s, c.String(), back, err)
		}
	}
	f("> 80", ">", 80)
	f(">=90", ">=", 90)
	f("< 75", "<", 75)
	f("<= 1", "<=", 1)
	f("== 0", "==", 0)
	f("!= 0", "!=", 0)
	f("  >   -0.5  ", ">", -0.5)
	f("> 1e6", ">", 1e6)
	f("< -1.5E-3", "<", -1.5e-3)
	f("< +Inf", "<", math.Inf(1))
	f("> -Inf", ">", math.Inf(-1))
	f(">=+5", ">=", 5)
}

func TestParseCondition_Bad(t *testing.T) {
	f := func(s, want string) {
		t.Helper()
		_, err := ParseCondition(s)
		if err == nil || err.Error() != want {
			t.Fatalf("ParseCondition(%q) error = %v, want %q", s, err, want)
		}
	}
	bad := `: want an operator (>, >=, <, <=, ==, !=) and a number, like "> 80"`
	f("", `invalid condition ""`+bad)
	f("80", `invalid condition "80"`+bad)
	f("=> 80", `invalid condition "=> 80"`+bad)
	f("= 80", `invalid condition "= 80"`+bad)
	f("> ", `invalid condition "> "`+bad)
	f(">> 80", `invalid condition ">> 80"`+bad)
	f("> 80%", `invalid condition "> 80%"`+bad)
	f("> 1e999", `invalid condition "> 1e999": 1e999 is out of range`)
	f("> NaN", `invalid condition "> NaN": NaN never compares true`)
}

func TestCondition_Holds(t *testing.T) {
	f := func(c Condition, v float64, want bool) {
		t.Helper()
		if got := c.Holds(v); got != want {
			t.Fatalf("%v Holds(%v) = %v, want %v", c, v, got, want)
		}
	}
	nan := math.NaN()
	f(Condition{">", 80}, 80.5, true)
	f(Condition{">", 80}, 80, false)
	f(Condition{">=", 80}, 80, true)
	f(Condition{"<", 75}, 74.9, true)
	f(Condition{"<", 75}, 75, false)
	f(Condition{"<=", 75}, 75, true)
	f(Condition{"==", 0}, 0, true)
	f(Condition{"==", 0}, 1, false)
	f(Condition{"!=", 0}, 1, true)
	f(Condition{"!=", 0}, 0, false)
	f(Condition{"<", math.Inf(1)}, 1e308, true)
	f(Condition{">", 80}, math.Inf(1), true)
	for _, op := range []string{">", ">=", "<", "<=", "==", "!="} {
		f(Condition{op, 0}, nan, false)
	}
	f(Condition{"~", 0}, 0, false)
}

func TestCondition_String(t *testing.T) {
	f := func(c Condition, want string) {
		t.Helper()
		if got := c.String(); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
	}
	f(Condition{">", 80}, "> 80")
	f(Condition{">=", 0.5}, ">= 0.5")
	f(Condition{"<", -1e21}, "< -1e+21")
	f(Condition{"<", math.Inf(1)}, "< +Inf")
}
