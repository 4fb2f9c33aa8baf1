package remediate

import "maps"

// Stats are a Runner's counters since it was made, for /metrics.
type Stats struct {
	// Runs counts command runs by outcome (ok, failed, timeout,
	// interrupted).
	Runs map[string]uint64
	// Verifications counts the checks after a cool-down by outcome
	// (resolved, still_firing).
	Verifications map[string]uint64
	// Failures counts remediations that did not fix their alert, by
	// reason (failed, still_firing, no_command).
	Failures map[string]uint64
	// Escalations counts escalations by outcome (sent, not_sent).
	Escalations map[string]uint64
	// Dropped counts alerts not remediated because the queue was full.
	Dropped uint64
	// InProgress is the remediations queued or running now.
	InProgress int
}

func newStats() Stats {
	return Stats{Runs: map[string]uint64{}, Verifications: map[string]uint64{}, Failures: map[string]uint64{},
		Escalations: map[string]uint64{}}
}

// Stats returns a copy of the counters.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Runs, s.Verifications = maps.Clone(s.Runs), maps.Clone(s.Verifications)
	s.Failures, s.Escalations = maps.Clone(s.Failures), maps.Clone(s.Escalations)
	s.InProgress = len(r.inflight)
	return s
}

// count applies f to the counters under r.mu.
func (r *Runner) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}
