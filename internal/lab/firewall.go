package lab

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Action is what the router's firewall does to the packets a rule matches, and so what the venue
// sees.
type Action string

const (
	// Drop discards silently: the venue's connect hears nothing and times out.
	Drop Action = "drop"
	// Reset answers a TCP SYN with a TCP reset, as if nothing listened: ECONNREFUSED at the venue.
	// Non-TCP packets to a resolver get ICMP port-unreachable, as from a stopped server.
	Reset Action = "reset"
	// Prohibit answers with ICMP destination-unreachable, administratively prohibited (type 3
	// code 13): the venue's kernel aborts the connect with EHOSTUNREACH.
	Prohibit Action = "prohibit"
	// Lose drops a random share of the packets (Rule.Percent): a lossy path, made with nftables'
	// numgen where the kernel has no netem.
	Lose Action = "lose"
)

// Rule is one firewall rule on the path from the venue to the server.
type Rule struct {
	Action Action
	To     netip.Addr // IngestAddr or ResolverAddr
	Port   int        // 0 = every port and protocol
	UDP    bool       // Port is a UDP port of the ingest (SRT); otherwise TCP
	// Raw, when set, is the rule itself in nftables syntax (statements separated by "; "), for
	// what the fields above cannot say; the other fields are ignored.
	Raw string
	// Output puts the rule in the router's output chain — what the router itself sends, such as
	// its own ICMP errors — instead of its forward chain.
	Output bool
	// Percent is the share of packets Lose drops, 1 to 99.
	Percent int
}

// LosePort drops percent % of the packets to a TCP port of the ingest, at random.
func LosePort(port, percent int) Rule {
	return Rule{Action: Lose, To: IngestAddr, Port: port, Percent: percent}
}

// Firewall rules for the common scenarios.
func DropPort(port int) Rule     { return Rule{Action: Drop, To: IngestAddr, Port: port} }
func ResetPort(port int) Rule    { return Rule{Action: Reset, To: IngestAddr, Port: port} }
func ProhibitPort(port int) Rule { return Rule{Action: Prohibit, To: IngestAddr, Port: port} }
func DropIngest() Rule           { return Rule{Action: Drop, To: IngestAddr} }
func ResetIngest() Rule          { return Rule{Action: Reset, To: IngestAddr} }
func ProhibitIngest() Rule       { return Rule{Action: Prohibit, To: IngestAddr} }
func DropDNS() Rule              { return Rule{Action: Drop, To: ResolverAddr, Port: 53} }

// DropUDPPort and its kin act on a UDP port of the ingest (SRT): a drop is silence, a reset is
// ICMP port unreachable (as from a port nothing listens on), prohibit is ICMP admin-prohibited.
func DropUDPPort(port int) Rule  { return Rule{Action: Drop, To: IngestAddr, Port: port, UDP: true} }
func ResetUDPPort(port int) Rule { return Rule{Action: Reset, To: IngestAddr, Port: port, UDP: true} }
func ProhibitUDPPort(port int) Rule {
	return Rule{Action: Prohibit, To: IngestAddr, Port: port, UDP: true}
}

// String is the rule in ParseRule's syntax: "drop:1935", "drop:udp/9000", "reset:all", "drop:dns".
func (r Rule) String() string {
	if r.Raw != "" {
		return "nft:" + r.Raw
	}
	what := "all"
	switch {
	case r.To == ResolverAddr:
		what = "dns"
	case r.Port != 0 && r.UDP:
		what = "udp/" + strconv.Itoa(r.Port)
	case r.Port != 0:
		what = strconv.Itoa(r.Port)
	}
	if r.Action == Lose {
		return fmt.Sprintf("lose %d%%:%s", r.Percent, what)
	}
	return string(r.Action) + ":" + what
}

// ParseRule reads ACTION:WHAT, where ACTION is drop, reset or prohibit and WHAT is a TCP port of
// the ingest, udp/PORT (a UDP port of the ingest), "all" (every port of the ingest) or "dns" (the
// resolver's port 53, UDP and TCP).
func ParseRule(s string) (Rule, error) {
	act, what, ok := strings.Cut(s, ":")
	if !ok {
		return Rule{}, fmt.Errorf("lab: rule %q: want ACTION:WHAT, like drop:1935, reset:all or drop:dns", s)
	}
	r := Rule{Action: Action(act), To: IngestAddr}
	switch r.Action {
	case Drop, Reset, Prohibit:
	default:
		return Rule{}, fmt.Errorf("lab: rule %q: action %q is not drop, reset or prohibit", s, act)
	}
	switch what {
	case "all":
	case "dns":
		r.To, r.Port = ResolverAddr, 53
	default:
		port, udp := strings.CutPrefix(what, "udp/")
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return Rule{}, fmt.Errorf("lab: rule %q: %q is not a port, udp/PORT, \"all\" or \"dns\"", s, what)
		}
		r.Port, r.UDP = p, udp
	}
	return r, nil
}

// nft is the rule in nftables syntax, one statement a line.
func (r Rule) nft() []string {
	if r.Raw != "" {
		return strings.Split(r.Raw, "; ")
	}
	verdict := map[Action]string{
		Drop:     "drop",
		Reset:    "reject with tcp reset",
		Prohibit: "reject with icmpx type admin-prohibited",
		Lose:     fmt.Sprintf("numgen random mod 100 < %d drop", r.Percent),
	}[r.Action]
	dst := "ip daddr " + r.To.String()
	if r.To.Is6() {
		dst = "ip6 daddr " + r.To.String()
	}
	if r.Port == 0 {
		if r.Action == Reset {
			// A reset exists only for TCP; anything else (ping) passes.
			return []string{dst + " meta l4proto tcp " + verdict}
		}
		return []string{dst + " " + verdict}
	}
	port := strconv.Itoa(r.Port)
	if r.UDP {
		if r.Action == Reset {
			verdict = "reject with icmpx type port-unreachable"
		}
		return []string{dst + " udp dport " + port + " " + verdict}
	}
	if r.To == ResolverAddr {
		udp := verdict
		if r.Action == Reset {
			udp = "reject with icmpx type port-unreachable"
		}
		return []string{dst + " udp dport " + port + " " + udp, dst + " tcp dport " + port + " " + verdict}
	}
	return []string{dst + " tcp dport " + port + " " + verdict}
}

// firewallTable is the lab's own nftables table in the router namespace.
const firewallTable = "ingestprobe_lab"

// nftRuleset replaces the lab's table in one transaction: the table is declared (so the delete
// cannot fail on a first run), deleted, and written again with the rules.
func nftRuleset(rules []Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %[1]s\ndelete table inet %[1]s\ntable inet %[1]s {\n", firewallTable)
	b.WriteString("\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n")
	for _, r := range rules {
		if r.Output {
			continue
		}
		for _, line := range r.nft() {
			fmt.Fprintf(&b, "\t\t%s\n", line)
		}
	}
	b.WriteString("\t}\n")
	if slices.ContainsFunc(rules, func(r Rule) bool { return r.Output }) {
		b.WriteString("\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n")
		for _, r := range rules {
			if !r.Output {
				continue
			}
			for _, line := range r.nft() {
				fmt.Fprintf(&b, "\t\t%s\n", line)
			}
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return b.String()
}
