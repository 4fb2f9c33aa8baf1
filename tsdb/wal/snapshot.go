package wal

// SegmentNumber returns the number of a segment file name, and false for any
// other name. Snapshots (tsdb) use it to copy the segments below a Cut.
func SegmentNumber(name string) (int, bool) { return parseSegmentName(name) }
