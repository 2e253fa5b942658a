//go:build !linux

package tcp

import (
	"context"
	"net"
	"syscall"
	"time"
)

// connect dials with Go's network poller: the clock starts in the dialer's Control hook, right
// before connect(2), so socket creation is not counted as network time. The kernel's RTT is not
// read on these systems.
func (p *Probe) connect(ctx context.Context) (connecting, end time.Time, rtt time.Duration, err error) {
	d := net.Dialer{
		// The connection is closed at once: keep-alive would only add setsockopt calls inside the
		// timed window.
		KeepAlive: -1,
		ControlContext: func(context.Context, string, string, syscall.RawConn) error {
			connecting = p.now()
			return nil
		},
	}
	conn, err := d.DialContext(ctx, "tcp", p.cfg.Address.String())
	end = p.now()
	if err == nil {
		conn.Close()
	}
	return connecting, end, 0, err
}
