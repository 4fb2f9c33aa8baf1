// Package pages owns outpost's built-in web pages: the overview, a
// dashboard per host, dashboards from YAML files, explore, alerts, rules and
// status, all under / on the main HTTP port.
//
// # How a page is made
//
// Pages are rendered on the server with html/template (templates/), so they
// read without JavaScript; only the charts need it. A chart is built with
// go-echarts from a query result, and its options travel as JSON in a
// data-option attribute, which html/template escapes like any other value;
// assets/outpost.js finds those elements and draws them with echarts. No
// page has an inline script, so every answer carries a Content-Security-Policy
// that allows scripts, styles, images and connections from outpost alone: a
// page never makes a request to another host, and a label value such as
// <script>alert(1)</script> is text wherever it appears.
//
// The echarts script is not committed: the Makefile fetches it from the npm
// package echarts at the version go-echarts' options are written for
// (EChartsVersion), checks its SHA-256, and puts it in assets/, from where
// it is embedded in the binary and served under /ui/assets/. A binary built
// without it serves every page, and each chart says what to run instead.
//
// # Time range and refresh
//
// Every page takes from, to (now-6h, now, RFC 3339 or Unix seconds) and
// refresh (a duration; the page reloads itself with a meta refresh, no
// script needed) from its URL, and its links and forms carry them on. A
// range query uses a step that gives at most MaxPoints points per series.
//
// # Changes
//
// A form that changes something (ack, silence, retire, a rule) is a POST to
// a route mounted for the admin role, and carries a token bound to the
// credential that loaded the form and to the hour it was issued (CSRF);
// ui's server refuses cross-origin POSTs from browsers on top of that.
// Buttons for admin actions are shown only to requests that could use them.
//
// # Imports
//
// pages imports query, alerting and tsdb to read what it shows, and ui for
// the request's role. It owns no state but a secret for form tokens.
package pages
