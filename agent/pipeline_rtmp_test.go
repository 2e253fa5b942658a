package agent

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

type runFunc[R any] func(context.Context) R

func (f runFunc[R]) Run(ctx context.Context) R { return f(ctx) }

type (
	dnsRunner  = dnsProbe
	tcpRunner  = tcpProbe
	rtmpRunner = rtmpProbe
)

// fakePipeline resolves push.example.com to two loopback addresses, connects TCP only where open
// says so, records each RTMP probe it is asked to run, and accepts every SRT handshake. Nothing
// but the ICMP burst touches the network.
func fakePipeline(open map[netip.AddrPort]bool, got *[]rtmp.Config, deadlines *[]time.Duration) *Pipeline {
	var mu sync.Mutex
	return &Pipeline{
		dns: func(c dns.Config) dnsRunner {
			return runFunc[dns.Result](func(context.Context) dns.Result {
				return dns.Result{Probe: "dns", Host: c.Host, A: []string{"127.0.0.2", "127.0.0.3"}}
			})
		},
		tcp: func(c tcp.Config) tcpRunner {
			return runFunc[tcp.Result](func(context.Context) tcp.Result {
				r := tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: open[c.Address]}
				if !r.OK {
					r.Error = tcp.Timeout
				}
				return r
			})
		},
		rtmp: func(c rtmp.Config) rtmpRunner {
			return runFunc[rtmp.Result](func(ctx context.Context) rtmp.Result {
				mu.Lock()
				defer mu.Unlock()
				*got = append(*got, c)
				d, _ := ctx.Deadline()
				*deadlines = append(*deadlines, time.Until(d))
				return rtmp.Result{Probe: "rtmp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), Level: c.Level, OK: true, Phase: rtmp.PhaseHandshake}
			})
		},
		srt: func(c srt.Config) srtProbe {
			return runFunc[srt.Result](func(context.Context) srt.Result {
				return srt.Result{Probe: "srt", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true, Phase: srt.PhaseConclusion}
			})
		},
	}
}

func TestPipelineRTMP(t *testing.T) {
	a2 := netip.MustParseAddrPort("127.0.0.2:1935")
	a3 := netip.MustParseAddrPort("127.0.0.3:1935")
	cases := []struct {
		name      string
		url       string
		level     rtmp.Level
		open      map[netip.AddrPort]bool
		want      netip.AddrPort // zero: no RTMP probe
		wantLevel rtmp.Level
		minBudget time.Duration
	}{
		{"first address connects", "rtmp://push.example.com/live/s", "", map[netip.AddrPort]bool{a2: true, a3: true}, a2, rtmp.LevelHandshake, 0},
		{"only the second connects", "rtmp://push.example.com/live/s", rtmp.LevelConnect, map[netip.AddrPort]bool{a3: true}, a3, rtmp.LevelConnect, 0},
		{"only an alternative port connects", "rtmp://push.example.com/live/s", "", map[netip.AddrPort]bool{netip.MustParseAddrPort("127.0.0.2:443"): true}, netip.AddrPort{}, "", 0},
		{"off", "rtmp://push.example.com/live/s", rtmp.LevelOff, map[netip.AddrPort]bool{a2: true}, netip.AddrPort{}, "", 0},
		{"not an RTMP URL", "srt://push.example.com:1935/live/s", "", map[netip.AddrPort]bool{a2: true}, netip.AddrPort{}, "", 0},
		{"publish gets the hold on top of the timeout", "rtmp://push.example.com/live/s", rtmp.LevelPublish, map[netip.AddrPort]bool{a2: true}, a2, rtmp.LevelPublish, time.Second + rtmp.DefaultHold - 100*time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []rtmp.Config
			var deadlines []time.Duration
			p := fakePipeline(c.open, &got, &deadlines)
			var stages []Stage
			p.Progress = func(_ string, s Stage) { stages = append(stages, s) }
			rec := p.Run(t.Context(), Target{Name: "t", URL: c.url, Timeout: time.Second, RTMP: c.level})
			if !c.want.IsValid() {
				if len(got) != 0 || rec.Results.RTMP != nil {
					t.Fatalf("got RTMP probes %v; want none", got)
				}
				return
			}
			if len(got) != 1 || got[0].Address != c.want || got[0].Level != c.wantLevel {
				t.Fatalf("got RTMP probes %+v; want one on %s at %s", got, c.want, c.wantLevel)
			}
			if rec.Results.RTMP == nil || !rec.Results.RTMP.OK {
				t.Errorf("got record RTMP %+v; want the probe's result", rec.Results.RTMP)
			}
			if deadlines[0] < c.minBudget {
				t.Errorf("got an RTMP budget of %s; want at least %s", deadlines[0], c.minBudget)
			}
			if len(stages) < 2 || stages[len(stages)-2] != StageRTMP {
				t.Errorf("got stages %v; want rtmp before done", stages)
			}
		})
	}
}
