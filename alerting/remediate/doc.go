// Package remediate runs the remediation of firing alerts: a command per
// alert, with the alert on its standard input and in its environment, a
// timeout, bounded retries with a pause, a verification after a
// cool-down, and an escalation to a receiver when it does not work. It
// is the CloudWatch alarm -> SNS -> Lambda -> "run the script named after
// the alarm" setup, with what that setup lacked: the output kept, retries,
// verification, escalation.
//
// # What runs
//
// For an alert that starts firing (alerting hands a Job to Submit), the
// command is, in order:
//
//   - the rule's remediate.command (an argument list);
//   - the alerting.exec_configs entry the rule's remediate names;
//   - the executable file <alertname>, else <alertname>.sh, in
//     alerting.remediation_dir, when the rule has no remediate key (and
//     the alert matches alerting.remediation.matchers) or its remediate
//     mapping names no command. The script is looked up when the alert
//     fires, so a script added later is used without a reload.
//
// A rule with remediate: false is never remediated. An alert to be
// remediated with no command found (no script) is escalated at once.
//
// A command is run with os/exec, never through a shell: label values and
// annotations are data, not code. Its working directory is
// remediation_dir (outpost's own when that is not set). Its standard
// input is one JSON object (Input): name, id, rule, state, attempt,
// attempts and alert (the alert as a webhook gets it: labels,
// annotations, startsAt, fingerprint, severity, value, reason). Its
// environment is PATH, HOME, LANG, LC_ALL, TZ, TMPDIR, USER and LOGNAME
// of outpost's (no OUTPOST_* configuration, which may hold secrets), plus
// OUTPOST_ALERT_NAME, _ID, _FINGERPRINT, _RULE, _STATE, _SEVERITY,
// _VALUE, _REASON, _STARTS_AT (RFC 3339), _ATTEMPT, _ATTEMPTS,
// _LABEL_<NAME> and _ANNOTATION_<NAME> (names upper-cased, other
// characters than letters, digits and _ as _; NUL bytes dropped).
//
// # One remediation
//
// A run succeeds when the command exits 0 within its timeout. At the
// timeout the command's process group is killed (SIGKILL), so children
// it started die with it. Its stdout and stderr are kept together, at
// most MaxOutput (64 KiB) and a marker saying how much was cut. After a
// run that succeeded the runner waits verify_after, then asks whether
// the alert is still firing: if it resolved, the remediation is over; if
// not, the run counts as failed. A failed run is followed, after pause,
// by another, up to retries more; before each retry an alert that
// resolved meanwhile ends the remediation. When every run failed, or
// the alert was still firing after the last, or there was no command,
// the alert is escalated: one notification, Status firing, to the
// escalate_to receiver through notify.Notifier.Send, so the outbox
// delivers it durably with its retries, whatever the routes say. The
// escalated alert carries the annotations remediation_status (failed,
// still_firing, no_command), remediation_error, remediation_command,
// remediation_output (the tail, 4 KiB) and remediation_exit_status, and
// a Reason saying the same.
//
// Every run, verification and escalation is a Record, which alerting
// keeps in the alert's history (kind "remediation", with output and exit
// status). Stats count runs, verifications, failures and escalations for
// /metrics.
//
// # Concurrency and restarts
//
// Remediation runs off the evaluation goroutines: Submit never blocks;
// Workers (alerting.remediation.workers) goroutines take jobs from a
// queue of 256 (past it an alert is dropped and counted, logged once per
// run of drops). An alert being remediated is not submitted again until
// that remediation ends. Run returns after its workers ended; when its context ends, a
// command running is killed with its group and recorded as interrupted.
// Nothing of a remediation outlives a restart: an interrupted or queued
// remediation is not resumed, and an alert already firing when outpost
// starts again is not remediated again (it did not start firing); its
// history shows where the remediation stopped.
//
// # Imports
//
// Standard library, outpost/alerting/rulefile (the remediate key),
// outpost/alerting/receiver (the alert and notification shapes) and
// outpost/alerting/notify (matchers).
package remediate
