package agent

import (
	"context"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

type rtmpFunc func(context.Context) rtmp.Result

func (f rtmpFunc) Run(ctx context.Context) rtmp.Result { return f(ctx) }

// A path that carries segments of up to limit bytes: a handshake with larger ones stalls until its
// deadline. The retries bisect towards limit within the budget, and only after a stall.
func TestMTURetry(t *testing.T) {
	for _, tt := range []struct {
		name  string
		limit int // 0: every handshake stalls; -1: none does
		want  []int
	}{
		{"black hole at 1240", 1240, []int{1200, 1330, 1265, 1232}},
		{"dead server", 0, []int{1200}},
		{"healthy", -1, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var tried []int
			p := &Pipeline{Profiles: config.Default().Profiles(), icmp: noICMP, path: noPath}
			p.dns = func(c dns.Config) dnsProbe {
				return fakeDNS{dns.Result{Probe: "dns", Host: c.Host, Rcode: "NOERROR", A: []string{"192.0.2.1"}}}
			}
			p.tcp = func(c tcp.Config) tcpProbe {
				return fakeTCP(func(context.Context) tcp.Result {
					return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
				})
			}
			p.rtmp = func(c rtmp.Config) rtmpProbe {
				return rtmpFunc(func(ctx context.Context) rtmp.Result {
					r := rtmp.Result{Probe: "rtmp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), MaxSegment: c.MaxSegment, Phase: rtmp.PhaseHandshake}
					if c.MaxSegment > 0 {
						tried = append(tried, c.MaxSegment)
					}
					mss := c.MaxSegment
					if mss == 0 {
						mss = 1460
					}
					if tt.limit < 0 || mss <= tt.limit {
						r.OK = true
						return r
					}
					<-ctx.Done()
					r.Error = rtmp.Timeout
					return r
				})
			}
			start := time.Now()
			rec := p.Run(t.Context(), Target{Name: "t", URL: "rtmp://push.example.com/live/k", Timeout: 500 * time.Millisecond})
			if len(tried) != len(tt.want) {
				t.Fatalf("tried %v; want %v", tried, tt.want)
			}
			for i := range tried {
				if tried[i] != tt.want[i] {
					t.Fatalf("tried %v; want %v", tried, tt.want)
				}
			}
			if len(rec.Results.RTMPSegments) != len(tt.want) {
				t.Errorf("record: %d retries; want %d", len(rec.Results.RTMPSegments), len(tt.want))
			}
			// The first stall waits the timeout, each failed retry min(timeout, 1 s): the budget holds.
			if d := time.Since(start); d > 500*time.Millisecond+mtuBudget+time.Second {
				t.Errorf("took %s; want within the timeout plus the retry budget", d)
			}
		})
	}
}
