//go:build linux

package live

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSample: one sample — the inet_diag dump of both families, parsing, matching, naming
// (once per connection), windows — with n publishers to one ingest on loopback. At live_every 5 s,
// a sample's time over 5 s is the share of a core the watch costs.
func BenchmarkSample(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() { io.Copy(io.Discard, c); c.Close() }()
				}
			}()
			var conns []net.Conn
			for range n {
				c, err := net.Dial("tcp4", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				c.Write(make([]byte, 1000))
				conns = append(conns, c)
			}
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			w, err := NewWatcher()
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			// The benchmark's own connections are this process's: count them as publishers here.
			w.owners = func(wanted map[uint64]bool) (map[uint64]owner, bool) {
				out := map[uint64]owner{}
				for ino := range wanted {
					out[ino] = owner{pid: 1, name: "encoder"}
				}
				return out, true
			}
			ap := netip.MustParseAddrPort(ln.Addr().String())
			w.Set(Target{Name: "main", Addrs: []netip.Addr{ap.Addr()}, Port: int(ap.Port())})
			b.ReportAllocs()
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			for range b.N {
				if err := w.Sample(context.Background()); err != nil {
					b.Fatal(err)
				}
				if r := w.Window("main"); r.Publishers != n {
					b.Fatalf("%d publishers; want %d", r.Publishers, n)
				}
			}
			b.StopTimer()
			// CPU, not wall time: on a loaded machine the wall time is mostly waiting for the
			// scheduler after the kernel's answer.
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(100*cpu.Seconds()/float64(b.N)/DefaultEvery.Seconds(), "%core@5s")
		})
	}
}
