package lab

import "net/netip"

// The routed lab (Options.Routed) puts a second router between the venue's router and the
// server, so a trace has hops to name:
//
//	venue 10.231.1.2 ── 10.231.1.1 router 10.231.3.1 ── 10.231.3.2 router2 10.231.2.1 ── server 10.231.2.10
//
// Router 1 is the venue's firewall (SetFirewall), router 2 a router upstream of the venue
// (SetFirewallOn(Router2Of…)); the core link between them is where SetCoreMTU narrows the path.
var (
	Router1Core = netip.MustParseAddr("10.231.3.1")
	Router2Core = netip.MustParseAddr("10.231.3.2") // router 2's address towards the venue: what a trace sees at hop 2
)

// IPv6 addresses (Options.IPv6): the same topology, one /64 per link. They are unique local
// addresses (fd00::/8) that exist only inside the lab's namespaces.
var (
	VenueAddr6    = netip.MustParseAddr("fd31:1::2")
	RouterVenue6  = netip.MustParseAddr("fd31:1::1")
	Router1Core6  = netip.MustParseAddr("fd31:3::1")
	Router2Core6  = netip.MustParseAddr("fd31:3::2")
	RouterServer6 = netip.MustParseAddr("fd31:2::1")
	IngestAddr6   = netip.MustParseAddr("fd31:2::10") // nginx listens here too with Options.IPv6
)

// NameDual has an A (IngestAddr) and an AAAA (IngestAddr6) record; it exists with Options.IPv6.
const NameDual = "dual.lab.test"

// DropIngest6 drops everything to the ingest's IPv6 address: a venue whose IPv6 is broken.
func DropIngest6() Rule { return Rule{Action: Drop, To: IngestAddr6} }

// DropFragNeeded drops the ICMP "fragmentation needed" (type 3 code 4) and ICMPv6 "packet too
// big" a router sends itself when a packet is too big for its next link: on both routers, the
// filter that turns a narrow core link into a PMTU black hole. (The router that meets the narrow
// link is the one that answers, so the rule is in its output chain, not its forward chain.)
func DropFragNeeded() Rule {
	return Rule{Raw: "icmp type destination-unreachable icmp code frag-needed drop; icmpv6 type packet-too-big drop", Output: true}
}
