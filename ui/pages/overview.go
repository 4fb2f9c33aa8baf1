package pages

import (
	"cmp"
	"context"
	"io/fs"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"outpost/alerting"
)

// silentAfter is how long a host may send nothing before the overview
// calls it silent (the default rules' silent-host period).
const silentAfter = 5 * time.Minute

// hostSeen is one host on the overview.
type hostSeen struct {
	Name     string
	LastSeen time.Time
}

// overviewBody is the overview's own data.
type overviewBody struct {
	Now         time.Time
	Reporting   []hostSeen
	Silent      []hostSeen
	Firing      []sevCount
	FiringTotal int
	Pending     int
	Ingest      []protoRate
	IngestChart Chart
	Series      int
	DiskBytes   int64
	Samples     uint64 // accepted since start, every protocol
	NextStep    bool   // nothing has arrived yet: say what to point where
	Setup       setup
	AlertsOff   bool
	Problems    []string // parts of the page that could not be read
}

type sevCount struct {
	Severity string
	N        int
}

type protoRate struct {
	Protocol string
	PerSec   float64
	Total    uint64
	Rejected uint64
}

// setup is what the "next step" box prints, from the running config.
type setup struct {
	HTTP, Graphite, Collectd string // host:port to point senders at; "" when off
}

func (p *Pages) overview(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Overview", "Overview")
	pg.Charts = true
	ctx := r.Context()
	now := p.now()
	b := overviewBody{Now: now, Series: p.d.Series(), DiskBytes: dirSize(p.d.DataDir)}

	reporting, silent, err := p.hosts(ctx, now)
	if err != nil {
		b.Problems = append(b.Problems, "hosts: "+err.Error())
	}
	b.Reporting, b.Silent = reporting, silent

	if p.d.Alerts == nil {
		b.AlertsOff = true
	} else {
		b.Firing, b.FiringTotal, b.Pending = alertCounts(p.d.Alerts.Alerts())
	}

	ingest := p.d.Ingest()
	rates := map[string]float64{}
	if v, err := p.instant(ctx, `sum by (protocol) (rate(outpost_ingest_samples_total[5m]))`, now); err == nil {
		for _, s := range v {
			rates[s.Labels.Get("protocol")] = s.V
		}
	}
	for _, in := range ingest {
		var rej uint64
		for _, x := range in.Rejections {
			rej += x.N
		}
		b.Ingest = append(b.Ingest, protoRate{Protocol: in.Protocol, PerSec: rates[in.Protocol], Total: in.Samples, Rejected: rej})
		b.Samples += in.Samples
	}
	b.NextStep = b.Samples == 0 && len(reporting) == 0
	b.Setup = p.setup(r)

	m, err := p.rangeQuery(ctx, `sum by (protocol) (rate(outpost_ingest_samples_total[$__rate_interval]))`, pg.Range, nil)
	if err != nil {
		b.Problems = append(b.Problems, "ingest rate: "+err.Error())
	}
	b.IngestChart = lineChart(lineSpec{ID: "ingest-rate", Title: "Samples stored per second, by protocol", Unit: "short", Legend: "protocol"}, m, pg.Range)
	pg.Body = b
	p.render(w, r, p.tmpl["overview.html"], http.StatusOK, pg)
}

// hosts lists the hosts that sent something within silentAfter and those
// seen in the last day that did not.
func (p *Pages) hosts(ctx context.Context, now time.Time) (reporting, silent []hostSeen, err error) {
	v, err := p.instant(ctx, `max by (host) (timestamp({host!="", __name__!~"ALERTS|ALERTS_FOR_STATE"}))`, now)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, s := range v {
		h := s.Labels.Get("host")
		seen[h] = true
		reporting = append(reporting, hostSeen{Name: h, LastSeen: time.Unix(int64(s.V), 0)})
	}
	names, err := p.d.Storage.LabelValues(ctx, "host", now.Add(-24*time.Hour).UnixMilli(), now.UnixMilli())
	if err != nil {
		return reporting, nil, err
	}
	for _, h := range names {
		if !seen[h] {
			silent = append(silent, hostSeen{Name: h})
		}
	}
	slices.SortFunc(reporting, func(a, b hostSeen) int { return cmp.Compare(a.Name, b.Name) })
	return reporting, silent, nil
}

// alertCounts counts firing alerts by severity, most severe first.
func alertCounts(as []alerting.AlertView) (bySev []sevCount, firing, pending int) {
	n := map[string]int{}
	for _, a := range as {
		switch a.State {
		case alerting.StateFiring:
			sev := a.Severity
			if sev == "" {
				sev = "none"
			}
			n[sev]++
			firing++
		case alerting.StatePending:
			pending++
		}
	}
	for _, s := range []string{"critical", "warning", "info", "none"} {
		if n[s] > 0 {
			bySev = append(bySev, sevCount{s, n[s]})
			delete(n, s)
		}
	}
	for s, c := range n {
		bySev = append(bySev, sevCount{s, c})
	}
	return bySev, firing, pending
}

// setup returns the addresses to point senders at: the host the browser
// used to reach this page, with each listener's port.
func (p *Pages) setup(r *http.Request) setup {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == "" {
		host = "localhost"
	}
	var s setup
	for _, l := range p.d.Listeners {
		_, port, err := net.SplitHostPort(l.Addr)
		if l.Addr == "" || err != nil {
			continue
		}
		a := net.JoinHostPort(host, port)
		switch l.Protocol {
		case "http":
			s.HTTP = a
		case "graphite":
			s.Graphite = a
		case "collectd":
			s.Collectd = a
		}
	}
	return s
}

// dirSize returns the bytes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil // a file removed while walking is not an error here
	})
	return n
}
