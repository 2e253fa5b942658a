package agent

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// TestPipelineSRT: an srt:// target gets the SRT handshake on its first address with what the URL
// says (stream id decoded, passphrase, latency, key length), TCP connects to the alternative ports
// only — all roles "alternative", none to the UDP port — and both under one deadline.
func TestPipelineSRT(t *testing.T) {
	var mu sync.Mutex
	var got []srt.Config
	var srtDeadline time.Time
	var tcpPorts []netip.AddrPort
	var tcpDeadlines []time.Time
	var rtmps []rtmp.Config
	var rtmpDeadlines []time.Duration
	p := fakePipeline(map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.2:443"): true}, &rtmps, &rtmpDeadlines)
	fakeTCP := p.tcp
	p.tcp = func(c tcp.Config) tcpProbe {
		return runFunc[tcp.Result](func(ctx context.Context) tcp.Result {
			mu.Lock()
			tcpPorts = append(tcpPorts, c.Address)
			d, _ := ctx.Deadline()
			tcpDeadlines = append(tcpDeadlines, d)
			mu.Unlock()
			return fakeTCP(c).Run(ctx)
		})
	}
	p.srt = func(c srt.Config) srtProbe {
		return runFunc[srt.Result](func(ctx context.Context) srt.Result {
			mu.Lock()
			got = append(got, c)
			srtDeadline, _ = ctx.Deadline()
			mu.Unlock()
			return srt.Result{Probe: "srt", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true, Phase: srt.PhaseConclusion}
		})
	}
	var stages []Stage
	p.Progress = func(_ string, s Stage) { stages = append(stages, s) }
	rec := p.Run(t.Context(), Target{Name: "t", SkipICMP: true, Timeout: time.Second,
		URL: "srt://localhost:9000?streamid=#!::r=live/show,m=publish&passphrase=venue-pass-0123&latency=300&pbkeylen=32"})

	if len(got) != 1 {
		t.Fatalf("got %d SRT probes; want 1", len(got))
	}
	c := got[0]
	if c.Address != netip.MustParseAddrPort("127.0.0.2:9000") || c.StreamID != "#!::r=live/show,m=publish" || c.Passphrase != "venue-pass-0123" ||
		c.Latency != 300*time.Millisecond || c.KeyLength != 32 {
		t.Errorf("got SRT config %s stream id %q latency %s key %d; want 127.0.0.2:9000, the URL's stream id, passphrase, 300ms, 32",
			c.Address, c.StreamID, c.Latency, c.KeyLength)
	}
	slices.SortFunc(tcpPorts, func(a, b netip.AddrPort) int { return a.Compare(b) })
	want := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:80"), netip.MustParseAddrPort("127.0.0.2:443"),
		netip.MustParseAddrPort("127.0.0.3:80"), netip.MustParseAddrPort("127.0.0.3:443")}
	if !slices.Equal(tcpPorts, want) {
		t.Errorf("TCP connects: got %v; want %v (the alternatives, never the UDP port)", tcpPorts, want)
	}
	for _, r := range rec.Results.TCP {
		if r.Role != "alternative" {
			t.Errorf("TCP %s:%d: role %q; want alternative", r.Address, r.Port, r.Role)
		}
	}
	for _, d := range tcpDeadlines {
		if !d.Equal(srtDeadline) {
			t.Errorf("deadlines: TCP %s, SRT %s; want one deadline for the connects and the handshake", d, srtDeadline)
			break
		}
	}
	if rec.Results.SRT == nil || !rec.Results.SRT.OK || len(rtmps) != 0 {
		t.Errorf("got SRT result %+v, %d RTMP probes; want the handshake's result and no RTMP", rec.Results.SRT, len(rtmps))
	}
	if len(rec.Findings) != 0 {
		t.Errorf("findings: got %v; want none (accepted; an alternative port refusing says nothing)", codesOf(rec))
	}
	if !slices.Contains(stages, StageSRT) || slices.Contains(stages, StageTCP) {
		t.Errorf("stages: got %v; want srt, not tcp", stages)
	}

	// mode=listener: nothing to call — no handshake, the URL doctor says so.
	got = nil
	rec = p.Run(t.Context(), Target{Name: "t", SkipICMP: true, Timeout: time.Second, URL: "srt://localhost:9000?mode=listener"})
	if len(got) != 0 || rec.Results.SRT != nil || !slices.Equal(codesOf(rec), []string{"url.scheme_unsupported"}) {
		t.Errorf("mode=listener: got %d SRT probes, findings %v; want none and url.scheme_unsupported", len(got), codesOf(rec))
	}
}
