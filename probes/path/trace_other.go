//go:build !linux

package path

import (
	"context"
	"runtime"
)

// trace cannot run here: reading a router's ICMP answer to a TCP SYN without raw sockets needs
// Linux's IP_RECVERR, and this package sends no raw packets.
func (p *Probe) trace(_ context.Context, r *Result) {
	r.Error, r.Reason = Unsupported, "path not traced: tracing TCP without raw sockets needs Linux (IP_RECVERR); this is "+runtime.GOOS
}
