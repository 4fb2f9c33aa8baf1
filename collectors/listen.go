package collectors

import (
	"fmt"
	"net"
	"strconv"
)

// ListenTCPUDP binds addr on TCP and UDP, on the same port: when the port
// is 0 (tests), the port TCP got is tried for UDP, up to 10 times. key is
// the configuration key named in errors ("graphite.addr").
func ListenTCPUDP(key, addr string) (net.Listener, net.PacketConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %q: %w", key, addr, err)
	}
	tries := 1
	if port == "0" || port == "" {
		tries = 10
	}
	for i := 0; ; i++ {
		tl, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: listen tcp %q: %w", key, addr, err)
		}
		p := strconv.Itoa(tl.Addr().(*net.TCPAddr).Port)
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, p))
		if err == nil {
			return tl, pc, nil
		}
		tl.Close()
		if i+1 >= tries {
			return nil, nil, fmt.Errorf("%s: listen udp %q: %w", key, net.JoinHostPort(host, p), err)
		}
	}
}
