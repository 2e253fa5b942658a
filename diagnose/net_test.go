package diagnose

import (
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

func TestMTUBlackhole(t *testing.T) {
	stalled := &rtmp.Result{Probe: "rtmp", Address: "192.0.2.10", Port: 1935, Level: rtmp.LevelHandshake, Phase: rtmp.PhaseHandshake,
		Error: rtmp.Timeout, BytesReceived: 0, HandshakeSeconds: 2}
	seg := func(mss int, ok bool) rtmp.Result {
		r := rtmp.Result{Probe: "rtmp", Address: "192.0.2.10", Port: 1935, Phase: rtmp.PhaseHandshake, MaxSegment: mss, OK: ok}
		if !ok {
			r.Error = rtmp.Timeout
		}
		return r
	}
	conn := []tcp.Result{{Probe: "tcp", Address: "192.0.2.10", Port: 1935, Role: "ingest", OK: true}}
	for _, tt := range []struct {
		name  string
		segs  []rtmp.Result
		codes []string
	}{
		{"no retry", nil, []string{"rtmp.handshake_timeout"}},
		{"smaller segments stall too: a dead server", []rtmp.Result{seg(1200, false)}, []string{"rtmp.handshake_timeout"}},
		{"black hole", []rtmp.Result{seg(1200, true), seg(1330, false), seg(1265, false), seg(1232, true)}, []string{"net.mtu_blackhole"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, _ := ingesturl.Parse("rtmp://192.0.2.10/live/stream")
			fs := Findings(Input{URL: u, Results: record.Results{TCP: conn, RTMP: stalled, RTMPSegments: tt.segs}})
			var got []string
			for _, f := range fs {
				got = append(got, f.Code)
			}
			if !slices.Equal(got, tt.codes) {
				t.Fatalf("got %v; want %v", got, tt.codes)
			}
			if tt.codes[0] != "net.mtu_blackhole" {
				return
			}
			f := fs[0]
			if f.Evidence["largest_working_mss"] != 1232 || f.Evidence["suggested_mtu"] != 1272 || !slices.Equal(f.Evidence["failed_mss"].([]int), []int{1265, 1330}) {
				t.Errorf("evidence: got %v", f.Evidence)
			}
			for _, w := range []string{"ICMP type 3 code 4", "ip link set dev IFACE mtu 1272", "ifconfig IFACE mtu 1272", "netsh interface ipv4 set subinterface \"IFACE\" mtu=1272"} {
				if !strings.Contains(f.Remedy, w) {
					t.Errorf("remedy %q: want %q", f.Remedy, w)
				}
			}
		})
	}
}
