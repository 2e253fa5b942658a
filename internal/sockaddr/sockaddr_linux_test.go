package sockaddr

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOf(t *testing.T) {
	sa, fam, err := Of(netip.MustParseAddrPort("[::ffff:10.0.0.5]:1935"))
	if v4, ok := sa.(*unix.SockaddrInet4); err != nil || fam != unix.AF_INET || !ok || v4.Port != 1935 || v4.Addr != [4]byte{10, 0, 0, 5} {
		t.Errorf("mapped IPv4: got %#v, %d, %v", sa, fam, err)
	}
	sa, fam, err = Of(netip.MustParseAddrPort("[fe80::1%2]:443"))
	if v6, ok := sa.(*unix.SockaddrInet6); err != nil || fam != unix.AF_INET6 || !ok || v6.ZoneId != 2 || v6.Port != 443 {
		t.Errorf("IPv6 with a numeric zone: got %#v, %d, %v", sa, fam, err)
	}
	if idx, err := ZoneIndex(netip.MustParseAddr("fe80::1%lo")); err != nil || idx == 0 {
		t.Errorf("zone lo: got %d, %v; want loopback's index", idx, err)
	}
	if _, _, err := Of(netip.MustParseAddrPort("[fe80::1%no-such-if0]:443")); err == nil {
		t.Error("a zone naming no interface: got no error")
	}
}
