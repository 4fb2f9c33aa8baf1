// Package ui is outpost's HTTP front: the one server every HTTP route runs on
// (ingest, the Prometheus API, alerting, and later the pages), and the
// authentication in front of each route.
//
// # Basics
//
// NewServer builds a Server from ServerConfig (key "http") and AuthConfig (key
// "auth"). main mounts every handler with Mount, naming the Role a request
// needs and the Refuser that answers refused requests in the shape of the
// route's API (the package that owns the route provides it); the list of
// Mount calls in main is outpost's route table. Listen binds the address
// (":0" picks a free port; Addr reports it), and Run serves until its context
// is cancelled, then shuts down gracefully: it stops accepting, lets in-flight
// requests finish for ServerConfig.ShutdownTimeout, then cuts off what is
// left.
//
// # Authentication
//
// Roles are read (queries, pages), write (ingest) and admin (changes); admin
// may also read and write. A request carries a token in one of four ways:
//
//   - InfluxDB v1 query parameters u and p (p is the token, u is ignored),
//   - HTTP Basic (the password is the token; the user name when the password
//     is empty, as with curl -u TOKEN:),
//   - "Authorization: Token X" (InfluxDB v2),
//   - "Authorization: Bearer X".
//
// With no tokens configured, read and write routes are open, as InfluxDB,
// VictoriaMetrics and Prometheus are by default, and admin routes are
// accepted only from loopback clients (the peer address of the connection;
// X-Forwarded-For is never trusted). With tokens configured, every route
// needs a token of a sufficient role, except the routes mounted as
// RolePublic (GET/HEAD /ping and GET /health), which load balancers and
// Telegraf probe without credentials.
//
// A missing or unknown token is answered 401, a token whose role does not
// suffice 403, each with a body in the shape of the route's API (see
// Refuser). Tokens are compared in constant time and never logged.
//
// Routes that change state are mounted for POST or DELETE only, and a POST,
// PUT or DELETE that a browser sends from a page of another site (its
// Sec-Fetch-Site or Origin header says so) is refused with 403 whatever
// its credentials, so a page open on the bastion cannot use the loopback
// admin rights. Every response carries X-Content-Type-Options: nosniff.
//
// # Concurrency
//
// Mount every route before Run. After that, a Server is safe for concurrent
// use; Run may be called once. Run returns only after the serving goroutine
// has ended.
//
// # Imports
//
// ui may import tsdb, query and alerting (for the pages); it never imports
// collectors, and nothing but main imports ui.
package ui
