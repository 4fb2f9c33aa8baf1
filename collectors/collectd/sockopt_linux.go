package collectd

import (
	"fmt"
	"net"
	"syscall"
)

// setReadBuffer asks for a receive buffer of size bytes and returns what the
// kernel granted. SO_RCVBUFFORCE passes net.core.rmem_max when the process
// may (CAP_NET_ADMIN); otherwise SO_RCVBUF is capped at rmem_max. Linux
// reports twice the requested size (it counts its bookkeeping); the figure
// returned is halved back.
func setReadBuffer(c *net.UDPConn, size int) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("set socket receive buffer: %w", err)
	}
	var got int
	var serr error
	cerr := rc.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
		}
		if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil {
			got = v / 2
		}
	})
	if cerr != nil {
		return got, fmt.Errorf("set socket receive buffer: %w", cerr)
	}
	if serr != nil {
		return got, fmt.Errorf("set socket receive buffer: %w", serr)
	}
	return got, nil
}
