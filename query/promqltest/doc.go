// Package promqltest reads PromQL test scripts (the `load` / `eval` format
// of Prometheus' promqltest, described in ../shared/conformance/promql/
// FORMAT.md) and runs them against outpost's query engine over a real
// tsdb store in a temporary directory.
//
// # Comparison
//
// Results are compared with MetricsQL's normalisations: a one-sample `{}`
// vector stands for a scalar, expected NaN samples are dropped because
// MetricsQL removes NaN from its output, and annotations (warn, info) are
// not checked. Cases flagged in cases.tsv as documented MetricsQL
// differences are reported as DIFF rather than FAIL when they fail.
// Native-histogram cases and queries metricsql cannot parse are skipped
// with the reason.
//
// # Use
//
// query/script_test.go runs query/testdata/*.test (outpost's own scripts)
// and, when ../shared/conformance/promql exists, the conformance scripts;
// query/cmd/conformance is the `make conformance` entry point.
//
// The package imports outpost/query, outpost/tsdb and metricsql (to tell
// unparsable queries apart). It keeps no state between runs.
package promqltest
