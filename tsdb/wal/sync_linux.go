package wal

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// fdatasync flushes f's data and the metadata needed to read it back (its
// size) to stable storage, without the timestamps File.Sync also writes.
func fdatasync(f *os.File) error {
	// f.Fd is safe here: a regular file is not in the poller, so it stays in
	// blocking mode, and only the writer goroutine uses or closes f.
	fd := int(f.Fd())
	var err error
	for {
		if err = unix.Fdatasync(fd); err != unix.EINTR {
			break
		}
	}
	runtime.KeepAlive(f)
	if err != nil {
		return fmt.Errorf("fdatasync %q: %w", f.Name(), err)
	}
	return nil
}

// syncDir fsyncs directory dir, so that files created in or removed from it
// are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}
