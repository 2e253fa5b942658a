package diagnose

import (
	"fmt"
	"net/netip"

	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// pathText is what the traces of a failed ingest port add to its finding: where the SYNs stopped,
// in words for the message and the remedy; the same as evidence.
type pathText struct {
	drop   string // " after hop 2 (10.0.2.2), upstream of this network"; "" when not known
	reject string // " by 10.0.1.1 (hop 1) with ICMP communication administratively prohibited, a firewall's reject"
	reset  string // " with a TCP reset at hop 1, before the server (hop 3): a firewall on the path sends it"
	altHop int    // the hop at which the alternative port reached the server; 0 = not traced
	inside bool   // the last hop that answered is inside this network (private addresses only)
	placed bool   // inside or upstream could be told: the server has a public address
}

// traceOf is the trace of address and port, if one ran.
func traceOf(traces []path.Result, address string, port int) (path.Result, bool) {
	for _, t := range traces {
		if t.Address == address && t.Port == port {
			return t, true
		}
	}
	return path.Result{}, false
}

// describePath reads the traces of the ingest port in and of the alternative port alt (0: none)
// on the same address, and adds their evidence to ev.
func describePath(in *tcp.Result, alt int, traces []path.Result, ev map[string]any) pathText {
	var pt pathText
	if a, ok := traceOf(traces, in.Address, alt); ok && a.Reached {
		pt.altHop = a.ReachedTTL
		ev["alt_reached_ttl"] = a.ReachedTTL
	}
	tr, ok := traceOf(traces, in.Address, in.Port)
	if !ok {
		return pt
	}
	if !tr.OK {
		ev["path"] = tr.Reason
		return pt
	}
	ev["path_sent"] = tr.Sent
	term, ended := tr.Terminal()
	last, seen := tr.LastRouter()
	if !ended {
		if !seen {
			ev["path"] = "no router answered a traced SYN"
			return pt
		}
		ev["last_hop"] = map[string]any{"ttl": last.TTL, "address": last.Address}
		pt.inside = insideNetwork(tr, in.Address)
		loc := location(tr, in.Address)
		pt.placed = loc != ""
		pt.drop = fmt.Sprintf(" after hop %d (%s)%s", last.TTL, last.Address, loc)
		return pt
	}
	switch term.Answer {
	case path.Unreachable:
		by := map[string]any{"ttl": term.TTL, "address": term.Address, "icmp_type": term.ICMPType, "icmp_code": term.ICMPCode,
			"reason": term.Reason}
		where := fmt.Sprintf("answering TTL %d", term.TTL)
		if hop := hopOf(tr, term.Address); hop > 0 {
			by["hop"] = hop
			where = fmt.Sprintf("hop %d", hop)
		}
		kind := term.Kind()
		if kind != "" {
			by["kind"] = kind
		}
		ev["rejected_by"] = by
		pt.reject = fmt.Sprintf(" by %s (%s) with ICMP %s%s", term.Address, where, term.Reason, map[string]string{
			"firewall": ", a firewall's reject",
			"routing":  ", a routing failure rather than a firewall",
			"port":     ", as from a host where nothing listens on the port",
		}[kind])
	case path.Reset:
		ev["reset_ttl"] = term.TTL
		if pt.altHop > 0 && term.TTL < pt.altHop {
			pt.reset = fmt.Sprintf(" with a TCP reset at hop %d, before the server (hop %d): a firewall on the path sends it, not the server", term.TTL, pt.altHop)
		}
	case path.LocalError:
		ev["path"] = "the traced connect failed on this host: " + term.Reason
	}
	return pt
}

// hopOf is the lowest TTL at which address answered a time-exceeded: the hop a router that
// rejects (answering a higher TTL, since it rejects what it would forward) sits at. 0 = none.
func hopOf(tr path.Result, address string) int {
	for _, h := range tr.Hops {
		if h.Answer == path.TimeExceeded && h.Address == address {
			return h.TTL
		}
	}
	return 0
}

// insideNetwork says every router that answered, up to the last, has a private address while the
// server has a public one: the SYNs never left the venue's own network.
func insideNetwork(tr path.Result, server string) bool {
	s, err := netip.ParseAddr(server)
	if err != nil || s.IsPrivate() || s.IsLoopback() {
		return false
	}
	any := false
	for _, h := range tr.Hops {
		if h.Answer != path.TimeExceeded {
			continue
		}
		a, err := netip.ParseAddr(h.Address)
		if err != nil || !a.IsPrivate() {
			return false
		}
		any = true
	}
	return any
}

// location places the last hop for a server with a public address: inside this network (a venue
// firewall) or upstream of it. A server with a private address (a lab, a VPN) says nothing either
// way.
func location(tr path.Result, server string) string {
	s, err := netip.ParseAddr(server)
	if err != nil || s.IsPrivate() || s.IsLoopback() {
		return ""
	}
	if insideNetwork(tr, server) {
		return ", inside this network (venue firewall)"
	}
	return ", upstream of this network"
}
