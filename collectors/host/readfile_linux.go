package host

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// readFile reads the file at path whole into buf (grown as needed) and
// returns the bytes read. procfs and sysfs files report a size of 0, so the
// file is read until EOF rather than sized by Stat. It makes the system
// calls itself: an os.File costs three more per file (the poller's
// registration, which procfs refuses, and its undoing), and a collection
// opens one file per process.
func readFile(path string, buf []byte) ([]byte, error) {
	fd, err := openRetry(path)
	if err != nil {
		return buf[:0], &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return buf, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// openRetry opens path read-only, again when a signal interrupted it.
func openRetry(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if !errors.Is(err, unix.EINTR) {
			return fd, err
		}
	}
}
