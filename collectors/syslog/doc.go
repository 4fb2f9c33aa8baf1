// Package syslog receives syslog (RFC 5424 and RFC 3164) over UDP and TCP
// on events.syslog_addr and stores each message as an event in the event
// store (package tsdb/events), so that rsyslog and logger can forward a
// bastion's logs to outpost.
//
// # Input
//
// UDP: one message per datagram (RFC 5426). TCP: frames of either
// framing of RFC 6587, chosen per frame by its first byte: a digit starts
// octet counting ("LEN SP MSG"), anything else a line ended by LF. A line
// starting "<PRI>1 " is RFC 5424 (Parse); any other line with a PRI is
// read as RFC 3164, leniently, as a relay does: "Mmm dd hh:mm:ss" in
// Options.Location (the year is this year's, or last year's when that
// would be more than a day ahead), HOSTNAME, then TAG[PID]: and MSG.
// One space too many before an RFC 5424 MSG is dropped: rsyslog's
// RFC 5424 templates send the space that followed the TAG's colon.
//
// # Events
//
// Each message is one event (toEvent) with the fields source ("syslog"),
// format, host (HOSTNAME, else the sender's address), peer (the sender's
// address), program (APP-NAME or TAG), pid, msgid, severity and facility
// (names: "err", "auth"), severity_code, facility_code, message, sd (the
// STRUCTURED-DATA: sd.<SD-ID>.<PARAM-NAME>) and time: the message's time
// when the store takes it, else the arrival time (the message's then
// kept as reported_time). Its ID hashes the line with its arrival, so
// two identical lines stay two events.
//
// # Refusals
//
// A line without a PRI is refused (counted lines:no_pri), not kept as
// user.notice as rsyslog does: a network listener sees far more port
// scans and wrong-protocol senders than PRI-less syslog, and every real
// sender (rsyslog, syslog-ng, logger, network gear) writes a PRI. So is a
// PRI over 191, a broken RFC 5424 header or STRUCTURED-DATA, a frame over
// events.syslog_max_line_bytes (skipped as it arrives, never buffered),
// and a counted frame cut by the end of its connection. Each is counted
// by reason in Stats (lines:<reason>), and a summary with one example is
// logged at most once a minute; nothing is logged per line.
//
// # Memory and batching
//
// A TCP connection holds one read buffer of at most max_line_bytes plus
// its prefix; connections past events.syslog_max_connections are closed
// at once and counted (connections:too_many_connections). Parsed events
// wait in a queue bounded in count and in bytes; one goroutine appends
// them in batches (Options.BatchSize, Options.BatchDelay). A full queue
// makes a TCP connection wait (its sender slows down) and drops UDP
// datagrams (lines:queue_full).
//
// # Contract
//
// New binds, Run serves until its context ends, then closes every
// connection, appends what is queued and returns once every goroutine it
// started has ended. Listener is safe for concurrent use. The package
// imports collectors (Stats, Budget) and tsdb/events.
package syslog
