package host

import "golang.org/x/sys/unix"

// statfs reads the usage of the file system mounted at path with
// statfs(2), as gopsutil's disk.Usage does (blocks of f_bsize).
func statfs(path string) (FSUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return FSUsage{}, err
	}
	return FSUsage{
		Blocks: st.Blocks, Bfree: st.Bfree, Bavail: st.Bavail, Bsize: uint64(st.Bsize),
		Files: st.Files, Ffree: st.Ffree,
	}, nil
}
