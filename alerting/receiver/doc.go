// Package receiver delivers notifications: the integrations of a receiver,
// configured in Alertmanager's receivers: format (a documented subset) plus
// outpost's own kinds.
//
// The package owns the wire formats and the delivery of one notification
// to one destination. Routing, grouping, silences, retries and the durable
// outbox belong to alerting/notify, which calls Integration.Send and
// decides from its error whether to retry.
//
// # Basics
//
// A Config is one item of receivers:. Build turns it, with the Global
// defaults and Options, into one Integration per configured item, named by
// kind and index: "webhook[0]", "slack[0]", "email[0]", "alertmanager[0]",
// "alerta[0]", "file[0]". Validate and ValidateAll check configurations at
// load, with errors that name the key path
// (`receivers[2] "ops": webhook_configs[0]: url: missing`); Build also
// checks the global fallbacks and parses templates and TLS files.
//
// # Supported configuration
//
// Alertmanager's kinds, with the keys each supports (defaults as
// Alertmanager's unless said):
//
//   - webhook_configs: url, send_resolved (true), max_alerts (0 = all),
//     timeout (10s), http_config.
//   - slack_configs: api_url (global slack_api_url), channel, username,
//     icon_emoji, icon_url, title, title_link, pretext, text, fallback,
//     footer, color, link_names, send_resolved (false), timeout (10s),
//     http_config.
//   - email_configs: to, from, smarthost, hello, auth_username,
//     auth_password, auth_identity, auth_secret, require_tls (each falling
//     back to its global smtp_* key), tls_config, headers, html, text,
//     send_resolved (false), and outpost's timeout (30s).
//   - http_config: basic_auth {username, password}, authorization {type,
//     credentials}, tls_config {ca_file, cert_file, key_file, server_name,
//     insecure_skip_verify}.
//   - global: smtp_smarthost, smtp_from, smtp_hello, smtp_auth_username,
//     smtp_auth_password, smtp_auth_identity, smtp_auth_secret,
//     smtp_require_tls (true), slack_api_url, resolve_timeout (5m).
//
// outpost's kinds:
//
//   - alertmanager_configs: url, timeout (10s), send_resolved (true),
//     resend_delay (1m), basic_auth, authorization, tls_config. Forwards
//     to POST <url>/api/v2/alerts; a firing alert's endsAt is now + 4 x
//     resend_delay, as Prometheus and vmalert send it (4 x
//     max(evaluation interval, resend delay)), and the integration is a
//     Resender so the dispatcher re-sends firing alerts in time.
//   - alerta_configs: url, api_key, environment ("Production"),
//     resource_label (host, instance, alertname), service, group, origin
//     ("outpost/<hostname>"), timeout_seconds (86400), timeout (10s),
//     send_resolved (true), http_config.
//   - file_configs: path, send_resolved (true). One JSON line per
//     notification, appended and synced.
//
// Not supported: every other Alertmanager kind (pagerduty_configs,
// opsgenie_configs, victorops_configs, pushover_configs, wechat_configs,
// telegram_configs, sns_configs, webex_configs, discord_configs,
// msteams_configs, ...), the *_file variants of secrets and URLs, and
// http_config's proxy and OAuth keys. Each is an unknown key, which the
// loader in main reports as an error, so nothing is silently dropped.
//
// # Templates
//
// Slack fields, email headers and the email text body are Go text/templates
// (the email html body an html/template) over Alertmanager's data: .Status,
// .Receiver, .GroupLabels, .CommonLabels, .CommonAnnotations, .ExternalURL,
// .Alerts (with .Firing and .Resolved; each alert with .Status, .Labels,
// .Annotations, .StartsAt, .EndsAt, .GeneratorURL, .Fingerprint and
// outpost's .Severity, .Value, .Reason, .Kind), plus .GroupKey and
// .NotificationID. Label sets have .SortedPairs, .Names, .Values and
// .Remove; the functions are toUpper, toLower, title, join and trimSpace;
// the template names slack.default.title, slack.default.text,
// slack.default.fallback, slack.default.titlelink, slack.default.username,
// email.default.subject, email.default.text and email.default.html call
// outpost's defaults. A template that does not parse is a configuration
// error; one that fails when a notification is sent is logged and its
// field gets the default, so a template bug never loses a notification.
//
// # Payloads
//
// The webhook and file integrations write Alertmanager's webhook payload,
// version 4, exactly, with outpost's extra keys, which consumers of that
// payload ignore: a top-level "notificationId" (Notification.ID), and per
// alert "severity", "value" (absent when NaN or infinite), "reason" and
// "kind" (each absent when empty). Webhook requests also carry the
// notification ID in the X-Outpost-Notification-Id header, as do
// Alertmanager and Alerta requests and emails (with a Message-Id built
// from it), so a peer can drop the duplicates that retries make.
//
// # Retries
//
// Send returns nil when the peer took the notification. An error wrapped
// with Permanent (IsPermanent) is one that retrying cannot cure: an HTTP
// status other than 2xx, 408, 429 and 5xx (as a *StatusError with the
// first 512 bytes of the body), an SMTP 5xx reply, a notification that
// cannot be encoded. Any other error (network, timeout, HTTP 408/429/5xx,
// SMTP 4xx, a file that cannot be opened) is retryable. A *StatusError
// carries the peer's Retry-After. With send_resolved false, Send drops the
// resolved alerts of a notification and sends nothing when none is left.
//
// # Concurrency
//
// Integrations are safe for concurrent use and start no goroutines; Send
// returns when the delivery is over or ctx is done. The package has no
// package-level mutable state. It imports only the standard library.
package receiver
