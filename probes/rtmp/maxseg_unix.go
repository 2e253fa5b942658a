//go:build unix

package rtmp

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// maxSegment is a dialer Control that sets TCP_MAXSEG before connect(2).
func maxSegment(mss int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG, mss)
		}); err != nil {
			return err
		}
		return serr
	}
}
