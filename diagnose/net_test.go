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

func TestIPv6Broken(t *testing.T) {
	in := func(a string, ok bool) tcp.Result {
		r := tcp.Result{Probe: "tcp", Address: a, Port: 1935, Role: "ingest", OK: ok, ConnectSeconds: 2}
		if !ok {
			r.Error = tcp.Timeout
		}
		return r
	}
	hs := func(a string, ok bool) *rtmp.Result {
		r := &rtmp.Result{Probe: "rtmp", Address: a, Port: 1935, Phase: rtmp.PhaseHandshake, OK: ok}
		if !ok {
			r.Error = rtmp.Timeout
		}
		return r
	}
	for _, tt := range []struct {
		name    string
		tcp     []tcp.Result
		rtmp    *rtmp.Result
		other   *rtmp.Result
		want    bool
		message string
	}{
		{"both work", []tcp.Result{in("192.0.2.1", true), in("2001:db8::1", true)}, hs("192.0.2.1", true), hs("2001:db8::1", true), false, ""},
		{"IPv6 port dropped", []tcp.Result{in("192.0.2.1", true), in("2001:db8::1", false)}, hs("192.0.2.1", true), nil, true,
			"IPv6 to the ingest fails while IPv4 works: [2001:db8::1] port 1935 timed out after 2.0 s"},
		{"IPv6 handshake stalls", []tcp.Result{in("192.0.2.1", true), in("2001:db8::1", true)}, hs("192.0.2.1", true), hs("2001:db8::1", false), true,
			"[2001:db8::1] port 1935 connects but the RTMP handshake stops in handshake (timeout)"},
		{"IPv4 fails too", []tcp.Result{in("192.0.2.1", false), in("2001:db8::1", false)}, nil, nil, false, ""},
		{"IPv4 only", []tcp.Result{in("192.0.2.1", true), in("192.0.2.2", false)}, hs("192.0.2.1", true), nil, false, ""},
		{"IPv6 works, IPv4 does not", []tcp.Result{in("192.0.2.1", false), in("2001:db8::1", true)}, hs("2001:db8::1", true), nil, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := ipv6Findings(record.Results{TCP: tt.tcp, RTMP: tt.rtmp, RTMPOther: tt.other})
			if got := len(fs) == 1; got != tt.want {
				t.Fatalf("got %+v; want a finding: %v", fs, tt.want)
			}
			if !tt.want {
				return
			}
			if fs[0].Code != "net.ipv6_broken" || fs[0].Severity != record.Warning || !strings.Contains(fs[0].Message, tt.message) {
				t.Errorf("got %+v; want net.ipv6_broken warning saying %q", fs[0], tt.message)
			}
			if addrs, _ := fs[0].Evidence["addresses"].(map[string]string); len(addrs) != 2 {
				t.Errorf("evidence addresses: got %v; want both", fs[0].Evidence["addresses"])
			}
		})
	}
}
