package tcp

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// kernelRTT reads the smoothed RTT from TCP_INFO. Right after the handshake it is the first (and
// only) sample: the SYN → SYN-ACK round trip as the kernel timed it. 0 when unavailable.
func kernelRTT(c net.Conn) time.Duration {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0
	}
	var rtt time.Duration
	_ = raw.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			rtt = time.Duration(info.Rtt) * time.Microsecond
		}
	})
	return rtt
}
