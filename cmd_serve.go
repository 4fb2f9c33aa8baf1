package main

// What outpost serve tells the operator at startup: the absolute data
// directory, then, once every socket is bound, one line per listener and a
// "next step" line. A start that fails while binding never reaches these
// lines, so no listener it abandons is ever reported as listening.

import (
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"outpost/collectors/collectd"
	"outpost/collectors/graphite"
	"outpost/collectors/influx"
	"outpost/ui"
)

// absDataPath returns storage.path made absolute against the working
// directory, so the log, the status page and the alerting store all name
// the directory a relative path meant at startup.
func absDataPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil { // the working directory is gone: keep what was given
		return p
	}
	return abs
}

// logListening logs one line per bound listener (the disabled ones are
// left out), then where to go next. Call it after every listener is bound
// and before any serves.
func logListening(log *slog.Logger, cfg config, srv *ui.Server, gl *graphite.Listener, cl *collectd.Listener, ul *influx.UDPListener, ev *eventParts) {
	httpAddr := srv.Addr()
	log.Info("http server listening", "component", "http", "addr", httpAddr.String(), "network", "tcp",
		"tls", cfg.HTTP.TLSCert != "", "serves", "influx write, prometheus api, pages")
	if a := gl.Addr(); a != nil {
		log.Info("graphite server listening", "component", "graphite", "addr", a.String(), "network", "tcp+udp",
			"udp_addr", gl.UDPAddr().String())
	}
	if a := cl.Addr(); a != nil {
		log.Info("collectd server listening", "component", "collectd", "addr", a.String(), "network", "udp",
			"security_level", cfg.Collectd.SecurityLevel)
	}
	if a := ul.Addr(); a != nil {
		log.Info("influx_udp server listening", "component", "influx_udp", "addr", a.String(), "network", "udp",
			"db", cfg.Influx.UDPDB)
	}
	ev.logSyslog(log) // serve_events.go: events.syslog_addr
	base := browseURL(httpAddr, cfg.HTTP.TLSCert != "")
	log.Info("outpost is ready", "data", cfg.Storage.Path,
		"next", "open "+base+"/ in a browser, or point Telegraf's [[outputs.influxdb]] urls at "+base)
}

// browseURL is the URL people reach the HTTP server at: this machine's
// name when it listens on every address, else the address it listens on.
func browseURL(addr net.Addr, tls bool) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		host, port = addr.String(), ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		} else {
			host = "localhost"
		}
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	if port == "" {
		return scheme + "://" + host
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
