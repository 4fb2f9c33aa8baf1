// Package notify is outpost's embedded Alertmanager. It takes the alerts
// the rule evaluator puts, routes them down a tree to receivers, groups
// them, leaves out the silenced and inhibited ones, decides with a
// notification log what each integration must be told, and hands the
// notifications to a durable outbox that retries each delivery until a
// time limit. What must outlive a restart (silences, the notification log,
// the outbox) lives in bbolt buckets of alerting.db, the file it shares
// with the rule evaluator.
//
// # Model
//
// An alert is identified by its Fingerprint. The caller re-puts every
// firing alert at each evaluation and puts each resolution (Status
// resolved, EndsAt set); an alert never put resolved stays firing (there
// is no resolve_timeout). Each alert goes into one aggregation group per
// route it matches: Tree.Match searches depth-first, a matching route's
// children first, stopping at the first matching sibling unless it has
// continue; settings a route leaves out come from its parent, the root's
// from Alertmanager's defaults (30s, 5m, 4h). A group is keyed by its route
// and its group labels, {}/{severity="critical"}:{alertname="DiskFull"};
// group_by ['...'] groups by every label. A group flushes first group_wait
// after it was created, then every group_interval.
//
// An alert is muted, left out of notifications, while an active silence
// matches it, while a firing alert inhibits it (an inhibit rule's source
// matchers match the inhibitor, its target matchers the alert, and the
// equal labels have equal values; an alert never inhibits itself, and two
// alerts that both match both sides do not inhibit each other), or while
// the caller's Inhibited flag is set. Silences are pending, active or
// expired by the clock; an update that would rewrite history expires the
// old silence and makes a new one, as Alertmanager does.
//
// # The send decision
//
// At a flush each integration of the group's receiver is decided apart,
// against its notification log entry (what it was last told). It gets a
// notification when a firing, shown, not acked alert is not in the entry's
// firing set; else when it takes resolved notifications and an alert of
// that set resolved (or a resolved alert of Kind "retired" was not reported
// last time); else when a firing, shown, not acked alert exists and the
// repeat interval (the smallest positive RepeatInterval of those alerts,
// else the route's) has passed since the last notification. The
// notification holds every shown firing alert (acked too) and, if the
// integration takes them, the resolutions; an integration without
// send_resolved never gets a notification of resolved alerts only. A
// resolution nobody is told about is struck from the entry, so the alert
// is new if it fires again. Resolved alerts leave the group after the flush.
//
// # Buckets
//
//	alerting.db
//	├── notify_meta       "db_id" -> 8 random hex digits, made by the first Open
//	│                     bucket sequence: the last notification number
//	├── notify_silences   silence ID (UUID) -> Silence, JSON (Alertmanager API v2 shape)
//	├── notify_nflog      group key 0x00 receiver 0x00 integration name ->
//	│                     JSON {groupKey, receiver, integration, firing[], resolved[], sentAt, id}
//	└── notify_outbox     sequence, uint64 big-endian -> JSON {receiver, integration, id,
//	                      notification, createdAt, attempts, nextAttempt, lastError}
//
// The rule evaluator's buckets have other names. A flush writes its log
// entries and outbox entries in one transaction, so the log never says
// "told" without the outbox holding the message, nor the other way round.
// The outbox is keyed by bucket sequence, so a scan returns entries in the
// order they were made. Expired silences are deleted SilenceRetention after
// they end, log entries of groups that no longer exist LogRetention after
// their last notification (both 120h by default, Alertmanager's
// --data.retention).
//
// # Delivery
//
// There is one outbox entry per notification and integration; the entries
// of one notification share its ID, <db_id>-<number as 16 hex digits>,
// unique across restarts and across database files. An integration gets
// its notifications in order, one in flight at a time; a failing
// integration holds back only itself. Different integrations are sent to
// in parallel, at most Options.Concurrency at once. A failed attempt is
// retried after Options.Backoff (1s doubling to 5m, jittered) until
// DeliveryTimeLimit (48h) after the notification was made; then, or at
// once on an error marked receiver.Permanent, the entry is dropped with
// one log line and a counter (Stats). Entries of an integration that is no
// longer configured wait for the same limit.
//
// Send puts one notification for a named receiver straight into the
// outbox, past routing, grouping, silences and the log (a remediation's
// escalation); it is delivered like any other entry.
//
// Delivery is at least once: an entry is deleted after Send returns nil,
// so a crash before the delete, or a shutdown that had to cancel a Send in
// flight (Run gives them ShutdownTimeout, 5s, to finish), sends that entry
// again after the restart, with the same ID for the receiver to drop the
// duplicate. Held alerts, groups and their timers
// are memory only: after a restart the evaluator puts its firing alerts
// again (promptly, within group_wait), each group waits group_wait,
// and the notification log keeps it from repeating what was already sent.
// A notification counts as told when it enters the outbox; if it is then
// dropped, the log is not rolled back.
//
// # Configuration
//
// Config decodes Alertmanager's route and inhibit_rules keys: receiver,
// group_by, continue, match, match_re, matchers, group_wait,
// group_interval, repeat_interval, routes; source_matchers,
// target_matchers, source_match, target_match, source_match_re,
// target_match_re, equal. mute_time_intervals, active_time_intervals and
// time_intervals are not supported: they are not fields, so the strict
// configuration decoder reports them as unknown keys. Matchers use
// ParseMatchers' syntax; Alertmanager's quoted UTF-8 label names are not
// accepted. Unlike Alertmanager, a group never flushes before its
// group_wait (Alertmanager flushes at once for alerts older than that), two
// routes with the same matchers get distinct keys, and the notification
// log is kept per integration name.
//
// # Concurrency
//
// All methods of Notifier and Silences are safe for concurrent use. Put
// does no I/O; silence writes and flushes are short bbolt transactions.
// Run starts the timers and the delivery loop and returns only after all
// of its goroutines ended; it may be called once. Lock order: flushMu,
// Notifier.mu, then Silences.mu or outbox.mu.
//
// # Imports
//
// Standard library, go.etcd.io/bbolt and outpost/alerting/receiver.
package notify
