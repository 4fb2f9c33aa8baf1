//go:build !linux

package wal

import (
	"fmt"
	"os"
	"runtime"
)

// fdatasync falls back to File.Sync (fsync, or F_FULLFSYNC on darwin) where
// golang.org/x/sys/unix has no Fdatasync.
func fdatasync(f *os.File) error {
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %q: %w", f.Name(), err)
	}
	return nil
}

// syncDir fsyncs directory dir, so that files created in or removed from it
// are durable. Windows cannot open a directory for syncing and keeps names
// durable by itself, so it is a no-op there.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
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
