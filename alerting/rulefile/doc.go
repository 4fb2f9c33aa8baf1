// Package rulefile loads and validates alerting and recording rule files:
// Prometheus' and vmalert's format, unchanged, plus outpost's own rule
// fields (DESIGN.md §7). It also compiles the rules' annotation and label
// templates (Prometheus' template language and functions) and holds the
// built-in default rule set. It evaluates nothing: package alerting runs
// the rules it returns.
//
// # Basics
//
// Parse decodes one file's bytes, Load reads and parses a path, LoadGlobs
// loads every file of a list of glob patterns, each on its own so that a
// bad file does not stop the others. A file is a list of Groups, each a
// list of Rules of three kinds: alert (Prometheus' alerting rule, or
// outpost's threshold rule with warn/crit levels), record (a recording
// rule) and flatline (outpost's: a group of series that goes silent).
// Defaults returns the built-in rules.
//
// Every problem Parse finds is an *Error naming the file, line, column,
// group and rule, such as
//
//	rules/disk.yml:12:5: group "disk", rule "DiskFull": unknown field "exprs"
//
// and Parse returns all of them, joined (errors.Join); Errors lists them.
// A file with any problem yields no File: rules are used whole or not at
// all, as Prometheus does. File.Validate runs the same checks over a File
// built or changed in code.
//
// Templates are compiled once, at load, into Rule.AnnotationTemplates and
// Rule.LabelTemplates; Rule.ExpandAnnotations and Rule.ExpandLabels run
// them against a TemplateData (the alert's labels and value, and a query
// function for the template function query).
//
// # The file format
//
// Prometheus' keys (groups; name, interval, query_offset, limit, labels,
// rules; alert, record, expr, for, keep_firing_for, labels, annotations)
// mean what they mean there, durations are in Prometheus' syntax (30s,
// 5m, 1h30m, 1d, 1w, 1y, 500ms), and unknown keys are errors, as in
// Prometheus' strict loader. YAML anchors, aliases and merge keys work.
// outpost's fields sit beside them:
//
//	groups:
//	  - name: disk
//	    rules:
//	      - alert: DiskFull
//	        expr: disk_used_percent{fstype!="tmpfs"}
//	        warn: "> 80"                # severity warning when the value is above 80
//	        crit: "> 90"                # critical above 90 (conditions: > >= < <= == !=)
//	        clear: "< 75"               # once firing, resolve only below 75 (hysteresis)
//	        datapoints_to_alarm: 3      # M of
//	        evaluation_periods: 5       # the last N evaluations must breach (N <= 1440)
//	        missing_data: not_breaching # or missing, breaching, ignore (notBreaching too)
//	        repeat: {warn: 24h, crit: 1h}   # or one duration for every severity
//	        for: 5m
//	      - flatline: HostSilent        # fires for a group of series that goes silent
//	        expr: '{__name__="system_uptime"}'
//	        by: [host]                  # the labels that name a group (required)
//	        for: 5m                     # how long a group may be silent (required)
//	        forget_after: 7d            # retire a group silent this long (>= for)
//
// Annotations, and the labels of alert and flatline rules, are templates;
// a record rule's labels are plain values, as in Prometheus. A record rule
// may have none of for, keep_firing_for, annotations or outpost's fields; a flatline rule none of warn, crit, clear, M of N or
// missing_data; clear needs warn or crit, and the severity label is then
// warn's and crit's to set.
//
// # vmalert's keys
//
// vmalert's group keys eval_offset, eval_delay, concurrency and type
// (prometheus only: graphite and vlogs groups are refused) are kept in the
// Group. These vmalert keys are accepted and ignored, as they change
// nothing about what a rule means in outpost:
//
//   - group headers and notifier_headers (HTTP headers for vmalert's
//     datasource and notifiers);
//   - group params (HTTP parameters of the group's queries), except
//     extra_label and extra_filters, which filter the results and are
//     refused: put the filter in each expr;
//   - group eval_alignment;
//   - rule debug and update_entries_limit.
//
// Prometheus' query_offset is vmalert's eval_delay (Group.EvalDelay); a
// group may give one of them. Several YAML documents in one file add up
// their groups, as in vmalert.
//
// # Concurrency
//
// Parse, Load and LoadGlobs share nothing; a parsed File is plain data
// that its caller owns. Template and the templates a Rule holds are
// immutable and safe for concurrent use, as are ExpandAnnotations and
// ExpandLabels.
//
// # Imports
//
// rulefile imports outpost/query (to check expressions with query.Parse,
// and for query.Vector, the result of a template's query function),
// go.yaml.in/yaml/v3 and the standard library.
package rulefile
