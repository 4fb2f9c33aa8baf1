// Package events receives JSON events over HTTP (POST /api/v1/events) and
// stores them in the event store (package tsdb/events).
//
// # Input
//
// A body is one JSON object, an array of objects, or objects one after the
// other (JSON lines). An object with the AWS EventBridge envelope's
// detail-type, source and detail is taken as one: its id is the event's
// ID and its time the event's time. Any other object takes its time from
// the first of Config.TimeFields it has (RFC 3339 text, or a number of
// seconds, milliseconds, microseconds or nanoseconds since the epoch,
// told apart by size), else the arrival time, and its ID is a hash of its
// time and canonical JSON, so a redelivered record is a duplicate.
//
// # Refusals
//
// Everything is checked before anything is stored, and a request's
// events are stored whole or not at all (see package tsdb/events for the
// one case across days). A malformed body, a nesting deeper than
// max_depth, a bad time or one out of the retention is 400; a body over
// max_body_bytes or an event over max_event_bytes is 413. Each error
// names the event (its index in the body, from 0) and, where there is
// one, the field. Answers use the Prometheus API's envelope:
// {"status":"success","data":{...}} or {"status":"error","errorType":...,
// "error":...}.
//
// # Contract
//
// Handler is safe for concurrent use. It imports collectors (for Stats)
// and tsdb/events.
package events
