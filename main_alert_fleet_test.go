package main

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const fleetRules = `
groups:
- name: fleet
  interval: 1s
  rules:
  - flatline: HostSilent
    expr: '{host!=""}'   # every series of a host, outpost's own ALERTS{host=...} excluded
    by: [host]
    for: 3s
    labels: {severity: critical}
    annotations: {summary: "{{ $labels.host }} stopped reporting"}
  - alert: DiskFull
    expr: disk_used_percent
    warn: "> 80"
    crit: "> 90"
`

// fleet writes what Telegraf on each live host would, every 500 ms, until
// stop: system_uptime and disk_used_percent (85 % on h00, 40 % elsewhere).
type fleet struct {
	mu   sync.Mutex
	live map[string]bool
	stop chan struct{}
	wg   sync.WaitGroup
}

func startFleet(t *testing.T, s *server, hosts []string) *fleet {
	f := &fleet{live: map[string]bool{}, stop: make(chan struct{})}
	for _, h := range hosts {
		f.live[h] = true
	}
	f.wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 600; i++ { // at most 5 minutes
			f.mu.Lock()
			var lines []string
			now := time.Now().UnixMilli()
			for h := range f.live {
				pct := 40
				if h == "h00" {
					pct = 85
				}
				lines = append(lines, fmt.Sprintf("system,host=%s uptime=%d %d", h, 1000+i, now),
					fmt.Sprintf("disk,host=%s,path=/ used_percent=%d %d", h, pct, now))
			}
			f.mu.Unlock()
			if code, body, _ := do(t, "POST", s.base+"/write?db=telegraf&precision=ms", strings.Join(lines, "\n")); code != 204 {
				t.Errorf("fleet write: %d %s", code, body)
			}
			select {
			case <-f.stop:
				return
			case <-tick.C:
			}
		}
	})
	t.Cleanup(f.halt)
	return f
}

func (f *fleet) set(host string, live bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if live {
		f.live[host] = true
	} else {
		delete(f.live, host)
	}
}

func (f *fleet) halt() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	f.wg.Wait()
}

// A volatile fleet through the real binary: 20 hosts report; 3 stop ->
// exactly 3 flatline alerts, one per host, and no other alert from those
// hosts (h00's firing disk alert is not resolved); 2 are retired through
// the API -> one retired notice each and nothing more; a new host is
// tracked with no configuration.
func TestAlerting_VolatileFleet(t *testing.T) {
	hook := newWebhook(t)
	rules := writeRules(t, t.TempDir(), "fleet.yml", fleetRules)
	s := startServerWith(t, t.TempDir(), serverConfig{Extra: alertingConfig([]string{rules}, hook.URL, "")})
	defer s.stop()
	var hosts []string
	for i := range 20 {
		hosts = append(hosts, fmt.Sprintf("h%02d", i))
	}
	f := startFleet(t, s, hosts)
	defer f.halt() // before the server stops
	hook.waitAlert(t, "h00 disk warning", 20*time.Second, is("DiskFull", "h00", "firing", "warning"))
	time.Sleep(2 * time.Second) // every host seen by the flatline rule

	for _, h := range []string{"h00", "h01", "h02"} {
		f.set(h, false)
	}
	for _, h := range []string{"h00", "h01", "h02"} {
		hook.waitAlert(t, h+" silent", 20*time.Second, is("HostSilent", h, "firing", "critical"))
	}
	time.Sleep(3 * time.Second)
	silent := map[string]int{}
	for _, a := range hook.alerts() {
		h := a.Labels["host"]
		switch {
		case a.Labels["alertname"] == "HostSilent" && a.Status == "firing":
			silent[h]++
		case a.Labels["alertname"] == "DiskFull" && a.Status == "resolved":
			t.Fatalf("disk alert of a silent host resolved: %+v", a)
		case a.Labels["alertname"] == "DiskFull" && h != "h00":
			t.Fatalf("unexpected disk alert %+v", a)
		}
	}
	if len(silent) != 3 || silent["h00"] != 1 || silent["h01"] != 1 || silent["h02"] != 1 {
		t.Fatalf("HostSilent notifications per host %v, want one each for h00, h01, h02", silent)
	}

	// Retire h01 and h02, as a decommission script would.
	form := url.Values{"match[]": {`{host=~"h01|h02"}`}, "by": {"decommission.sh"}}
	code, body, _ := do(t, "POST", s.base+"/api/v1/alerting/retire", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	if code != 200 || !strings.Contains(body, `"h01"`) || !strings.Contains(body, `"h02"`) {
		t.Fatalf("retire: %d %s", code, body)
	}
	for _, h := range []string{"h01", "h02"} {
		hook.waitAlert(t, h+" retired notice", 10*time.Second, func(a hookAlert) bool {
			return a.Labels["host"] == h && a.Kind == "retired" && a.Labels["alertname"] == "HostSilent"
		})
	}
	// A new host appears and is tracked by itself.
	f.set("h20", true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body, _ = do(t, "GET", s.base+"/api/v1/alerting/history?alertname=HostSilent", "")
		if strings.Contains(body, `"kind":"tracked"`) && strings.Contains(body, `"h20"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("h20 not tracked: %s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	retired := map[string]int{}
	for _, a := range hook.alerts() {
		h := a.Labels["host"]
		if a.Kind == "retired" && a.Labels["alertname"] == "HostSilent" {
			retired[h]++
		}
		if h == "h20" {
			t.Fatalf("new host h20 alerted: %+v", a)
		}
	}
	if len(retired) != 2 || retired["h01"] != 1 || retired["h02"] != 1 {
		t.Fatalf("retired notices %v, want one each for h01 and h02", retired)
	}
	var firing []string
	for _, a := range hook.alerts() {
		if a.Status == "firing" {
			firing = append(firing, a.Labels["alertname"]+"/"+a.Labels["host"])
		}
	}
	slices.Sort(firing)
	t.Logf("firing notifications: %v", slices.Compact(firing))
}
