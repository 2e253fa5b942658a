package agent

import (
	"context"
	"net/netip"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// probeOtherFamily runs the RTMP handshake on the other address family too, when the host has
// addresses of both and the ingest port connected on one of the other family's: an encoder may
// pick either (most prefer IPv6), so a handshake that works on one family only is
// net.ipv6_broken. It is a handshake only, whatever the level: a second connect or publish would
// add load and occupy the stream for nothing the first did not show.
func (p *Pipeline) probeOtherFamily(ctx context.Context, t Target, u *ingesturl.URL, timeout time.Duration, res *record.Results) {
	first := res.RTMP
	if first == nil || ctx.Err() != nil {
		return
	}
	a, err := netip.ParseAddr(first.Address)
	if err != nil {
		return
	}
	v6 := is6(a)
	var addr netip.AddrPort
	for _, r := range res.TCP {
		if b, err := netip.ParseAddr(r.Address); err == nil && r.Role == "ingest" && r.OK && is6(b) != v6 {
			addr = netip.AddrPortFrom(b, uint16(r.Port))
			break
		}
	}
	if !addr.IsValid() {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := p.newRTMP(rtmp.Config{Address: addr, URL: u, Level: rtmp.LevelHandshake, CAFile: t.CAFile, InsecureSkipVerify: t.InsecureSkipVerify}).Run(rctx)
	r.Role = "other_family"
	res.RTMPOther = &r
}

func is6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() }
