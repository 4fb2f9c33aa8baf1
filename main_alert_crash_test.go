package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// SIGKILL while alerts fire and the receiver is down: after the restart
// and the receiver's return, every notification id that was in the outbox
// arrives, none is missing, and none arrives twice except one that was
// in flight at the kill. No alert is notified anew after the restart.
func TestAlerting_CrashOutbox(t *testing.T) {
	hook := newWebhook(t)
	hook.setDown(true)
	rules := writeRules(t, t.TempDir(), "demo.yml", demoRules)
	data := t.TempDir()
	cfg := serverConfig{Extra: alertingConfig([]string{rules}, hook.URL, "")}
	s := startServerWith(t, data, cfg)

	const hosts = 6
	var lines []string
	for i := range hosts {
		lines = append(lines, fmt.Sprintf("demo,host=c%d value=1 %d", i, time.Now().UnixMilli()))
	}
	writeLP(t, s, lines...)
	// Every notification is in the outbox (the receiver refuses them):
	// read their ids, then kill.
	var attempted []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body, _ := do(t, "GET", s.base+"/api/v1/alerting/outbox", "")
		var ob struct {
			Data []struct{ ID string } `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &ob); err != nil {
			t.Fatalf("outbox: %v: %s", err, body)
		}
		attempted = attempted[:0]
		for _, e := range ob.Data {
			attempted = append(attempted, e.ID)
		}
		hook.mu.Lock()
		tried := len(hook.refused)
		hook.mu.Unlock()
		if len(attempted) == hosts && tried > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox holds %d notifications (%v), want %d\n%s", len(attempted), attempted, hosts, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.kill()

	hook.setDown(false)
	s = startServerWith(t, data, cfg)
	defer s.stop()
	deadline = time.Now().Add(60 * time.Second)
	for {
		hook.mu.Lock()
		var got []string
		for _, m := range hook.got {
			got = append(got, m.ID)
		}
		hook.mu.Unlock()
		missing := 0
		for _, id := range attempted {
			if !slices.Contains(got, id) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notification ids never arrived (attempted %v, got %v)\n%s", missing, len(attempted), attempted, got, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // group intervals after the restart: nothing new may come
	hook.mu.Lock()
	defer hook.mu.Unlock()
	count := map[string]int{}
	for _, m := range hook.got {
		count[m.ID]++
		if !slices.Contains(attempted, m.ID) {
			t.Errorf("notification %s was not in the outbox before the kill: re-notified after restart (%+v)", m.ID, m.Alerts)
		}
	}
	twice := 0
	for id, n := range count {
		if n > 1 {
			twice++
			t.Logf("notification %s arrived %d times", id, n)
		}
	}
	if twice > 1 {
		t.Fatalf("%d notifications arrived more than once; at most the one in flight at the kill may", twice)
	}
	_, metrics, _ := do(t, "GET", s.base+"/metrics", "")
	for _, want := range []string{
		fmt.Sprintf(`outpost_notifications_sent_total{receiver="hook",integration="webhook[0]"} %d`, len(count)),
		`outpost_notifications_outbox_depth{receiver="hook",integration="webhook[0]"} 0`,
		fmt.Sprintf(`outpost_alerting_alerts{state="firing"} %d`, hosts),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	t.Logf("%d notifications attempted before the kill, all delivered after restart; %s", len(attempted),
		strings.TrimSpace(fmt.Sprint(count)))
}
