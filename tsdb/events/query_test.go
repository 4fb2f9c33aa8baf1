package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// ecsStopped is an ECS "Task State Change" event (the shape AWS documents).
const ecsStopped = `{"version":"0","id":"3317b2af-7005-947d-b652-f55e762e571a","detail-type":"ECS Task State Change",
"source":"aws.ecs","account":"111122223333","time":"2026-12-04T10:00:00Z","region":"us-west-2",
"resources":["arn:aws:ecs:us-west-2:111122223333:task/example/b99d40b3"],
"detail":{"clusterArn":"arn:aws:ecs:us-west-2:111122223333:cluster/example","lastStatus":"STOPPED","desiredStatus":"STOPPED",
"stopCode":"EssentialContainerExited","stoppedReason":"Essential container in task exited",
"containers":[{"name":"web","lastStatus":"STOPPED","exitCode":1},{"name":"sidecar","lastStatus":"RUNNING"}],
"cpu":"256","memory":"512","launchType":"FARGATE","host.name":"ip-10-0-0-1"}}`

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var doc map[string]any
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestQuery_Match(t *testing.T) {
	doc := decode(t, ecsStopped)
	raw, _ := json.Marshal(doc)
	f := func(q string, want bool) {
		t.Helper()
		pq, err := ParseQuery(q)
		if err != nil {
			t.Fatalf("ParseQuery(%q): %v", q, err)
		}
		if got := pq.Match(raw); got != want {
			t.Errorf("%q: Match = %v, want %v", q, got, want)
		}
		if got := pq.root.match([]byte(ecsStopped)); got != want { // not canonical: spaces, newlines
			t.Errorf("%q: match on the original text = %v, want %v", q, got, want)
		}
	}
	f("", true)
	f("*", true)
	f("*:*", true)
	f("detail.lastStatus:STOPPED", true)
	f("detail.lastStatus:stopped", true)
	f("detail.lastStatus:RUNNING", false)
	f("detail.containers.lastStatus:RUNNING", true) // arrays of objects are flattened
	f("detail.containers.exitCode:1", true)
	f("detail.containers.exitCode:2", false)
	f(`detail-type:"ECS Task State Change"`, true)
	f(`detail-type:"State Task"`, false) // a phrase keeps its order
	f("detail-type:task", true)
	f("source:aws.ecs", true)
	f("source:aws", true)
	f("exited", true)
	f("Essential", true)
	f(`"container in task"`, true)
	f("nowhere", false)
	f("detail.stoppedReason:exit*", true)
	f("detail.stoppedReason:ex?ted", true)
	f("detail.stoppedReason:exut*", false)
	f("detail.stopCode:/Essential.*Exited/", true)
	f("detail.stopCode:/Essential/", false)             // anchored, as in Lucene
	f(`resources:/arn.*task\/example\/b99d40b3/`, true) // \/ is a slash inside /.../
	f(`detail.stopCode:/Essential\w+/`, true)           // other escapes reach the regexp
	f(`detail-type:"ECS \"Task\" State Change"`, true)  // \" inside a phrase
	f("detail.stopCode:*", true)
	f("detail.nothing:*", false)
	f("detail.host.name:ip-10-0-0-1", true) // a key with a dot in it
	f("detail.lastStatus:STOPPED AND source:aws.ecs", true)
	f("detail.lastStatus:STOPPED && source:aws.ec2", false)
	f("detail.lastStatus:RUNNING OR source:aws.ecs", true)
	f("detail.lastStatus:RUNNING || source:aws.ec2", false)
	f("detail.lastStatus:RUNNING source:aws.ecs", true) // adjacent: OR
	f("NOT detail.lastStatus:STOPPED", false)
	f("-detail.lastStatus:STOPPED", false)
	f("!detail.lastStatus:RUNNING", true)
	f("source:aws.ecs -detail.lastStatus:STOPPED", false)
	f("source:aws.ecs -detail.lastStatus:RUNNING", true)
	f("+source:aws.ec2 detail.lastStatus:STOPPED", false) // + is required
	f("(detail.lastStatus:RUNNING OR detail.lastStatus:STOPPED) AND NOT detail.cpu:512", true)
	f("detail.lastStatus:(RUNNING OR STOPPED)", true)
	f("detail.lastStatus:(RUNNING OR PENDING)", false)
	f(`detail.clusterArn:arn\:aws\:ecs*`, true)
}

func TestParseQuery_Errors(t *testing.T) {
	f := func(q string, col int) {
		t.Helper()
		_, err := ParseQuery(q)
		var qe *QueryError
		if !errors.As(err, &qe) || !errors.Is(err, ErrSyntax) {
			t.Fatalf("ParseQuery(%q) = %v, want a *QueryError", q, err)
		}
		if qe.Col != col {
			t.Errorf("ParseQuery(%q): column %d, want %d (%v)", q, qe.Col, col, err)
		}
	}
	f("(a", 3)
	f("a)", 2)
	f(`"open`, 1)
	f("field:", 7)
	f("a AND", 6)
	f("field:[1 TO 2]", 7)
	f("field:>5", 7)
	f("a~2", 2)
	f("f:/(/", 3)
	f("- a", 2)
	f("f:(g:x)", 5)
	f(`a\`, 2)
}
