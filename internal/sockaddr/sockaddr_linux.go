// Package sockaddr turns an address and port into the raw socket address that the probes which
// drive their own sockets (tcp's connect, path's trace) hand to connect(2): IPv4 for IPv4 and
// IPv4-mapped addresses, IPv6 with its zone's interface index otherwise. It is a leaf the probes
// share, as they may not import each other.
package sockaddr

import (
	"net"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// Of is ap as a socket address, with its family (unix.AF_INET or unix.AF_INET6). The error is an
// IPv6 zone that names no interface.
func Of(ap netip.AddrPort) (unix.Sockaddr, int, error) {
	addr := ap.Addr()
	if addr.Is4() || addr.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: addr.Unmap().As4()}, unix.AF_INET, nil
	}
	zone, err := ZoneIndex(addr)
	if err != nil {
		return nil, 0, err
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: addr.As16(), ZoneId: zone}, unix.AF_INET6, nil
}

// ZoneIndex is the interface index of an IPv6 address's zone ("eth0" or "2"), 0 without one.
func ZoneIndex(a netip.Addr) (uint32, error) {
	z := a.Zone()
	if z == "" {
		return 0, nil
	}
	if n, err := strconv.ParseUint(z, 10, 32); err == nil {
		return uint32(n), nil
	}
	ifi, err := net.InterfaceByName(z)
	if err != nil {
		return 0, err
	}
	return uint32(ifi.Index), nil
}
