//go:build !linux

package tcp

import (
	"context"
	"time"
)

// connect dials with Go's network poller (dial.go). The kernel's RTT is not read on these systems.
func (p *Probe) connect(ctx context.Context) (connecting, end time.Time, rtt time.Duration, err error) {
	return p.dialConnect(ctx, nil)
}
