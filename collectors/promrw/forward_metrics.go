package promrw

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// metricFamily is one outpost_forward_* family: its value per target.
type metricFamily struct {
	name, typ, help string
	value           func(t *target, qs QueueStats) float64
}

// forwardFamilies are the families WriteMetrics writes, in order.
var forwardFamilies = []metricFamily{
	{"outpost_forward_samples_sent_total", "counter", "Samples the target acknowledged with a 2xx.",
		func(t *target, _ QueueStats) float64 { return float64(t.sent.Load()) }},
	{"outpost_forward_samples_dropped_total", "counter", "Samples dropped: refused by the target with a 4xx other than 429, or dropped from a full queue (max_queue_bytes).",
		func(t *target, qs QueueStats) float64 { return float64(t.rejected.Load() + qs.Dropped) }},
	{"outpost_forward_samples_failed_total", "counter", "Samples of sends that failed and are retried (5xx, 429, network errors).",
		func(t *target, _ QueueStats) float64 { return float64(t.failed.Load()) }},
	{"outpost_forward_retries_total", "counter", "Sends retried after a failure.",
		func(t *target, _ QueueStats) float64 { return float64(t.retries.Load()) }},
	{"outpost_forward_queue_bytes", "gauge", "Bytes of unsent batches in the target's on-disk queue.",
		func(_ *target, qs QueueStats) float64 { return float64(qs.Bytes) }},
	{"outpost_forward_pending_samples", "gauge", "Samples queued and not yet acknowledged by the target.",
		func(_ *target, qs QueueStats) float64 { return float64(qs.Pending) }},
	{"outpost_forward_send_duration_seconds_sum", "counter", "Time spent in sends to the target.",
		func(t *target, _ QueueStats) float64 { return float64(t.sendNanos.Load()) / 1e9 }},
	{"outpost_forward_send_duration_seconds_count", "counter", "Sends made to the target.",
		func(t *target, _ QueueStats) float64 { return float64(t.sends.Load()) }},
	{"outpost_forward_last_success_timestamp_seconds", "gauge", "When the target last acknowledged a send (Unix seconds; 0: never).",
		func(t *target, _ QueueStats) float64 { return float64(t.lastSuccess.Load()) / 1e3 }},
}

// labelValue escapes a label value for the text format.
var labelValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// WriteMetrics writes the outpost_forward_* families in the Prometheus
// text format, one series per target; nothing when there are no targets.
func (f *Forwarder) WriteMetrics(w io.Writer) error {
	if f == nil || len(f.targets) == 0 {
		return nil
	}
	qs := make([]QueueStats, len(f.targets))
	for i, t := range f.targets {
		qs[i] = t.q.Stats()
	}
	bw := bufio.NewWriter(w)
	for _, fam := range forwardFamilies {
		bw.WriteString("# HELP " + fam.name + " " + fam.help + "\n# TYPE " + fam.name + " " + fam.typ + "\n")
		for i, t := range f.targets {
			bw.WriteString(fam.name + `{target="` + labelValue.Replace(t.cfg.Name) + `"} ` +
				strconv.FormatFloat(fam.value(t, qs[i]), 'g', -1, 64) + "\n")
		}
	}
	return bw.Flush()
}
