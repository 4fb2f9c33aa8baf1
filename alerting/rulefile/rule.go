package rulefile

import (
	"time"
)

// File is one loaded rule file.
type File struct {
	// Path is the file's path as given (or "<defaults>" for the built-in set).
	Path   string
	Groups []Group
}

// Group is one rule group: Prometheus' and vmalert's group keys.
type Group struct {
	Name string
	// File is the path of the file the group came from.
	File string
	// Interval is how often the group is evaluated; zero means the
	// manager's default.
	Interval time.Duration
	// Limit caps the alerts (or recorded series) one rule may produce per
	// evaluation; 0 is no limit. Past it the rule's evaluation fails.
	Limit int
	// Labels are added to every rule's results (the rule's own win).
	Labels map[string]string
	// vmalert's keys, accepted so vmalert files load unchanged.

	// EvalOffset (vmalert's eval_offset) places evaluations at this offset
	// within each Interval; it is at most Interval.
	EvalOffset time.Duration
	// EvalDelay (vmalert's eval_delay, Prometheus' query_offset) evaluates
	// each query this much in the past, for data that arrives late.
	EvalDelay time.Duration
	// Concurrency is how many rules of the group may be evaluated at once;
	// 0 or 1 is one at a time.
	Concurrency int
	// Type is vmalert's datasource type: "" or "prometheus" (the only one
	// Parse accepts).
	Type  string
	Rules []Rule
	// Line is the line of the group's "name" key in File.
	Line int
}

// Kind is what a rule is.
type Kind int

// The kinds of rule.
const (
	// KindAlert is an alerting rule ("alert:"), Prometheus' or with
	// outpost's warn/crit conditions.
	KindAlert Kind = iota
	// KindRecord is a recording rule ("record:"): its result is stored as
	// series named Name.
	KindRecord
	// KindFlatline is outpost's flatline rule ("flatline:"): it learns the
	// groups (By) of the series Expr selects and fires once for a group
	// that stops reporting for For.
	KindFlatline
)

// String returns "alert", "record" or "flatline", the rule file key.
func (k Kind) String() string {
	switch k {
	case KindAlert:
		return "alert"
	case KindRecord:
		return "record"
	case KindFlatline:
		return "flatline"
	}
	panic("rulefile: unknown Kind")
}

// Rule is one rule of a Group.
type Rule struct {
	Kind Kind
	// Name is the value of the alert, record or flatline key.
	Name          string
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	Labels        map[string]string
	Annotations   map[string]string

	// outpost's threshold fields (KindAlert only).

	// Warn and Crit, when set, are tested against the value of Expr: the
	// alert's severity is "critical" when Crit holds, else "warning" when
	// Warn holds. With neither, every sample Expr returns is a breach
	// (Prometheus' semantics) and the severity comes from Labels.
	Warn, Crit *Condition
	// Clear, when set, is the condition that resolves a firing alert
	// (hysteresis): until it holds the alert keeps firing.
	Clear *Condition
	// DatapointsToAlarm (M) of the last EvaluationPeriods (N) evaluations
	// must breach for the alert to fire. Both 0 means 1 of 1.
	DatapointsToAlarm, EvaluationPeriods int
	// MissingData says how an evaluation where a known series is absent
	// counts; "" is MissingDefault.
	MissingData MissingData
	// Repeat is the repeat interval per severity ("warning", "critical",
	// or "" for a rule without levels); missing entries use the route's.
	Repeat map[string]time.Duration

	// Flatline fields (KindFlatline only).

	// By are the labels that name a group (such as [host]).
	By []string
	// ForgetAfter retires a group silent for this long; 0 never does.
	ForgetAfter time.Duration

	// Remediate is what to run when an alert of the rule fires (alert
	// and flatline rules); nil leaves it to alerting.remediation_dir.
	Remediate *Remediate

	// Line is the line of the rule's alert, record or flatline key.
	Line int

	// AnnotationTemplates and LabelTemplates are Annotations and Labels
	// compiled by Parse, by key (a record rule's labels are not templates
	// and have none). Evaluation uses them through ExpandAnnotations and
	// ExpandLabels, never parsing a template again. Read-only once parsed.
	AnnotationTemplates map[string]*Template
	LabelTemplates      map[string]*Template
}

// MissingData is a rule's missing_data policy (CloudWatch's
// TreatMissingData).
type MissingData string

// The missing_data policies.
const (
	// MissingDefault is the policy of a rule with no missing_data key:
	// Prometheus' (an absent series is not breaching).
	MissingDefault MissingData = ""
	// MissingMissing: when every datapoint of the last N is missing the
	// alert goes to an explicit insufficient-data state.
	MissingMissing MissingData = "missing"
	// MissingBreaching: a missing datapoint counts as breaching.
	MissingBreaching MissingData = "breaching"
	// MissingNotBreaching: a missing datapoint counts as good.
	MissingNotBreaching MissingData = "not_breaching"
	// MissingIgnore: a missing datapoint keeps the current state.
	MissingIgnore MissingData = "ignore"
)

// Condition is a comparison against the value of a rule's expression, as
// written in a rule file: "> 80", ">= 90", "< 75", "<= 1", "== 0", "!= 0".
type Condition struct {
	Op    string // >, >=, <, <=, ==, !=
	Value float64
}
