package tcp

import (
	"context"
	"net"
	"syscall"
	"time"
)

// dialConnect dials with Go's network poller: the clock starts in the dialer's Control hook, right
// before connect(2), so socket creation is not counted as network time. rtt reads the kernel's RTT
// of the connection where the OS gives it (nil: not read).
func (p *Probe) dialConnect(ctx context.Context, rtt func(net.Conn) time.Duration) (connecting, end time.Time, d time.Duration, err error) {
	dialer := net.Dialer{
		// The connection is closed at once: keep-alive would only add setsockopt calls inside the
		// timed window.
		KeepAlive: -1,
		ControlContext: func(context.Context, string, string, syscall.RawConn) error {
			connecting = p.now()
			return nil
		},
	}
	conn, err := dialer.DialContext(ctx, "tcp", p.cfg.Address.String())
	end = p.now()
	if err != nil {
		return connecting, end, 0, err
	}
	if rtt != nil {
		d = rtt(conn)
	}
	p.keepOrClose(conn)
	return connecting, end, d, nil
}
