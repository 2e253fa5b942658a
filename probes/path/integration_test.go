//go:build linux

package path

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ingestprobe/ingestprobe/internal/lab"
)

// traceFromVenue runs a trace inside the lab's venue namespace.
func traceFromVenue(t *testing.T, l *lab.Lab, ap netip.AddrPort) Result {
	t.Helper()
	var r Result
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := l.Do(l.Venue, func() error {
		r = New(Config{Address: ap}).Run(ctx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("trace to %s: ok %v reached %v at %d, %d SYNs on %d flows in %.3f s, hops %+v", ap, r.OK, r.Reached, r.ReachedTTL, r.Sent, r.Flows, r.Seconds, r.Hops)
	return r
}

func TestIntegrationTraceRouted(t *testing.T) {
	// Registered first, so it runs last: after the lab's own cleanup has stopped its servers.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	l := lab.Start(t, lab.Options{Routed: true, IPv6: true})
	ctx := t.Context()
	to := func(a netip.Addr, port int) netip.AddrPort { return netip.AddrPortFrom(a, uint16(port)) }

	t.Run("open", func(t *testing.T) {
		for _, a := range []netip.Addr{lab.IngestAddr, lab.IngestAddr6} {
			r := traceFromVenue(t, l, to(a, 443))
			if !r.OK || !r.Reached || r.ReachedTTL != 3 {
				t.Fatalf("got ok %v reached %v at %d; want the server reached at hop 3", r.OK, r.Reached, r.ReachedTTL)
			}
			want := []string{lab.RouterVenue.String(), lab.Router2Core.String(), a.String()}
			if a.Is6() {
				want = []string{lab.RouterVenue6.String(), lab.Router2Core6.String(), a.String()}
			}
			for i, h := range r.Hops {
				if h.Address != want[i] {
					t.Errorf("hop %d: got %s; want %s", h.TTL, h.Address, want[i])
				}
			}
			if h := r.Hops[2]; h.Answer != SynAck {
				t.Errorf("hop 3: got %s; want syn_ack", h.Answer)
			}
			// Every hop answers within the pace: one flow, and no SYN past the server.
			if r.Flows != 1 || r.Sent != 3 {
				t.Errorf("got %d flows, %d SYNs; want 1 flow, 3 SYNs", r.Flows, r.Sent)
			}
		}
	})
	t.Run("router 2 drops 1935", func(t *testing.T) {
		if err := l.SetFirewallOn(ctx, l.Router2, lab.DropPort(1935)); err != nil {
			t.Fatal(err)
		}
		defer l.SetFirewallOn(context.Background(), l.Router2)
		r := traceFromVenue(t, l, to(lab.IngestAddr, 1935))
		last, ok := r.LastRouter()
		if !r.OK || r.Reached || !ok || last.TTL != 2 || last.Address != lab.Router2Core.String() || !r.Dropped() {
			t.Fatalf("got ok %v reached %v last %+v; want dropped after hop 2 (%s)", r.OK, r.Reached, last, lab.Router2Core)
		}
	})
	t.Run("router 1 rejects 1935", func(t *testing.T) {
		if err := l.SetFirewall(ctx, lab.ProhibitPort(1935)); err != nil {
			t.Fatal(err)
		}
		defer l.SetFirewall(context.Background())
		r := traceFromVenue(t, l, to(lab.IngestAddr, 1935))
		h, ok := r.Terminal()
		if !ok || h.Answer != Unreachable || h.Address != lab.RouterVenue.String() || h.TTL != 2 || h.Kind() != "firewall" ||
			h.Reason != "communication administratively prohibited" {
			t.Fatalf("got terminal %+v; want router 1 (%s) at hop 2 rejecting, administratively prohibited", h, lab.RouterVenue)
		}
		// No SYN past the reject: the router's ICMP rate limit is left for the connects.
		if r.Sent != 2 {
			t.Errorf("sent %d SYNs; want 2", r.Sent)
		}
	})
	t.Run("router 1 rejects 1935 over IPv6", func(t *testing.T) {
		if err := l.SetFirewall(ctx, lab.Rule{Action: lab.Prohibit, To: lab.IngestAddr6, Port: 1935}); err != nil {
			t.Fatal(err)
		}
		defer l.SetFirewall(context.Background())
		r := traceFromVenue(t, l, to(lab.IngestAddr6, 1935))
		h, ok := r.Terminal()
		if !ok || h.Answer != Unreachable || h.Address != lab.RouterVenue6.String() || h.TTL != 2 || h.Kind() != "firewall" {
			t.Fatalf("got terminal %+v; want router 1 (%s) at hop 2 rejecting, administratively prohibited", h, lab.RouterVenue6)
		}
	})
}
