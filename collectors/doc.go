// Package collectors holds everything that produces samples: the InfluxDB
// write API (influx), Graphite plaintext (graphite), collectd's network
// protocol (collectd) and the built-in host collector (host).
//
// # Statistics
//
// Each listener counts what it took in and turned away in a Stats (samples,
// bytes, connections or datagrams, rejections by what and reason).
// WriteMetrics renders them in Prometheus text format for GET /metrics.
// SelfMetrics is outpost scraping itself: it parses the whole /metrics
// text (ParseText, the text-format parser) every host.self_interval and
// writes every sample as a series through a Writer, so pages and alerts
// can use them. Store is the write the socket listeners
// share: it retries while the store refuses writes for now (Retryable:
// overloaded, or its WAL cannot append) and counts what was dropped by
// DropReason, so every protocol names its rejections alike.
//
// # Contract
//
// Every collector writes through the narrow Writer interface, which *tsdb.DB
// implements; collectors never import one another. A collector that listens
// on a socket has Run(ctx) error, which returns after ctx is cancelled and
// every goroutine it started has ended.
package collectors

import (
	"context"

	"outpost/tsdb"
)

// Writer stores points. When Write returns nil every point is durable and
// visible to queries. A *tsdb.PartialWriteError means the other points were
// written. Write does not retain pts or the Labels' backing arrays.
type Writer interface {
	Write(ctx context.Context, pts []tsdb.Point) error
}

var _ Writer = (*tsdb.DB)(nil)
