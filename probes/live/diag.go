package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// The inet_diag reply, as linux/inet_diag.h lays it out: struct inet_diag_msg (72 bytes), then
// netlink attributes; INET_DIAG_INFO carries struct tcp_info (linux/tcp.h), whose length grows
// with the kernel — a field past the end of an older kernel's struct reads as 0.
const (
	sizeofDiagMsg = 72
	attrInfo      = 2 // INET_DIAG_INFO
	afInet        = 2
	afInet6       = 10
	tcpEstablish  = 1 // TCP_ESTABLISHED
)

// Offsets in struct tcp_info (pinned against golang.org/x/sys/unix.TCPInfo by a test on Linux).
const (
	tiUnacked      = 24 // tcpi_unacked, segments
	tiLastAckRecv  = 56 // ms
	tiSndMSS       = 16
	tiRTT          = 68 // µs
	tiRTTVar       = 72 // µs
	tiTotalRetrans = 100
	tiBytesAcked   = 120
	tiSegsOut      = 136
	tiNotsent      = 144
	tiDeliveryRate = 160
	tiBytesSent    = 200
	tiBytesRetrans = 208
)

// parseDiag reads one SOCK_DIAG_BY_FAMILY reply (the message's payload, after its netlink
// header). ok is false for a socket that is not an established TCP connection with statistics.
func parseDiag(b []byte) (c Conn, ok bool, err error) {
	if len(b) < sizeofDiagMsg {
		return c, false, fmt.Errorf("inet_diag: reply of %d bytes, want at least %d", len(b), sizeofDiagMsg)
	}
	family, state := b[0], b[1]
	if state != tcpEstablish {
		return c, false, nil
	}
	sport, dport := binary.BigEndian.Uint16(b[4:6]), binary.BigEndian.Uint16(b[6:8])
	var src, dst netip.Addr
	switch family {
	case afInet:
		src, dst = netip.AddrFrom4([4]byte(b[8:12])), netip.AddrFrom4([4]byte(b[24:28]))
	case afInet6:
		src, dst = netip.AddrFrom16([16]byte(b[8:24])).Unmap(), netip.AddrFrom16([16]byte(b[24:40])).Unmap()
	default:
		return c, false, nil
	}
	ne := binary.NativeEndian
	c.Local, c.Remote = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	c.ID = uint64(ne.Uint32(b[44:48])) | uint64(ne.Uint32(b[48:52]))<<32
	wqueue := ne.Uint32(b[60:64]) // write_seq - snd_una: in flight plus not yet sent
	c.Inode = uint64(ne.Uint32(b[68:72]))
	info, found, err := diagAttr(b[sizeofDiagMsg:], attrInfo)
	if err != nil || !found {
		return c, false, err
	}
	u32 := func(off int) uint64 {
		if off+4 > len(info) {
			return 0
		}
		return uint64(ne.Uint32(info[off:]))
	}
	u64 := func(off int) uint64 {
		if off+8 > len(info) {
			return 0
		}
		return ne.Uint64(info[off:])
	}
	c.BytesAcked = u64(tiBytesAcked)
	c.SegsOut = u32(tiSegsOut)
	c.TotalRetrans = u32(tiTotalRetrans)
	c.NotsentBytes = u32(tiNotsent)
	c.RTT = time.Duration(u32(tiRTT)) * time.Microsecond
	c.RTTVar = time.Duration(u32(tiRTTVar)) * time.Microsecond
	c.DeliveryRate = u64(tiDeliveryRate)
	c.LastAckRecv = time.Duration(u32(tiLastAckRecv)) * time.Millisecond
	if uint64(wqueue) >= c.NotsentBytes {
		c.Unacked = uint64(wqueue) - c.NotsentBytes
	} else {
		c.Unacked = u32(tiUnacked) * u32(tiSndMSS) // a kernel that reports no wqueue
	}
	return c, true, nil
}

// diagAttr finds attribute typ in a run of netlink attributes (struct nlattr, 4-byte aligned).
func diagAttr(b []byte, typ uint16) ([]byte, bool, error) {
	ne := binary.NativeEndian
	for len(b) >= 4 {
		l, t := int(ne.Uint16(b[0:2])), ne.Uint16(b[2:4])&0x3fff
		if l < 4 || l > len(b) {
			return nil, false, errors.New("inet_diag: malformed attribute")
		}
		if t == typ {
			return b[4:l], true, nil
		}
		next := (l + 3) &^ 3
		if next > len(b) {
			break
		}
		b = b[next:]
	}
	return nil, false, nil
}
