//go:build !linux

package bench

import (
	"net/netip"
	"time"
)

// BareConnect is the reference of the timing phase: connect(2) bounded by SO_SNDTIMEO and the
// kernel's TCP_INFO RTT, as Linux gives them.
func BareConnect(ap netip.AddrPort) (connect, rtt time.Duration, err error) {
	return 0, 0, errOnlyLinux("bare connect: SO_SNDTIMEO on connect(2) and TCP_INFO")
}
