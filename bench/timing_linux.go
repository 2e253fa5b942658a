//go:build linux

package bench

import (
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// BareConnect is the reference: a blocking connect(2) on a fresh socket, timed around the system
// call alone, and the kernel's TCP_INFO RTT of that connection (the SYN → SYN-ACK round trip, µs
// resolution). It closes the socket before returning.
func BareConnect(ap netip.AddrPort) (connect, rtt time.Duration, err error) {
	if !ap.Addr().Is4() {
		return 0, 0, fmt.Errorf("bare connect: %s is not IPv4", ap)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("bare connect: socket: %w", err)
	}
	defer unix.Close(fd)
	// The blocking connect is bounded by the kernel's SYN retries; SO_SNDTIMEO bounds it to our
	// probe timeout instead (connect(2) honours it).
	tv := unix.NsecToTimeval(probeTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return 0, 0, fmt.Errorf("bare connect: %w", err)
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	start := time.Now()
	err = unix.Connect(fd, sa)
	connect = time.Since(start)
	if err != nil {
		return connect, 0, fmt.Errorf("bare connect %s: %w", ap, err)
	}
	if info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
		rtt = time.Duration(info.Rtt) * time.Microsecond
	}
	return connect, rtt, nil
}
