package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// testTree is the tree of the route tests:
//
//	root (team, group_by alertname)
//	├── [0] severity="critical"   -> pager, continue, group_wait 10s
//	│     └── [0] host=~"db.*"   -> dba, group_by ['...']
//	├── [1] match team: web       -> web, group_by [team, alertname], repeat 1h
//	└── [2] match_re env: stag.*  -> staging (inherits all timers)
func testTree(t *testing.T) *Tree {
	t.Helper()
	tree, err := NewTree(Route{
		Receiver: "team", GroupBy: []string{"alertname"}, GroupInterval: 2 * time.Minute,
		Routes: []Route{
			{Receiver: "pager", Matchers: []string{`severity="critical"`}, Continue: true, GroupWait: 10 * time.Second,
				Routes: []Route{{Receiver: "dba", Matchers: []string{`host=~"db.*"`}, GroupBy: []string{"..."}}}},
			{Receiver: "web", Match: map[string]string{"team": "web"}, GroupBy: []string{"team", "alertname"}, RepeatInterval: time.Hour},
			{Receiver: "staging", MatchRE: map[string]string{"env": "stag.*"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func describe(n *Node) string {
	gb := strings.Join(n.GroupBy, "+")
	if n.GroupByAll {
		gb = "..."
	}
	return fmt.Sprintf("%s[%s] by=%s %v/%v/%v", n.Receiver, n.Key, gb, n.GroupWait, n.GroupInterval, n.RepeatInterval)
}

func TestTree_Match(t *testing.T) {
	tree := testTree(t)
	f := func(labels string, want ...string) {
		t.Helper()
		ms, err := ParseMatchers(labels)
		if err != nil {
			t.Fatal(err)
		}
		lset := map[string]string{}
		for _, m := range ms {
			lset[m.Name] = m.Value
		}
		var got []string
		for _, n := range tree.Match(lset) {
			got = append(got, describe(n))
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("Match(%s):\n got %q\nwant %q", labels, got, want)
		}
	}
	// Nothing matches a child: the root takes it.
	f(`alertname=A`, `team[{}] by=alertname 30s/2m0s/4h0m0s`)
	// Critical continues to the next sibling; the web route stops there.
	f(`alertname=A,severity=critical,team=web,env=staging`,
		`pager[{}/{severity="critical"}] by=alertname 10s/2m0s/4h0m0s`,
		`web[{}/{team="web"}] by=alertname+team 30s/2m0s/1h0m0s`)
	// A matching child replaces its parent, and inherits its group_wait.
	f(`alertname=A,severity=critical,host=db-1`,
		`dba[{}/{severity="critical"}/{host=~"db.*"}] by=... 10s/2m0s/4h0m0s`)
	// The regex is anchored: "xdb-1" is not db.*.
	f(`severity=critical,host=xdb-1`, `pager[{}/{severity="critical"}] by=alertname 10s/2m0s/4h0m0s`)
	f(`env=staging`, `staging[{}/{env=~"stag.*"}] by=alertname 30s/2m0s/4h0m0s`)
	f(`env=prestaging`, `team[{}] by=alertname 30s/2m0s/4h0m0s`)
}

func TestNode_GroupKey(t *testing.T) {
	tree := testTree(t)
	f := func(labels map[string]string, want string) {
		t.Helper()
		ns := tree.Match(labels)
		if got := ns[0].GroupKey(ns[0].GroupLabels(labels)); got != want {
			t.Errorf("group key of %v = %s, want %s", labels, got, want)
		}
	}
	f(map[string]string{"alertname": "DiskFull", "severity": "critical"}, `{}/{severity="critical"}:{alertname="DiskFull"}`)
	f(map[string]string{"severity": "critical"}, `{}/{severity="critical"}:{}`) // a missing group_by label is left out
	f(map[string]string{"alertname": "X", "severity": "critical", "host": "db-1"},
		`{}/{severity="critical"}/{host=~"db.*"}:{alertname="X", host="db-1", severity="critical"}`)
	f(map[string]string{"alertname": `say "hi"`}, `{}:{alertname="say \"hi\""}`)
}

func TestNewTree_DuplicateKeys(t *testing.T) {
	tree, err := NewTree(Route{Receiver: "a", Routes: []Route{
		{Receiver: "b", Matchers: []string{"x=1"}, Continue: true},
		{Receiver: "c", Matchers: []string{"x=1"}},
		{Receiver: "d", Matchers: []string{"y=1"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	tree.Walk(func(n *Node) { keys = append(keys, n.Key) })
	want := []string{`{}`, `{}/{x="1"}/0`, `{}/{x="1"}/1`, `{}/{y="1"}`}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Errorf("keys = %q, want %q", keys, want)
	}
}

func TestConfig_Validate(t *testing.T) {
	receivers := []string{"team", "pager"}
	f := func(cfg Config, want string) {
		t.Helper()
		err := cfg.Validate(receivers)
		got := "<nil>"
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Validate:\n got %s\nwant %s", got, want)
		}
	}
	ok := Route{Receiver: "team"}
	f(Config{Route: ok}, "<nil>")
	f(Config{}, "route.receiver: the root route needs a receiver")
	f(Config{Route: Route{Receiver: "nobody"}}, `route.receiver: unknown receiver "nobody"`)
	f(Config{Route: Route{Receiver: "team", Matchers: []string{"a=b"}}}, "route: the root route must not have matchers (it takes every alert)")
	f(Config{Route: Route{Receiver: "team", Continue: true}}, "route.continue: not allowed on the root route")
	f(Config{Route: Route{Receiver: "team", GroupWait: -time.Second}}, "route.group_wait: negative duration -1s")
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{}, {RepeatInterval: -time.Minute}}}},
		"route.routes[1].repeat_interval: negative duration -1m0s")
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{}, {Matchers: []string{`sev=~"("`}}}}},
		"route.routes[1].matchers[0]: \"sev=~\\\"(\\\"\": bad regexp \"(\": error parsing regexp: missing closing ): `(`")
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{Matchers: []string{`sev`}}}}},
		`route.routes[0].matchers[0]: "sev": col 4: expected an operator (=, !=, =~, !~) after "sev"`)
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{Matchers: []string{``}}}}},
		`route.routes[0].matchers[0]: "": no matcher`)
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{Receiver: "x", Match: map[string]string{"a": "b"}}}}},
		`route.routes[0].receiver: unknown receiver "x"`)
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{MatchRE: map[string]string{"a": "*"}}}}},
		"route.routes[0].match_re.a: bad regexp \"*\": error parsing regexp: missing argument to repetition operator: `*`")
	f(Config{Route: Route{Receiver: "team", Routes: []Route{{Match: map[string]string{"a-b": "1"}}}}},
		`route.routes[0].match.a-b: bad label name "a-b"`)
	f(Config{Route: Route{Receiver: "team", GroupBy: []string{"...", "job"}}}, `route.group_by: "..." must be the only entry`)
	f(Config{Route: Route{Receiver: "team", GroupBy: []string{"job", "job"}}}, `route.group_by[1]: duplicate label "job"`)
	f(Config{Route: ok, InhibitRules: []InhibitRule{{}, {SourceMatchers: []string{`a=~"["`}}}},
		"inhibit_rules[1].source_matchers[0]: \"a=~\\\"[\\\"\": bad regexp \"[\": error parsing regexp: missing closing ]: `[`")
	f(Config{Route: ok, InhibitRules: []InhibitRule{{TargetMatchRE: map[string]string{"a": "("}}}},
		"inhibit_rules[0].target_match_re.a: bad regexp \"(\": error parsing regexp: missing closing ): `(`")
	f(Config{Route: ok, InhibitRules: []InhibitRule{{Equal: []string{"bad name"}}}}, `inhibit_rules[0].equal[0]: bad label name "bad name"`)
}

func TestDefaultConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Route.Receiver = "team"
	if err := cfg.Validate([]string{"team"}); err != nil {
		t.Fatal(err)
	}
	tree, _ := NewTree(cfg.Route)
	n := tree.Match(nil)[0]
	if n.GroupWait != 30*time.Second || n.GroupInterval != 5*time.Minute || n.RepeatInterval != 4*time.Hour {
		t.Errorf("root timers = %v/%v/%v, want Alertmanager's 30s/5m/4h", n.GroupWait, n.GroupInterval, n.RepeatInterval)
	}
}
