package diagnose

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

// netFindings judges the path itself, from the probes' retries: a path MTU black hole
// (net.mtu_blackhole) explains a stalled handshake, so it replaces the RTMP findings that
// describe the stall (rtmp.handshake_timeout, tls.failed) and keeps the others.
func netFindings(res record.Results, rtmpFs []record.Finding) []record.Finding {
	mtu := mtuFindings(res)
	if len(mtu) == 0 {
		return rtmpFs
	}
	for _, f := range rtmpFs {
		if f.Code != "rtmp.handshake_timeout" && f.Code != "tls.failed" {
			mtu = append(mtu, f)
		}
	}
	return mtu
}

// mtuFindings: the handshake stalled with full-size segments and completed with TCP_MAXSEG
// lowered (agent's MTU retry): the path drops packets too big for a narrower link and filters the
// ICMP that would say so.
func mtuFindings(res record.Results) []record.Finding {
	r := res.RTMP
	if r == nil || r.OK || len(res.RTMPSegments) == 0 {
		return nil
	}
	best := 0
	failed := []int{}
	for _, s := range res.RTMPSegments {
		if s.OK {
			best = max(best, s.MaxSegment)
		} else {
			failed = append(failed, s.MaxSegment)
		}
	}
	if best == 0 {
		return nil // smaller segments stalled too: not a black hole
	}
	slices.Sort(failed)
	overhead, icmp, family := 40, "ICMP type 3 code 4 (fragmentation needed)", "ipv4"
	if a, err := netip.ParseAddr(r.Address); err == nil && a.Is6() && !a.Is4In6() {
		overhead, icmp, family = 60, "ICMPv6 type 2 (packet too big)", "ipv6"
	}
	mtu := best + overhead
	where := fmt.Sprintf("%s port %d", r.Address, r.Port)
	phase := "RTMP handshake"
	if r.Phase == "tls" {
		phase = "TLS handshake"
	}
	return []record.Finding{{Code: "net.mtu_blackhole", Severity: record.Error,
		Message: fmt.Sprintf("TCP to %s connects, but the %s stalls with full-size segments and completes with segments of %d bytes: the path is narrower than the ends think and drops the larger packets without telling them (a path MTU black hole), not a dead server",
			where, phase, best),
		Remedy: fmt.Sprintf("Allow %s through the venue firewall, so the ends learn the path's MTU. Or lower the MTU of this machine's (and the encoder's) network interface to %d: Linux: sudo ip link set dev IFACE mtu %d; macOS: sudo ifconfig IFACE mtu %d; Windows: netsh interface %s set subinterface \"IFACE\" mtu=%d store=persistent.",
			icmp, mtu, mtu, mtu, family, mtu),
		Evidence: map[string]any{"address": r.Address, "port": r.Port, "stalled_phase": string(r.Phase),
			"largest_working_mss": best, "failed_mss": failed, "suggested_mtu": mtu}}}
}

// ipv6Findings compares the address families of a host with both: net.ipv6_broken when IPv4
// works — the ingest port connects and the RTMP handshake, where it ran, completes — and IPv6
// does not. An encoder that prefers IPv6, as most do, fails or waits there while a probe that
// picked IPv4 would say go. The evidence lists every address with what it did.
func ipv6Findings(res record.Results) []record.Finding {
	type family struct {
		any, ok bool
		failed  *tcp.Result // the first ingest connect that failed
	}
	var fam [2]family
	addresses := map[string]string{}
	for i, r := range res.TCP {
		a, err := netip.ParseAddr(r.Address)
		if err != nil || r.Role != "ingest" {
			continue
		}
		f := &fam[b2i(a.Is6() && !a.Is4In6())]
		f.any = true
		if r.OK {
			f.ok = true
			addresses[r.Address] = "connects"
		} else {
			addresses[r.Address] = strings.TrimPrefix(describe(&res.TCP[i]), "was ")
			if f.failed == nil {
				f.failed = &res.TCP[i]
			}
		}
	}
	if !fam[0].any || !fam[1].any {
		return nil
	}
	var hs [2]*rtmp.Result
	for _, r := range []*rtmp.Result{res.RTMP, res.RTMPOther} {
		if a, err := netip.ParseAddr(addrOf(r)); err == nil {
			hs[b2i(a.Is6() && !a.Is4In6())] = r
			if passedHandshake(r) {
				addresses[r.Address] = "connects, RTMP handshake completes"
			} else {
				addresses[r.Address] = fmt.Sprintf("connects, RTMP %s %s", r.Phase, r.Error)
			}
		}
	}
	v4 := fam[0].ok && (hs[0] == nil || passedHandshake(hs[0]))
	if !v4 {
		return nil
	}
	ev := map[string]any{"addresses": addresses}
	var what string
	switch {
	case !fam[1].ok:
		in := fam[1].failed
		what = fmt.Sprintf("[%s] port %d %s", in.Address, in.Port, describe(in))
		if pt := describePath(in, 0, res.Path, ev); pt.drop != "" {
			what += "; the SYNs are dropped" + pt.drop
		} else if pt.reject != "" {
			what += "; rejected" + pt.reject
		}
	case hs[1] != nil && !passedHandshake(hs[1]):
		what = fmt.Sprintf("[%s] port %d connects but the RTMP handshake stops in %s (%s)", hs[1].Address, hs[1].Port, hs[1].Phase, hs[1].Error)
	default:
		return nil
	}
	return []record.Finding{{Code: "net.ipv6_broken", Severity: record.Warning,
		Message:  "IPv6 to the ingest fails while IPv4 works: " + what + ". An encoder that prefers IPv6, as most do, fails there or waits before it falls back to IPv4",
		Remedy:   "Ask venue IT to fix IPv6 to the ingest (routing or firewall), or to stop announcing IPv6 on this network. Until then, turn IPv6 off on the encoder's machine (Linux: sudo sysctl net.ipv6.conf.all.disable_ipv6=1; macOS: networksetup -setv6off \"Wi-Fi\"; Windows: untick Internet Protocol Version 6 in the adapter's properties), or publish to an IPv4 address of the ingest.",
		Evidence: ev}}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func addrOf(r *rtmp.Result) string {
	if r == nil {
		return ""
	}
	return r.Address
}

// passedHandshake says the RTMP session got past the handshake: what the address family decides.
// A refused connect or publish is the application's, the same on both families.
func passedHandshake(r *rtmp.Result) bool {
	switch r.Phase {
	case rtmp.PhaseConnect, rtmp.PhaseTLS, rtmp.PhaseHandshake:
		return r.OK
	}
	return true
}
