package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupMemoryMax is cgroup v2's memory limit of this process's group, as
// seen from inside a container or a systemd unit with MemoryMax=.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// memoryLimitShare is the part of a cgroup memory limit given to Go as its
// soft limit, leaving room for what the runtime does not count (mmap'd
// day files in the page cache, thread stacks), as Prometheus'
// auto-gomemlimit does.
const memoryLimitShare = 0.9

// tuneMemoryLimit sets Go's soft memory limit to memoryLimitShare of the
// cgroup's memory limit, unless GOMEMLIMIT is set (then the runtime has
// already applied it) or there is no limit. Near the soft limit the
// collector runs more often, so a burst that would have been killed by the
// kernel costs CPU instead. It returns the limit set, or 0.
func tuneMemoryLimit(environ []string, cgroupFile string, log *slog.Logger) int64 {
	for _, kv := range environ {
		if strings.HasPrefix(kv, "GOMEMLIMIT=") {
			return 0
		}
	}
	b, err := os.ReadFile(cgroupFile)
	if err != nil {
		return 0 // no cgroup v2, or not readable: no limit to follow
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		log.Warn("cgroup memory limit unreadable; no soft memory limit set", "file", cgroupFile, "value", s)
		return 0
	}
	limit := int64(float64(n) * memoryLimitShare)
	debug.SetMemoryLimit(limit)
	log.Info("soft memory limit set from the cgroup's", "cgroup_limit_bytes", n, "gomemlimit_bytes", limit)
	return limit
}
