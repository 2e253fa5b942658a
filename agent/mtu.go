package agent

import (
	"context"
	"net/netip"
	"time"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/record"
)

// The path MTU black-hole retry (net.mtu_blackhole). A TCP connect is three small packets; the
// RTMP handshake is the first exchange of full-size segments (C1 and S1 are 1536 bytes each). On
// a path narrower than the ends think whose ICMP "fragmentation needed" is filtered, the connect
// works and the handshake stalls. One handshake with TCP_MAXSEG lowered to mtuFirstMSS — which
// lowers the segments both ways: the SYN announces it — completes on such a path and not on a
// dead server; then a few more sizes, bisected, find the largest that works.
const (
	mtuFirstMSS = 1200 // under every path MTU seen in practice (IPv6's minimum link MTU is 1280)
	// mtuRetryWait bounds each retry: a handshake whose segments fit completes in a few round
	// trips, and one that stalls is known by waiting this long.
	mtuRetryWait = time.Second
	// mtuBudget bounds the retries together; mtuTries the handshakes, the first included.
	mtuBudget = 3 * time.Second
	mtuTries  = 4
)

// probeMTU retries a handshake that stalled (RTMP in the handshake, or RTMPS in the TLS phase,
// timed out) with smaller segments; the retries go in res.RTMPSegments.
func (p *Pipeline) probeMTU(ctx context.Context, t Target, u *ingesturl.URL, timeout time.Duration, res *record.Results) {
	r := res.RTMP
	if r == nil || r.Error != rtmp.Timeout || (r.Phase != rtmp.PhaseHandshake && r.Phase != rtmp.PhaseTLS) || ctx.Err() != nil {
		return
	}
	a, err := netip.ParseAddr(r.Address)
	if err != nil {
		return
	}
	addr := netip.AddrPortFrom(a, uint16(r.Port))
	// The stalled session's segments: a 1500-byte link's, less the IP and TCP headers.
	hi := 1460
	if a.Is6() && !a.Is4In6() {
		hi = 1440
	}
	wait := min(mtuRetryWait, timeout)
	bctx, cancel := context.WithTimeout(ctx, mtuBudget)
	defer cancel()
	try := func(mss int) bool {
		rctx, cancel := context.WithTimeout(bctx, wait)
		defer cancel()
		x := p.newRTMP(rtmp.Config{Address: addr, URL: u, Level: rtmp.LevelHandshake, CAFile: t.CAFile,
			InsecureSkipVerify: t.InsecureSkipVerify, MaxSegment: mss}).Run(rctx)
		res.RTMPSegments = append(res.RTMPSegments, x)
		return x.OK
	}
	if !try(mtuFirstMSS) {
		return // smaller segments do not help: not a black hole
	}
	lo := mtuFirstMSS
	for i := 1; i < mtuTries && hi-lo > 8; i++ {
		if dl, _ := bctx.Deadline(); time.Until(dl) < wait/2 {
			break // too little left to tell a stall from the budget's end
		}
		mid := (lo + hi) / 2
		if try(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
}
