//go:build linux

package path

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// On loopback there is no router: TTL 1 reaches the server, which answers with a SYN-ACK (a
// listener) or a reset (a closed port). The TTLs above it are not listed.
func TestLoopback(t *testing.T) {
	defer goleak.VerifyNone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := netip.MustParseAddrPort(ln.Addr().String())
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(closedLn.Addr().String())
	closedLn.Close()

	for _, tt := range []struct {
		name string
		ap   netip.AddrPort
		want Answer
	}{{"listener", open, SynAck}, {"closed port", closed, Reset}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			r := New(Config{Address: tt.ap}).Run(ctx)
			if !r.OK || !r.Reached || r.ReachedTTL != 1 || len(r.Hops) != 1 || r.Hops[0].Answer != tt.want || r.Hops[0].Address != "127.0.0.1" {
				t.Fatalf("got %+v; want reached at ttl 1 with %s", r, tt.want)
			}
			if r.Sent < 1 || r.Sent > WaveSize {
				t.Errorf("sent: got %d; want 1 to %d", r.Sent, WaveSize)
			}
			if r.Seconds > 1 {
				t.Errorf("took %.3f s; want the wave to end as soon as ttl 1 answered", r.Seconds)
			}
		})
	}
}
