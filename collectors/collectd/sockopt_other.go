//go:build !linux

package collectd

import (
	"fmt"
	"net"
)

// setReadBuffer asks for a receive buffer of size bytes; the system may cap
// it. The granted size is not readable portably, so size is returned.
func setReadBuffer(c *net.UDPConn, size int) (int, error) {
	if err := c.SetReadBuffer(size); err != nil {
		return 0, fmt.Errorf("set socket receive buffer: %w", err)
	}
	return size, nil
}
