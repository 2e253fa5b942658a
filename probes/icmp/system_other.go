//go:build !windows

package icmp

import (
	"context"
	"net/netip"
	"time"
)

// system is the burst in the given mode through an ICMP socket (p.echo).
func (p *Probe) system(ctx context.Context, addr netip.Addr, privileged bool, count int, interval, wait time.Duration) (stats, bool, error) {
	return p.echo(ctx, addr, privileged, count, interval, wait)
}

var route = udpRoute
