package host

import (
	"bytes"
	"fmt"
	"os"
)

// procCounts is Telegraf's processes input on Linux: processes by state,
// and the threads of them all.
type procCounts struct {
	total, running, sleeping, blocked, zombies, stopped, dead, paging, idle, parked uint64
	threads                                                                         uint64
}

// processes adds Telegraf's processes input, read as it reads on Linux:
// the state letter and thread count of every /proc/<pid>/stat. A process
// that exits meanwhile is not counted. parked (kernel threads parked by
// cpu hotplug) is sent only when there is one.
func (c *Collector) processes(b *batch) error {
	d, err := os.Open(string(c.proc))
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("list processes: %w", err)
	}
	var n procCounts
	var firstErr error
	for _, name := range names {
		if _, ok := parseUint([]byte(name)); !ok {
			continue
		}
		buf, err := readFile(c.proc.path(name, "stat"), c.buf)
		c.buf = buf
		if err != nil {
			if !gone(err) && firstErr == nil {
				firstErr = fmt.Errorf("read process %s: %w", name, err)
			}
			continue
		}
		// The command name is in parentheses and may hold anything, ')'
		// and spaces included: the fields start after the last ')'.
		i := bytes.LastIndexByte(buf, ')')
		if i < 0 || i+2 >= len(buf) {
			continue
		}
		c.scratch = fields(buf[i+2:], c.scratch)
		f := c.scratch
		if len(f) < 18 {
			continue
		}
		n.count(f[0][0])
		if t, ok := parseUint(f[17]); ok { // num_threads, field 20 of proc_pid_stat(5)
			n.threads += t
		}
	}
	tags := b.tags()
	b.add("processes_total", float64(n.total), tags)
	b.add("processes_running", float64(n.running), tags)
	b.add("processes_sleeping", float64(n.sleeping), tags)
	b.add("processes_blocked", float64(n.blocked), tags)
	b.add("processes_zombies", float64(n.zombies), tags)
	b.add("processes_stopped", float64(n.stopped), tags)
	b.add("processes_dead", float64(n.dead), tags)
	b.add("processes_paging", float64(n.paging), tags)
	b.add("processes_idle", float64(n.idle), tags)
	b.add("processes_unknown", 0, tags) // counted from ps(1) output only, as Telegraf
	b.add("processes_total_threads", float64(n.threads), tags)
	if n.parked > 0 {
		b.add("processes_parked", float64(n.parked), tags)
	}
	return firstErr
}

// count counts one process in state s (the third field of its stat file).
func (n *procCounts) count(s byte) {
	n.total++
	switch s {
	case 'R':
		n.running++
	case 'S':
		n.sleeping++
	case 'D':
		n.blocked++
	case 'Z':
		n.zombies++
	case 'X':
		n.dead++
	case 'T', 't':
		n.stopped++
	case 'W':
		n.paging++
	case 'I':
		n.idle++
	case 'P':
		n.parked++
	default:
		// Telegraf logs the letter and counts the process in total only.
	}
}
