package promqltest

import (
	"math"
	"testing"
)

func TestExpandItem(t *testing.T) {
	f := func(item string, want ...float64) {
		t.Helper()
		got, err := expandItem(item)
		if err != nil {
			t.Fatalf("expandItem(%q): %v", item, err)
		}
		if len(got) != len(want) {
			t.Fatalf("expandItem(%q) = %v, want %v", item, got, want)
		}
		for i, w := range want {
			g := got[i]
			switch {
			case math.IsInf(w, -1) && w == math.Inf(-1) && g.Omitted:
			case math.IsNaN(w) && math.IsNaN(g.V):
			case g.V != w || g.Omitted:
				t.Errorf("expandItem(%q)[%d] = %+v, want %v", item, i, g, w)
			}
		}
	}
	omitted := math.Inf(-1) // marks an expected "_"
	f("1", 1)
	f("-2.5", -2.5)
	f("0x1F", 31)
	f("1e3", 1000)
	f("Inf", math.Inf(1))
	f("-Inf", math.Inf(-1))
	f("NaN", math.NaN())
	f("1m", 60)
	f("0+10x3", 0, 10, 20, 30)
	f("5-1x2", 5, 4, 3)
	f("-2+3x1", -2, 1)
	f("1e3+1x1", 1000, 1001)
	f("7x2", 7, 7, 7)
	f("_", omitted)
	f("_x3", omitted, omitted, omitted)
	if vs, _ := expandItem("stale"); len(vs) != 1 || math.Float64bits(vs[0].V) != staleNaN {
		t.Errorf("stale = %+v", vs)
	}
}

func TestParse_Script(t *testing.T) {
	cmds, err := Parse(`# comment
load 5m
  m{a="1", b='x'} 1 2 _ 4
  {__name__="n"} 0+1x2

clear
load 1m
  o 1

eval instant at 1h30m sum(m)
  expect ordered
  {} 7

eval range from 0 to 10m step 5m m
  m{a="1", b="x"} 1 2 _

eval instant at 0 "s"
  expect string "s"

eval instant at 0 x
  expect fail msg: boom
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(cmds) != 7 {
		t.Fatalf("got %d commands, want 7", len(cmds))
	}
	l := cmds[0].(*Load)
	if l.Interval != 300_000 || len(l.Series) != 2 || l.Series[0].Labels.Get("b") != "x" || !l.Series[0].Values[2].Omitted {
		t.Errorf("load = %+v", l)
	}
	if _, ok := cmds[1].(*Clear); !ok {
		t.Errorf("command 2 = %T, want clear", cmds[1])
	}
	e := cmds[3].(*Eval)
	if !e.Instant || e.At != 5_400_000 || !e.Ordered || len(e.Series) != 1 || e.Expr != "sum(m)" {
		t.Errorf("instant eval = %+v", e)
	}
	r := cmds[4].(*Eval)
	if r.Instant || r.End != 600_000 || r.Step != 300_000 {
		t.Errorf("range eval = %+v", r)
	}
	if s := cmds[5].(*Eval).String; s == nil || *s != "s" {
		t.Errorf("string eval = %+v", cmds[5])
	}
	if f := cmds[6].(*Eval); !f.Fail || f.FailMsg != "boom" {
		t.Errorf("fail eval = %+v", f)
	}
}

func TestAlmostEqual(t *testing.T) {
	f := func(a, b float64, want bool) {
		t.Helper()
		if got := almostEqual(a, b); got != want {
			t.Errorf("almostEqual(%v, %v) = %v", a, b, got)
		}
	}
	f(1, 1+1e-9, true)
	f(1, 1.001, false)
	f(0, 1e-300, false)
	f(math.NaN(), math.NaN(), true)
	f(math.Inf(1), math.Inf(1), true)
}
