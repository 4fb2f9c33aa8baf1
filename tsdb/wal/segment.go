package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

const (
	// segmentSuffix ends every segment file name.
	segmentSuffix = ".seg"
	// segmentDigits is the width of the decimal segment number.
	segmentDigits = 8
	// maxSegment is the largest number that fits the 8 digits.
	maxSegment = 99_999_999
)

// segmentFile is a segment found on disk.
type segmentFile struct {
	n    int   // segment number
	size int64 // bytes when listed
}

// segmentName returns the file name of segment n.
func segmentName(n int) string {
	return fmt.Sprintf("%0*d%s", segmentDigits, n, segmentSuffix)
}

// segmentPath returns the path of segment n in dir.
func segmentPath(dir string, n int) string {
	return filepath.Join(dir, segmentName(n))
}

// parseSegmentName returns the number of a segment file name, and false for
// any other name.
func parseSegmentName(name string) (int, bool) {
	if len(name) != segmentDigits+len(segmentSuffix) || name[segmentDigits:] != segmentSuffix {
		return 0, false
	}
	n := 0
	for _, c := range []byte(name[:segmentDigits]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// listSegments returns the segment files of dir, by ascending number. Other
// files and directories are ignored.
func listSegments(dir string) ([]segmentFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments in %q: %w", dir, err)
	}
	var segs []segmentFile
	for _, e := range entries {
		n, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat segment %q: %w", e.Name(), err)
		}
		segs = append(segs, segmentFile{n: n, size: info.Size()})
	}
	slices.SortFunc(segs, func(a, b segmentFile) int { return a.n - b.n })
	return segs, nil
}

// createSegment creates segment h.seg in dir, which must not exist yet, and
// writes and fdatasyncs its header, so that the header is durable before the
// segment's name is. The caller fsyncs dir afterwards, so that the new name
// survives a crash. On failure nothing is left behind (unless the removal
// fails too).
func createSegment(dir string, h segmentHeader) (*os.File, error) {
	if h.seg > maxSegment {
		return nil, fmt.Errorf("create segment %d: number exceeds %d digits", h.seg, segmentDigits)
	}
	f, err := os.OpenFile(segmentPath(dir, h.seg), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	b := h.encode()
	if _, err = f.Write(b[:]); err == nil {
		err = fdatasync(f)
	}
	if err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return nil, fmt.Errorf("write header of segment %q: %w", f.Name(), err)
	}
	return f, nil
}
