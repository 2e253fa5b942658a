package path

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ICMP message types and codes the trace meets (RFC 792, RFC 1812 §5.2.7.1, RFC 4443).
const (
	icmp4Unreachable  = 3
	icmp4TimeExceeded = 11
	icmp6Unreachable  = 1
	icmp6TooBig       = 2
	icmp6TimeExceeded = 3
)

// Origins of a sock_extended_err (linux/errqueue.h).
const (
	originICMP  = 2
	originICMP6 = 3
)

var unreach4 = map[int]string{
	0:  "network unreachable",
	1:  "host unreachable",
	2:  "protocol unreachable",
	3:  "port unreachable",
	4:  "fragmentation needed",
	5:  "source route failed",
	6:  "destination network unknown",
	7:  "destination host unknown",
	9:  "network administratively prohibited",
	10: "host administratively prohibited",
	11: "network unreachable for the type of service",
	12: "host unreachable for the type of service",
	13: "communication administratively prohibited",
	14: "host precedence violation",
	15: "precedence cutoff in effect",
}

var unreach6 = map[int]string{
	0: "no route to destination",
	1: "communication administratively prohibited",
	2: "beyond the scope of the source address",
	3: "address unreachable",
	4: "port unreachable",
	5: "source address failed the ingress/egress policy",
	6: "reject route to destination",
}

// ICMPReason is an ICMP (v6: ICMPv6) type and code in words: "communication administratively
// prohibited", "host unreachable", "time to live exceeded in transit".
func ICMPReason(v6 bool, typ, code int) string {
	var s string
	switch {
	case !v6 && typ == icmp4Unreachable:
		s = unreach4[code]
	case !v6 && typ == icmp4TimeExceeded && code == 0:
		s = "time to live exceeded in transit"
	case !v6 && typ == icmp4TimeExceeded && code == 1:
		s = "fragment reassembly time exceeded"
	case v6 && typ == icmp6Unreachable:
		s = unreach6[code]
	case v6 && typ == icmp6TooBig:
		s = "packet too big"
	case v6 && typ == icmp6TimeExceeded && code == 0:
		s = "hop limit exceeded in transit"
	case v6 && typ == icmp6TimeExceeded && code == 1:
		s = "fragment reassembly time exceeded"
	}
	if s == "" {
		name := "ICMP"
		if v6 {
			name = "ICMPv6"
		}
		s = fmt.Sprintf("%s type %d code %d", name, typ, code)
	}
	return s
}

// Kind tells a firewall's reject from a routing failure by an unreachable's code: "firewall" for
// the administratively prohibited codes (and IPv6's policy and reject-route), "routing" for
// network and host unreachable (no route, an ARP or neighbour that never answered), "port" for
// port unreachable, "" for the rest.
func Kind(v6 bool, typ, code int) string {
	switch {
	case !v6 && typ == icmp4Unreachable:
		switch code {
		case 9, 10, 13:
			return "firewall"
		case 0, 1, 6, 7, 11, 12:
			return "routing"
		case 3:
			return "port"
		}
	case v6 && typ == icmp6Unreachable:
		switch code {
		case 1, 5, 6:
			return "firewall"
		case 0, 2, 3:
			return "routing"
		case 4:
			return "port"
		}
	}
	return ""
}

// Kind of a hop's answer (see the function Kind).
func (h Hop) Kind() string {
	if h.Answer != Unreachable {
		return ""
	}
	a, err := netip.ParseAddr(h.Address)
	return Kind(err == nil && a.Is6() && !a.Is4In6(), h.ICMPType, h.ICMPCode)
}

// extErr is one message from a socket's error queue: a struct sock_extended_err and the address
// of the node that sent the ICMP (SO_EE_OFFENDER).
type extErr struct {
	errno    uint32
	origin   uint8
	typ      uint8
	code     uint8
	info     uint32
	offender netip.Addr
}

// sizeofExtErr is sizeof(struct sock_extended_err): errno u32, origin, type, code, pad u8, info
// and data u32.
const sizeofExtErr = 16

// Address families in a sockaddr (the values are the same on every Linux architecture).
const (
	afInet  = 2
	afInet6 = 10
)

var errShort = errors.New("path: error queue message too short")

// parseExtErr reads the data of an IP_RECVERR or IPV6_RECVERR control message: the
// sock_extended_err in host byte order (order), then the offender's sockaddr_in or sockaddr_in6,
// whose family is in host order and whose address is in network order. An offender of family
// AF_UNSPEC (an error of local origin) leaves offender invalid.
func parseExtErr(b []byte, order binary.ByteOrder) (extErr, error) {
	if len(b) < sizeofExtErr {
		return extErr{}, errShort
	}
	e := extErr{
		errno:  order.Uint32(b[0:4]),
		origin: b[4],
		typ:    b[5],
		code:   b[6],
		info:   order.Uint32(b[8:12]),
	}
	sa := b[sizeofExtErr:]
	if len(sa) < 2 {
		return e, nil
	}
	switch order.Uint16(sa[0:2]) {
	case afInet:
		if len(sa) < 8 {
			return e, errShort
		}
		e.offender = netip.AddrFrom4([4]byte(sa[4:8]))
	case afInet6:
		if len(sa) < 24 {
			return e, errShort
		}
		e.offender = netip.AddrFrom16([16]byte(sa[8:24]))
	}
	return e, nil
}

// hop turns an error queue message into the answer of ttl. ok is false for a message that is not
// an ICMP error (a local one: the caller reads the errno instead).
func (e extErr) hop(ttl int) (Hop, bool) {
	v6 := e.origin == originICMP6
	if e.origin != originICMP && !v6 {
		return Hop{}, false
	}
	h := Hop{TTL: ttl, ICMPType: int(e.typ), ICMPCode: int(e.code), Reason: ICMPReason(v6, int(e.typ), int(e.code))}
	if e.offender.IsValid() {
		h.Address = e.offender.String()
	}
	switch {
	case !v6 && e.typ == icmp4TimeExceeded, v6 && e.typ == icmp6TimeExceeded:
		h.Answer = TimeExceeded
	default:
		h.Answer = Unreachable
	}
	return h, true
}
