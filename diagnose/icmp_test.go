package diagnose

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

func burst(sent, received int, avg time.Duration) *icmp.Result {
	r := &icmp.Result{Probe: "icmp", Address: "192.0.2.1", Sent: sent, Received: received}
	if sent > 0 {
		r.LossRatio = float64(sent-received) / float64(sent)
	}
	if received > 0 {
		r.RTTMinSeconds, r.RTTAvgSeconds, r.RTTMaxSeconds = avg.Seconds()*0.8, avg.Seconds(), avg.Seconds()*1.3
	}
	return r
}

func TestICMPFindings(t *testing.T) {
	tests := []struct {
		name     string
		r        *icmp.Result
		th       ICMPThresholds
		want     []string // code:severity
		contains string   // in the first finding's message
		evidence map[string]any
		down     bool // no TCP connect succeeded
	}{
		{name: "not run", r: nil},
		{name: "healthy", r: burst(5, 5, 20*time.Millisecond)},
		{name: "one of five lost warns", r: burst(5, 4, 20*time.Millisecond), want: []string{"net.packet_loss:warning"},
			contains: "1 of 5 ICMP echoes to 192.0.2.1 were lost (20 %, over 2 %)", evidence: map[string]any{"sent": 5, "received": 4, "loss_ratio": 0.2}},
		{name: "two of five lost is an error", r: burst(5, 3, 20*time.Millisecond), want: []string{"net.packet_loss:error"}, contains: "(40 %, over 20 %)"},
		{name: "configured error threshold", r: burst(10, 9, 20*time.Millisecond), th: ICMPThresholds{LossWarnRatio: 0.02, LossErrorRatio: 0.05, LatencyWarn: time.Second}, want: []string{"net.packet_loss:error"}},
		{name: "configured warn threshold", r: burst(5, 4, 20*time.Millisecond), th: ICMPThresholds{LossWarnRatio: 0.25, LossErrorRatio: 0.5, LatencyWarn: time.Second}},
		{name: "slow", r: burst(5, 5, 230*time.Millisecond), want: []string{"net.high_latency:warning"},
			contains: "round trip to 192.0.2.1 averages 230.0 ms (over 150.0 ms", evidence: map[string]any{"rtt_avg_seconds": 0.23, "privileged": false}},
		{name: "at the latency threshold is fine", r: burst(5, 5, 150*time.Millisecond)},
		{name: "configured latency", r: burst(5, 5, 60*time.Millisecond), th: ICMPThresholds{LossWarnRatio: 0.02, LossErrorRatio: 0.2, LatencyWarn: 50 * time.Millisecond}, want: []string{"net.high_latency:warning"}},
		{name: "any loss counts when the warn ratio is 0", r: burst(20, 19, 20*time.Millisecond), th: ICMPThresholds{LossErrorRatio: 0.2, LatencyWarn: time.Second}, want: []string{"net.packet_loss:warning"}},
		{name: "lossy and slow", r: burst(5, 2, 400*time.Millisecond), want: []string{"net.packet_loss:error", "net.high_latency:warning"}},
		{name: "no echo answered: filtered, not loss", r: burst(5, 0, 0), want: []string{"icmp.unavailable:info"}, contains: "answered none of 5 ICMP echoes"},
		{name: "no echo answered and no port either", r: burst(5, 0, 0), down: true, want: []string{"tcp.unreachable:error", "icmp.unavailable:info"}},
		{name: "no socket", r: &icmp.Result{Address: "192.0.2.1", Error: icmp.Unavailable, ErrnoUnprivileged: "EACCES", ErrnoPrivileged: "EPERM"},
			want: []string{"icmp.unavailable:info"}, contains: "ping socket: EACCES, raw socket: EPERM", evidence: map[string]any{"errno_privileged": "EPERM"}},
		{name: "local firewall", r: &icmp.Result{Address: "192.0.2.1", Error: icmp.Denied, Errno: "EPERM"}, want: []string{"icmp.unavailable:info"}, contains: "this host refused"},
		{name: "no route", r: &icmp.Result{Address: "192.0.2.1", Error: icmp.Unreachable, Errno: "ENETUNREACH"}, want: []string{"icmp.unavailable:info"}, contains: "unreachable, ENETUNREACH"},
		{name: "canceled says nothing", r: &icmp.Result{Address: "192.0.2.1", Error: icmp.Canceled}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conn("192.0.2.1", 1935, tcp.OK)
			if tt.down {
				c = conn("192.0.2.1", 1935, tcp.Timeout)
			}
			in := Input{URL: mustURL(t, "rtmp://192.0.2.1/live/x"), ICMP: tt.th, Results: record.Results{TCP: []tcp.Result{c}, ICMP: tt.r}}
			fs := Findings(in)
			var got []string
			for _, f := range fs {
				got = append(got, f.Code+":"+string(f.Severity))
				if !Known(f.Code) {
					t.Errorf("%s is not in the catalogue", f.Code)
				}
				if f.Remedy == "" {
					t.Errorf("%s has no remedy", f.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v; want %v", got, tt.want)
			}
			if tt.down && !strings.Contains(fs[1].Message, "answered none of 5 ICMP echoes either") {
				t.Errorf("got %q; want it to say nothing reaches the server", fs[1].Message)
			}
			if tt.contains != "" && !strings.Contains(fs[0].Message, tt.contains) {
				t.Errorf("got message %q; want it to contain %q", fs[0].Message, tt.contains)
			}
			for k, v := range tt.evidence {
				if fs[0].Evidence[k] != v {
					t.Errorf("got evidence %s = %v; want %v", k, fs[0].Evidence[k], v)
				}
			}
			// icmp.unavailable is information: it never changes a verdict.
			if tt.want != nil && tt.want[0] == "icmp.unavailable:info" && record.VerdictOf(fs) != record.Go {
				t.Errorf("got verdict %s; want go", record.VerdictOf(fs))
			}
		})
	}
}
