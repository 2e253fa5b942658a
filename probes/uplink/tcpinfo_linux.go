//go:build linux

package uplink

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// readTCPInfo reads TCP_INFO from c's socket (Linux). ok is false when c is not a TCP socket or
// the kernel refuses; the soak then measures by the server's RTMP Acknowledgements.
func readTCPInfo(c net.Conn) (st tcpStats, ok bool) {
	sc, isSC := c.(syscall.Conn)
	if !isSC {
		return st, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return st, false
	}
	var (
		info *unix.TCPInfo
		gerr error
	)
	if err := rc.Control(func(fd uintptr) {
		info, gerr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil || gerr != nil || info == nil {
		return st, false
	}
	return tcpStats{
		bytesAcked:   info.Bytes_acked,
		rtt:          time.Duration(info.Rtt) * time.Microsecond,
		minRTT:       time.Duration(info.Min_rtt) * time.Microsecond,
		dataSegsOut:  info.Data_segs_out,
		retrans:      info.Total_retrans,
		notsent:      info.Notsent_bytes,
		deliveryRate: info.Delivery_rate,
	}, true
}

// limitUnsent sets TCP_NOTSENT_LOWAT: the socket takes more only when less than n bytes wait
// unsent, so what the network cannot carry waits in the soak (where it is counted as backlog, as
// an encoder's output queue) rather than in megabytes of socket buffer that would delay the
// release of the stream for seconds after the soak.
func limitUnsent(c net.Conn, n int) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n)
	})
}
