package pages

import (
	"cmp"
	"net/http"
	"slices"
	"time"
)

// statusRoutes returns the routes of the status pages.
func (p *Pages) statusRoutes() []Route {
	return []Route{{Pattern: "GET /status", Handler: http.HandlerFunc(p.status)}}
}

// statusBody is the status page's own data.
type statusBody struct {
	Now      time.Time
	Problems []string // parts of the page that could not be read

	Storage storageView

	IngestOff  bool // Deps.Ingest is not wired
	Ingest     []ingestRow
	Rejections []rejectionRow

	Slow          []slowRow
	SlowThreshold string // "" when the slow-query log is off

	Alerting *alertingView // nil: alerting is off

	Config    string // the configuration in effect, secrets masked
	ConfigOff string // why it is not shown
}

// ingestRow is one protocol's counters.
type ingestRow struct {
	Protocol    string
	Samples     string
	Bytes       int64
	Connections string
	Rejected    string
}

// rejectionRow is what one protocol turned away for one reason.
type rejectionRow struct {
	Protocol, What, Reason string
	N                      uint64
}

// slowRow is one slow query.
type slowRow struct {
	At       time.Time
	Duration string
	Query    string
	Range    string
	Samples  string
	Err      string
}

// status serves GET /status: the configuration in effect, storage,
// ingest, cardinality, slow queries and alerting. It has no time range.
func (p *Pages) status(w http.ResponseWriter, r *http.Request) {
	pg := p.start(r, "Status", "Status")
	pg.NoRange = true
	pg.Styles = []string{"status.css"}
	b := statusBody{Now: p.now()}

	var err error
	if b.Storage, err = p.storage(r.Context()); err != nil {
		b.Problems = append(b.Problems, "storage: "+err.Error())
	}
	b.IngestOff = p.d.Ingest == nil
	if !b.IngestOff {
		b.Ingest, b.Rejections = ingestRows(p.d.Ingest())
	}
	if p.d.Engine != nil {
		if t := p.d.Engine.SlowQueryThreshold(); t > 0 {
			b.SlowThreshold = t.String()
		}
		b.Slow = slowRows(p.d.Engine.SlowQueries())
	}
	if p.d.Alerts != nil {
		b.Alerting = alertingStatus(p.d.Alerts.Status())
	}
	b.Config, b.ConfigOff = p.configText()
	pg.Body = b
	p.render(w, r, p.tmpl["status.html"], http.StatusOK, pg)
}

// configText returns the configuration to show, with its secrets masked,
// or why it is not shown.
func (p *Pages) configText() (text, off string) {
	if p.d.ConfigYAML == nil {
		return "", "The configuration is not available to this page."
	}
	text, err := maskConfig(p.d.ConfigYAML())
	if err != nil {
		p.log.Error("status page: mask the configuration", "err", err)
		return "", "The configuration could not be read to mask its secrets, so it is not shown: " + err.Error()
	}
	return text, ""
}

// ingestRows returns one row per protocol and the rejections of all,
// most first.
func ingestRows(in []Ingest) ([]ingestRow, []rejectionRow) {
	var rows []ingestRow
	var rej []rejectionRow
	for _, i := range in {
		var n uint64
		for _, x := range i.Rejections {
			n += x.N
			rej = append(rej, rejectionRow{Protocol: i.Protocol, What: x.What, Reason: x.Reason, N: x.N})
		}
		rows = append(rows, ingestRow{Protocol: i.Protocol, Samples: statusCount(int64(i.Samples)), Bytes: int64(i.Bytes),
			Connections: statusCount(int64(i.Connections)), Rejected: statusCount(int64(n))})
	}
	slices.SortStableFunc(rej, func(a, b rejectionRow) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Reason, b.Reason))
	})
	return rows, rej
}
