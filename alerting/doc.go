// Package alerting watches the data: it loads Prometheus and vmalert rule
// files (with outpost's own rule fields), evaluates their groups on their
// intervals through an injected query function, keeps every alert's state
// and history in alerting.db, and hands alerts to the embedded dispatcher
// (package alerting/notify), which routes, groups, silences, inhibits and
// delivers them through a durable outbox to the receivers (package
// alerting/receiver).
//
// # Rules
//
// Three kinds, from package alerting/rulefile: alerting rules (alert:),
// recording rules (record:) and flatline rules (flatline:). An alerting
// rule either follows Prometheus (every sample its expression returns
// breaches) or has levels: warn and crit conditions on the expression's
// value, with M of N datapoints (datapoints_to_alarm of
// evaluation_periods), a clear condition (hysteresis), a missing_data
// policy and a repeat interval per severity. Each series of a rule is one
// Alert with its own state:
//
//	inactive -> pending (a breach, while "for" has not passed)
//	         -> firing (warning or critical; the level follows the data)
//	         -> resolved (the breach ended, or clear held) -> inactive
//	plus insufficient_data (missing_data: missing, every datapoint missing)
//	and retired (its source was removed on purpose)
//
// Every change of state carries a reason, CloudWatch style: "3 of the last
// 3 datapoints [92.1 (10:31:00), ...] were > 90".
//
// A flatline rule learns the groups (values of its "by" labels) of the
// series its expression selects, with no configuration per group, and
// fires once for a group silent for "for". Retire (POST
// /api/v1/alerting/retire with match[] selectors) or forget_after ends a
// group with one "retired" notice; Retire also closes the open alerts of
// every rule that belong to it. While a group is silent, the alerting
// rules' alerts of that source are held: they neither resolve nor go
// missing, and are not repeated (source-silence inhibition).
//
// # Remediation
//
// When an alert starts firing and its rule has a remediate key (a
// command, an alerting.exec_configs name), or alerting.remediation_dir
// is set (a script named after the alert), the alert is handed to a
// remediate.Runner off the evaluation goroutine: the command runs as an
// argument list, never a shell, with the alert on stdin and in
// OUTPOST_ALERT_* variables, a timeout that kills its process group,
// retries after a pause, and a verification after a cool-down that the
// alert resolved. When it fails, the alert stays firing, or there is no
// command, the alert goes to the escalate_to receiver through the
// notifier's outbox (notify.Notifier.Send), past the routes. Every run
// (output up to 64 KiB, exit status), verification and escalation is an
// event of kind "remediation" in the alert's history; WriteMetrics writes
// outpost_remediation_* counters. A rule file whose remediate names an
// exec config or receiver that does not exist fails to load. Remediations
// are memory only: see package alerting/remediate for what a restart does.
//
// # Rules over the API and backtests
//
// Rule groups put over the API are stored one per file in
// <data>/rules/api/<group>.yml (RuleStore, written atomically) and load
// as the configured rule files do; ParseGroup validates them with the
// same parser. ExportPrometheus translates a group for Prometheus. A
// backtest (Manager.Backtest) evaluates a group over stored history in a
// scratch Manager of its own, on a clock that follows the steps, and
// steps its dispatcher by hand (notify.Notifier.FlushDue): the state
// changes and the notifications it would have sent, nothing sent or
// stored.
//
// # State and history (alerting.db)
//
// A bbolt file in the data directory, shared with alerting/notify (its
// buckets are named notify_*). The evaluator's buckets:
//
//	alerts     rule key 0x00 fingerprint -> Alert (JSON): every alert
//	           that is pending, firing, held or insufficient
//	flatline   rule key 0x00 fingerprint -> group (JSON): last seen, its alert
//	history    time (8 bytes, ns, big-endian) | sequence (8) -> Event (JSON)
//
// A rule key is file|group|kind:name[#n]. Each group's round
// writes its changes in one transaction; history keys only grow, so they
// are appends, and retention (alerting.history_retention) deletes from the
// front. After a restart every alert resumes in its stored state; the
// dispatcher's notification log knows what was sent, so nothing is sent
// again. Inactive alerts are not stored: the progress of an M-of-N count
// that has not fired is lost on restart.
//
// ALERTS{alertstate=...} and ALERTS_FOR_STATE series are written through
// the Writer every round, as Prometheus writes them, and recording rules'
// results the same way.
//
// # Concurrency
//
// Each group runs in its own goroutine, its rules in order. Manager.mu
// guards the loaded files, groups and rules; each rule's lock guards its
// alerts, taken after its query returned. Take Manager.mu before a rule's
// lock. Run returns after every goroutine it started has ended; Close
// closes alerting.db after that.
//
// # Imports
//
// alerting imports query (result types, selectors) and tsdb (labels,
// points), never ui or collectors. It queries through a QueryFunc and
// writes through a Writer that main provides.
package alerting
