//go:build !linux

package host

import "errors"

// errNotLinux says the host collector reads Linux's procfs and sysfs only.
var errNotLinux = errors.New("the host collector supports Linux only")

// statfs is not implemented off Linux, where the collector reads nothing.
func statfs(string) (FSUsage, error) { return FSUsage{}, errNotLinux }
