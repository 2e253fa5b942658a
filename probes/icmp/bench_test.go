//go:build unix

package icmp

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBurst runs whole bursts of the default shape (5 echoes, default interval and reply
// wait) to 127.0.0.1 through Probe.Run, once through the raw socket and once through the
// unprivileged ping socket, and reports the process's CPU (user + system, from getrusage) and the
// wall time per burst. A mode this process may not open is skipped, saying why.
//
//	go test -run '^$' -bench BenchmarkBurst -benchtime 40x ./probes/icmp/
func BenchmarkBurst(b *testing.B) {
	for _, mode := range []struct {
		name       string
		privileged bool
	}{{"raw", true}, {"ping", false}} {
		b.Run(mode.name, func(b *testing.B) {
			p := New(Config{Address: netip.MustParseAddr("127.0.0.1"), PrivilegedFirst: mode.privileged})
			ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
			defer cancel()
			if r := p.Run(ctx); r.Error != OK || r.Privileged != mode.privileged {
				b.Skipf("this process cannot burst through the %s socket: got error %q, privileged %v (ping_group_range %q, socket errnos unprivileged %q, raw %q)",
					mode.name, r.Error, r.Privileged, readPingGroupRange(), r.ErrnoUnprivileged, r.ErrnoPrivileged)
			}
			before := cpuTime(b)
			start := time.Now()
			n := 0
			for b.Loop() {
				r := p.Run(ctx)
				if r.Error != OK || r.Sent != DefaultCount || r.Received != r.Sent {
					b.Fatalf("got %+v; want %d of %d echoes answered", r, DefaultCount, DefaultCount)
				}
				n++
			}
			wall := time.Since(start)
			cpu := cpuTime(b) - before
			b.ReportMetric(float64(cpu)/float64(time.Millisecond)/float64(n), "cpu-ms/burst")
			b.ReportMetric(float64(wall)/float64(time.Millisecond)/float64(n), "wall-ms/burst")
		})
	}
}

// cpuTime is the CPU this process has used so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
