package diagnose

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// Input is everything known about one target run.
type Input struct {
	URL      *ingesturl.URL // nil when the URL did not parse
	URLError error          // why it did not parse; never holds the URL itself
	Provider provider.Profile
	Results  record.Results

	// What the URL doctor judges txTime and the clock by (see url.go).
	Now            time.Time      // this host's clock when the run started, in the zone to report; zero skips the expiry checks
	MinValidity    time.Duration  // url.txtime_short under this much validity left; 0 = DefaultMinURLValidity
	EventEnd       time.Time      // url.txtime_short when the URL expires before this; zero = none
	ClockSkewWarn  time.Duration  // 0 = DefaultClockSkewWarn
	ClockSkewError time.Duration  // 0 = DefaultClockSkewError
	ICMP           ICMPThresholds // zero: the defaults
}

// Findings diagnoses one target run. The order is the order of the pipeline: URL, clock, DNS, TCP, SRT, RTMP, ICMP, uplink.
func Findings(in Input) []record.Finding {
	var out []record.Finding
	if in.URL == nil {
		reason := "it is empty"
		var pe *ingesturl.ParseError
		switch {
		case errors.As(in.URLError, &pe):
			reason = pe.Reason // the message says "cannot be parsed" in its own words
		case in.URLError != nil:
			reason = in.URLError.Error()
		}
		out = append(out, record.Finding{
			Code:     "url.invalid",
			Severity: record.Error,
			Message:  "the publishing URL cannot be parsed: " + reason,
			Remedy:   "Copy the push URL again from the provider's console; it looks like rtmp://push.example.com/live/stream?txSecret=…&txTime=….",
		})
		return append(out, clockFindings(in)...)
	}
	out = append(out, urlFindings(in)...)
	out = append(out, ingestFindings(in)...)
	out = append(out, clockFindings(in)...)
	if d := in.Results.DNS; d != nil {
		out = append(out, dnsFindings(d, in.Provider)...)
	}
	if in.URL.Scheme != "srt" { // srt:// has no TCP ingest port: its TCP connects are alternatives
		out = append(out, tcpFindings(in.URL.Port, in.Results.TCP, in.Results.Path)...)
	}
	out = append(out, srtFindings(in.Results.SRT, in.Results.TCP, in.Results.ICMP)...)
	out = append(out, netFindings(in.Results, rtmpFindings(rtmpTarget{app: in.URL.App, host: in.URL.Host, sig: signatureOf(in.Results.URL, out)}, in.Results.RTMP))...)
	out = append(out, ipv6Findings(in.Results)...)
	out = append(out, icmpFindings(in.Results.ICMP, in.ICMP, anyConnected(in.Results.TCP) || srtReached(in.Results.SRT))...)
	out = append(out, Live(in.Results.Live)...)
	out = append(out, uplinkFindings(in.Results.Uplink)...)
	return likelyCauses(out)
}

func dnsFindings(d *dns.Result, p provider.Profile) []record.Finding {
	ev := map[string]any{"host": d.Host, "resolver": d.Resolver, "duration_seconds": round(d.DurationSeconds)}
	if d.Rcode != "" {
		ev["rcode"] = d.Rcode
	}
	if len(d.CNAME) > 0 {
		ev["cname"] = d.CNAME
	}
	f := func(code string, sev record.Severity, msg, remedy string) []record.Finding {
		return []record.Finding{{Code: code, Severity: sev, Message: msg, Remedy: remedy, Evidence: ev}}
	}
	switch d.Error {
	case dns.OK:
	case dns.Canceled:
		return nil
	case dns.NXDomain:
		if len(d.CNAME) > 0 {
			return f("dns.nxdomain", record.Error,
				fmt.Sprintf("%s is a CNAME to %s, which does not exist (NXDOMAIN)", d.Host, d.CNAME[len(d.CNAME)-1]),
				"The CNAME points at a name that is gone or mistyped: copy the CNAME target again from the provider's console (Domain Management) and fix the record at your DNS host.")
		}
		return f("dns.nxdomain", record.Error,
			fmt.Sprintf("%s does not exist (NXDOMAIN from %s)", d.Host, d.Resolver),
			"Check the push domain in the URL for typos. If the domain was added recently, its record may not have propagated yet; check it at your DNS host.")
	case dns.Timeout:
		return f("dns.timeout", record.Error,
			fmt.Sprintf("no DNS answer for %s from %s within %s", d.Host, d.Resolver, seconds(d.DurationSeconds)),
			"This network's DNS is not answering: log in to the venue's captive portal if there is one, or set the encoder to another resolver, or use another uplink (4G/5G).")
	case dns.Network:
		return f("dns.timeout", record.Error,
			fmt.Sprintf("the DNS resolver %s could not be reached to look up %s", d.Resolver, d.Host),
			"Check the encoder's network settings (DNS server, gateway); set the encoder to a resolver this network allows, or use another uplink (4G/5G).")
	case dns.ServFail, dns.Refused, dns.Other:
		rc := d.Rcode
		if rc == "" {
			rc = string(d.Error)
		}
		return f("dns.servfail", record.Error,
			fmt.Sprintf("the resolver %s failed to look up %s (%s)", d.Resolver, d.Host, rc),
			"The venue's resolver or the domain's authoritative servers are failing: retry, set the encoder to another resolver, and if it persists check the domain's DNS hosting.")
	}
	addrs := d.Addresses()
	if len(addrs) == 0 {
		return f("dns.no_address", record.Error,
			fmt.Sprintf("%s exists but has no IPv4 or IPv6 address", d.Host),
			"The name resolves to nothing an encoder can connect to: check the A/AAAA (or CNAME) record of the push domain at your DNS host.")
	}
	if d.HostsFile {
		// This host's own mapping: loopback or a LAN address is a local relay, and there is no
		// CNAME chain to judge. Only a sinkhole is a block (an ad-block list, say).
		ev["hosts_file"] = true
		for _, a := range addrs {
			if a.IsUnspecified() {
				ev["addresses"] = append(append([]string{}, d.A...), d.AAAA...)
				return f("dns.hijacked", record.Error,
					fmt.Sprintf("the hosts file %s maps %s to %s: this host blocks the name", d.Resolver, d.Host, a),
					"Remove the line for the push domain from "+d.Resolver+" (a blocklist may have added it), or point it at the ingest or a relay.")
			}
		}
		return nil
	}
	if !isLocalName(d.Host) {
		for _, a := range addrs {
			if a.IsUnspecified() || a.IsLoopback() {
				ev["addresses"] = append(append([]string{}, d.A...), d.AAAA...)
				return f("dns.hijacked", record.Error,
					fmt.Sprintf("the resolver %s answered %s for %s: a DNS filter or captive portal is blocking the name", d.Resolver, a, d.Host),
					"Ask venue IT to allow the push domain in their DNS filter, log in to the captive portal, or set the encoder to another resolver.")
			}
		}
	}
	return cnameFindings(d, p, ev)
}

// cnameFindings checks the CNAME rule of providers that have one. Every way of missing it is an
// error: a push that does not reach the provider's push targets fails, so a check must not say go
// or warn. A chain ending in the team's own DNS or load balancer is accepted once its suffix is
// listed in the provider's extra_push_suffixes.
func cnameFindings(d *dns.Result, p provider.Profile, ev map[string]any) []record.Finding {
	if len(p.PushSuffixes) == 0 || p.MatchesPush(d.Host) {
		return nil
	}
	accepted := p.AcceptedPushSuffixes()
	ev["provider"] = p.Name
	ev["expected_suffixes"] = accepted
	for _, c := range d.CNAME {
		if p.MatchesPush(c) {
			return nil
		}
	}
	if len(d.CNAME) > 0 {
		ev["cname_final"] = d.CNAME[len(d.CNAME)-1]
	}
	for _, c := range d.CNAME {
		if p.MatchesPlayback(c) {
			return []record.Finding{{Code: "dns.cname_unexpected", Severity: record.Error,
				Message:  fmt.Sprintf("%s resolves through %s, a playback (CDN) domain: it is not a push domain", d.Host, c),
				Remedy:   fmt.Sprintf("Use the push domain from the provider console's Domain Management (type: push); its CNAME ends in %s. Playback domains do not accept publishing.", strings.Join(p.PushSuffixes, " or ")),
				Evidence: ev}}
		}
	}
	if len(d.CNAME) > 0 {
		final := d.CNAME[len(d.CNAME)-1]
		return []record.Finding{{Code: "dns.cname_unexpected", Severity: record.Error,
			Message: fmt.Sprintf("%s resolves through %s, which is not a %s push target (%s)", d.Host, final, p.Name, strings.Join(accepted, ", ")),
			Remedy: fmt.Sprintf("Set the push domain's CNAME to the target shown in the provider console's Domain Management (it ends in %s) or, if you front the ingest with your own DNS or load balancer, add its suffix to extra_push_suffixes in [providers.%s] (for this chain: %q).",
				strings.Join(p.PushSuffixes, " or "), p.Name, "."+strings.ToLower(strings.TrimSuffix(final, "."))),
			Evidence: ev}}
	}
	return []record.Finding{{Code: "dns.cname_missing", Severity: record.Error,
		Message:  fmt.Sprintf("%s has no CNAME to a %s push target (%s): it resolves straight to an address", d.Host, p.Name, strings.Join(accepted, ", ")),
		Remedy:   "Add the CNAME record shown in the provider console's Domain Management to the push domain at your DNS host (Tencent: \"Configuring CNAME for Domain Name\"); publishing works only through it.",
		Evidence: ev}}
}

func anyConnected(rs []tcp.Result) bool {
	for _, r := range rs {
		if r.OK {
			return true
		}
	}
	return false
}

func isLocalName(h string) bool { return h == "localhost" || strings.HasSuffix(h, ".localhost") }

// tcpFindings compares the ingest port with the alternative ports on the same addresses, connected
// at the same moment: a timeout on the ingest port while another port connects is a firewall
// dropping the ingest port, not a dead server. The traces of the ingest port, when they ran, say
// where: the last hop that passed the SYNs, or the router that rejected them (path.go).
func tcpFindings(ingestPort int, results []tcp.Result, traces []path.Result) []record.Finding {
	type host struct {
		ingest *tcp.Result
		open   []tcp.Result
	}
	var order []string
	hosts := map[string]*host{}
	for i := range results {
		r := &results[i]
		h := hosts[r.Address]
		if h == nil {
			h = &host{}
			hosts[r.Address] = h
			order = append(order, r.Address)
		}
		switch {
		case r.Port == ingestPort && h.ingest == nil:
			h.ingest = r
		case r.OK:
			h.open = append(h.open, *r)
		}
	}
	// The pick is the address that tells the most: one where another port connected.
	var pick *host
	for _, a := range order {
		h := hosts[a]
		if h.ingest == nil {
			continue
		}
		if h.ingest.OK {
			return nil // the ingest port works on at least one address; an encoder will get through
		}
		if h.ingest.Error == tcp.Canceled {
			return nil
		}
		if pick == nil || (len(pick.open) == 0 && len(h.open) > 0) {
			pick = h
		}
	}
	if pick == nil {
		return nil
	}
	in := pick.ingest
	ev := map[string]any{
		"address":         in.Address,
		"port":            in.Port,
		"error":           string(in.Error),
		"elapsed_seconds": round(in.ConnectSeconds),
	}
	if in.Errno != "" {
		ev["errno"] = in.Errno
	}
	if len(order) > 1 {
		ev["addresses_tried"] = len(order)
	}
	target := fmt.Sprintf("%s port %d", in.Address, in.Port)
	if len(pick.open) > 0 {
		var ports []int
		for _, o := range pick.open {
			ports = append(ports, o.Port)
		}
		slices.Sort(ports)
		ev["open_ports"] = ports
		alt := pick.open[0]
		pt := describePath(in, alt.Port, traces, ev)
		altText := fmt.Sprintf("port %d on the same server connects (%s)", alt.Port, millis(alt.ConnectSeconds))
		if pt.altHop > 0 {
			altText = fmt.Sprintf("port %d reaches the server at hop %d and connects (%s)", alt.Port, pt.altHop, millis(alt.ConnectSeconds))
		}
		if in.Error == tcp.Timeout {
			where, remedy := " by this network", ""
			if pt.drop != "" {
				where = pt.drop
				remedy = " The SYNs were last seen" + pt.drop + ": "
				switch {
				case pt.inside:
					remedy += "the venue's own firewall drops them."
				case pt.placed:
					remedy += "a network upstream of the venue drops them — its ISP, or one on the way; the venue's IT can ask their ISP."
				default:
					remedy += "the next router on the path drops them."
				}
			}
			return []record.Finding{{Code: "tcp.blocked", Severity: record.Error,
				Message: fmt.Sprintf("port %d is silently dropped%s: %s timed out after %s while %s",
					in.Port, where, target, seconds(in.ConnectSeconds), altText),
				Remedy: fmt.Sprintf("Ask venue IT to allow outbound TCP %d to %s, or publish over RTMPS on %d if your provider offers it, or use another uplink (4G/5G).%s",
					in.Port, in.Address, alt.Port, remedy),
				Evidence: ev}}
		}
		how := describe(in)
		if pt.reject != "" {
			how = "was rejected" + pt.reject
		} else if pt.reset != "" {
			how = "was refused" + pt.reset
		}
		return []record.Finding{{Code: "tcp.rejected", Severity: record.Error,
			Message: fmt.Sprintf("port %d is rejected: %s %s while %s", in.Port, target, how, altText),
			Remedy: fmt.Sprintf("A firewall — at the venue, or this machine's own — rejects TCP %d, or the server does not listen on it. Test from another network (4G/5G): if it connects there, ask venue IT to allow outbound TCP %d to %s; otherwise check the ingest address and port.",
				in.Port, in.Port, in.Address),
			Evidence: ev}}
	}
	if in.Error == tcp.Refused || in.Error == tcp.Reset {
		return []record.Finding{{Code: "tcp.refused", Severity: record.Error,
			Message:  fmt.Sprintf("%s refused the connection (TCP reset) and no alternative port connected: the server is not accepting connections", target),
			Remedy:   "Check the ingest host and port in the URL. If they are right, the ingest server is down or not listening — or a firewall rejects the connection: test from another network (4G/5G) and contact the provider.",
			Evidence: ev}}
	}
	// From the venue a blocked path and a dead server look the same: the remedy says how to tell
	// them apart rather than blaming only the venue's uplink, which DNS has often just proven. A
	// trace narrows it: the router that rejected, or the last hop that passed the SYNs.
	how := describe(in)
	switch pt := describePath(in, 0, traces, ev); {
	case pt.reject != "":
		how = "rejected" + pt.reject
	case pt.drop != "":
		how += "; the SYNs are dropped" + pt.drop
	}
	return []record.Finding{{Code: "tcp.unreachable", Severity: record.Error,
		Message:  fmt.Sprintf("%s cannot be reached and no alternative port connected either: %s", target, how),
		Remedy:   "Nothing on the ingest server answered, on any port. Check the encoder's uplink (cable, Wi-Fi, gateway) and any captive portal login; if the network works, test from another uplink (4G/5G): if the server connects there, this network blocks it — ask venue IT to allow it; if not, the server is down or the address is wrong — contact the provider.",
		Evidence: ev}}
}

func describe(r *tcp.Result) string {
	switch r.Error {
	case tcp.Timeout:
		return "timed out after " + seconds(r.ConnectSeconds)
	case tcp.Refused:
		return "was refused (TCP reset)"
	case tcp.Unreachable:
		if r.Errno != "" {
			return "was rejected with an ICMP unreachable (" + r.Errno + ")"
		}
		return "was rejected as unreachable"
	case tcp.Denied:
		return "was denied by this host's own firewall or policy (" + r.Errno + ")"
	case tcp.Reset:
		return "was reset"
	}
	if r.Errno != "" {
		return "failed (" + r.Errno + ")"
	}
	return "failed"
}

func round(s float64) float64 { return float64(int64(s*1e6+0.5)) / 1e6 }

func seconds(s float64) string { return fmt.Sprintf("%.1f s", s) }

// millis prints a duration in seconds as milliseconds, with two decimals below one (a LAN connect
// of 0.04 ms does not read as "0.0 ms").
func millis(s float64) string {
	if s < 0.001 {
		return fmt.Sprintf("%.2f ms", s*1000)
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}
