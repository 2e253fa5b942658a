//go:build linux

package lab

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// routedNetwork wires the lab of Options.Routed and Options.IPv6: venue ↔ router ↔ server as the
// standard lab does, with router2 between router and server when routed, and IPv6 addresses on
// every link beside the IPv4 ones when IPv6. IPv6 addresses are added without duplicate address
// detection (nodad): they are usable at once, and nothing else on these links could hold them.
func (l *Lab) routedNetwork(ctx context.Context) error {
	v, r, s, r2 := l.Venue, l.Router, l.Server, l.Router2
	six := l.opts.IPv6
	// upstream is the namespace on the server's side of router 1: router2 or the server itself.
	upstream := s
	if r2 != "" {
		upstream = r2
	}
	steps := [][]string{{"netns", "add", v}, {"netns", "add", r}, {"netns", "add", s}}
	if r2 != "" {
		steps = append(steps, []string{"netns", "add", r2})
	}
	addr := func(ns string, a netip.Addr, bits int, dev string) []string {
		args := []string{"-n", ns, "addr", "add", netip.PrefixFrom(a, bits).String(), "dev", dev}
		if a.Is6() {
			args = append(args, "nodad")
		}
		return args
	}
	steps = append(steps,
		[]string{"link", "add", "eth0", "netns", v, "type", "veth", "peer", "name", "venue0", "netns", r},
		[]string{"link", "add", "eth0", "netns", s, "type", "veth", "peer", "name", "server0", "netns", upstream},
		addr(v, VenueAddr, 24, "eth0"),
		addr(r, RouterVenue, 24, "venue0"),
		addr(upstream, RouterServer, 24, "server0"),
		addr(s, IngestAddr, 24, "eth0"),
		addr(s, ResolverAddr, 24, "eth0"),
	)
	if six {
		steps = append(steps,
			addr(v, VenueAddr6, 64, "eth0"),
			addr(r, RouterVenue6, 64, "venue0"),
			addr(upstream, RouterServer6, 64, "server0"),
			addr(s, IngestAddr6, 64, "eth0"),
		)
	}
	if r2 != "" {
		steps = append(steps,
			[]string{"link", "add", "core0", "netns", r, "type", "veth", "peer", "name", "core0", "netns", r2},
			addr(r, Router1Core, 24, "core0"),
			addr(r2, Router2Core, 24, "core0"),
		)
		if six {
			steps = append(steps, addr(r, Router1Core6, 64, "core0"), addr(r2, Router2Core6, 64, "core0"))
		}
	}
	ups := [][2]string{{v, "lo"}, {r, "lo"}, {s, "lo"}, {v, "eth0"}, {r, "venue0"}, {upstream, "server0"}, {s, "eth0"}}
	if r2 != "" {
		ups = append(ups, [2]string{r2, "lo"}, [2]string{r, "core0"}, [2]string{r2, "core0"})
	}
	for _, u := range ups {
		steps = append(steps, []string{"-n", u[0], "link", "set", u[1], "up"})
	}
	steps = append(steps,
		[]string{"-n", v, "route", "add", "default", "via", RouterVenue.String()},
		[]string{"-n", s, "route", "add", "default", "via", RouterServer.String()},
	)
	if six {
		steps = append(steps,
			[]string{"-n", v, "-6", "route", "add", "default", "via", RouterVenue6.String()},
			[]string{"-n", s, "-6", "route", "add", "default", "via", RouterServer6.String()},
		)
	}
	if r2 != "" {
		steps = append(steps,
			[]string{"-n", r, "route", "add", "10.231.2.0/24", "via", Router2Core.String()},
			[]string{"-n", r2, "route", "add", "10.231.1.0/24", "via", Router1Core.String()},
		)
		if six {
			steps = append(steps,
				[]string{"-n", r, "-6", "route", "add", "fd31:2::/64", "via", Router2Core6.String()},
				[]string{"-n", r2, "-6", "route", "add", "fd31:1::/64", "via", Router1Core6.String()},
			)
		}
	}
	for _, args := range steps {
		if _, err := l.run(ctx, l.tools.IP, args, ""); err != nil {
			return err
		}
	}
	for _, ns := range []string{r, r2} {
		if ns == "" {
			continue
		}
		if err := l.forward(ns); err != nil {
			return err
		}
	}
	return l.venueResolver()
}

// ingest6 is IngestAddr6 with Options.IPv6, nothing otherwise.
func (l *Lab) ingest6() []netip.Addr {
	if l.opts.IPv6 {
		return []netip.Addr{IngestAddr6}
	}
	return nil
}

// SetFirewallOn replaces the rules of router namespace ns (l.Router or l.Router2), atomically, as
// SetFirewall does for the venue's router.
func (l *Lab) SetFirewallOn(ctx context.Context, ns string, rules ...Rule) error {
	if ns == "" || (ns != l.Router && ns != l.Router2) {
		return fmt.Errorf("lab: %q is not a router of lab %s", ns, l.ID)
	}
	_, err := l.run(ctx, l.tools.IP, []string{"netns", "exec", ns, l.tools.NFT, "-f", "-"}, nftRuleset(rules))
	if err == nil {
		names := make([]string, len(rules))
		for i, r := range rules {
			names[i] = r.String()
		}
		l.logf("firewall on %s: [%s]", strings.TrimPrefix(ns, Prefix+l.ID+"-"), strings.Join(names, " "))
	}
	return err
}

// SetCoreMTU sets the MTU of the link between the two routers (Options.Routed), and flushes the
// route caches of the venue and the server, so neither end keeps a path MTU it learnt before.
// 1500 restores it.
func (l *Lab) SetCoreMTU(ctx context.Context, mtu int) error {
	if l.Router2 == "" {
		return fmt.Errorf("lab: SetCoreMTU needs a routed lab (Options.Routed)")
	}
	steps := [][]string{
		{"-n", l.Router, "link", "set", "core0", "mtu", strconv.Itoa(mtu)},
		{"-n", l.Router2, "link", "set", "core0", "mtu", strconv.Itoa(mtu)},
	}
	for _, ns := range []string{l.Venue, l.Server} {
		steps = append(steps, []string{"-n", ns, "route", "flush", "cache"})
		if l.opts.IPv6 {
			steps = append(steps, []string{"-n", ns, "-6", "route", "flush", "cache"})
		}
	}
	for _, args := range steps {
		if _, err := l.run(ctx, l.tools.IP, args, ""); err != nil {
			return err
		}
	}
	l.logf("core link mtu %d", mtu)
	return nil
}
