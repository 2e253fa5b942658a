package diagnose

import (
	"fmt"
	"net/netip"
	"slices"

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
