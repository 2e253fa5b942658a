package agent

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/record"
)

type fakeICMP func(context.Context) icmp.Result

func (f fakeICMP) Run(ctx context.Context) icmp.Result { return f(ctx) }

// noICMP stands in for the ICMP probe in tests whose addresses are not loopback.
func noICMP(c icmp.Config) icmpProbe {
	return fakeICMP(func(context.Context) icmp.Result {
		return icmp.Result{Probe: "icmp", Address: c.Address.String(), Error: icmp.Unavailable}
	})
}

// TestICMPBesideTCP: the burst goes to the first resolved address, under the connects' deadline,
// at the same time as the connects — a run with 300 ms connects and a 300 ms burst takes about
// 300 ms, not 600 — and its findings use the target's thresholds.
func TestICMPBesideTCP(t *testing.T) {
	const slow = 300 * time.Millisecond
	var mu sync.Mutex
	var tcpDeadline, icmpDeadline time.Time
	var pinged []string
	var counts []int
	p := &Pipeline{Profiles: config.Default().Profiles()}
	p.dns = func(c dns.Config) dnsProbe {
		return fakeDNS{dns.Result{Probe: "dns", Host: c.Host, Rcode: "NOERROR", A: []string{"192.0.2.1", "192.0.2.2"}}}
	}
	p.tcp = func(c tcp.Config) tcpProbe {
		return fakeTCP(func(ctx context.Context) tcp.Result {
			time.Sleep(slow)
			mu.Lock()
			tcpDeadline, _ = ctx.Deadline()
			mu.Unlock()
			return tcp.Result{Probe: "tcp", Address: c.Address.Addr().String(), Port: int(c.Address.Port()), OK: true}
		})
	}
	p.icmp = func(c icmp.Config) icmpProbe {
		return fakeICMP(func(ctx context.Context) icmp.Result {
			time.Sleep(slow)
			mu.Lock()
			icmpDeadline, _ = ctx.Deadline()
			pinged = append(pinged, c.Address.String())
			counts = append(counts, c.Count)
			mu.Unlock()
			// 1 of 10 lost: over the 5 % this target allows.
			return icmp.Result{Probe: "icmp", Address: c.Address.String(), Sent: 10, Received: 9, LossRatio: 0.1,
				RTTMinSeconds: 0.01, RTTAvgSeconds: 0.02, RTTMaxSeconds: 0.03}
		})
	}
	target := Target{Name: "t", URL: "rtmp://push.example.com/live/k", AltPorts: []int{}, Timeout: 2 * time.Second, RTMP: rtmp.LevelOff,
		ICMPCount: 10, ICMPThresholds: diagnose.ICMPThresholds{LossWarnRatio: 0.01, LossErrorRatio: 0.05, LatencyWarn: time.Second}}
	start := time.Now()
	r := p.Run(t.Context(), target)
	elapsed := time.Since(start)
	if elapsed > slow*3/2 {
		t.Errorf("got a run of %s; want about %s (ICMP beside TCP, not after it)", elapsed, slow)
	}
	if !slices.Equal(pinged, []string{"192.0.2.1"}) || !slices.Equal(counts, []int{10}) {
		t.Errorf("got pings to %v with counts %v; want one burst of 10 to the first address", pinged, counts)
	}
	if icmpDeadline.IsZero() || !icmpDeadline.Equal(tcpDeadline) {
		t.Errorf("got ICMP deadline %v, TCP deadline %v; want the same", icmpDeadline, tcpDeadline)
	}
	if r.Results.ICMP == nil || r.Results.ICMP.Sent != 10 {
		t.Fatalf("got ICMP result %+v; want it in the record", r.Results.ICMP)
	}
	if got := codes(r); !slices.Equal(got, []string{"net.packet_loss"}) || r.Verdict != record.NoGo {
		t.Errorf("got %v %s; want net.packet_loss as an error (10 %% > the target's 5 %%)", got, r.Verdict)
	}

	target.SkipICMP = true
	pinged = nil
	if r := p.Run(t.Context(), target); r.Results.ICMP != nil || len(pinged) != 0 {
		t.Errorf("icmp = false: got result %+v and pings %v; want none", r.Results.ICMP, pinged)
	}
}

// TestICMPFromConfig: the config's icmp keys reach the pipeline's targets.
func TestICMPFromConfig(t *testing.T) {
	c, err := config.Parse([]byte(`
[[targets]]
name = "on"
url = "rtmp://push.example.com/live/a"
icmp_count = 7
loss_error_ratio = 0.5
[[targets]]
name = "off"
url = "rtmp://push.example.com/live/b"
icmp = false
`))
	if err != nil {
		t.Fatal(err)
	}
	ts := TargetsFromConfig(c)
	on, off := ts[0], ts[1]
	want := diagnose.ICMPThresholds{LossWarnRatio: 0.02, LossErrorRatio: 0.5, LatencyWarn: 150 * time.Millisecond}
	if on.SkipICMP || on.ICMPCount != 7 || on.ICMPThresholds != want {
		t.Errorf("got %v %d %+v; want ICMP on, 7 echoes, %+v", on.SkipICMP, on.ICMPCount, on.ICMPThresholds, want)
	}
	if !off.SkipICMP {
		t.Errorf("got SkipICMP false for icmp = false")
	}
}

// TestICMPLoopback runs the real probe through the pipeline to a loopback ingest: the record
// carries a measured burst (or, where this user may open no ICMP socket, icmp.unavailable as
// information, and still GO).
func TestICMPLoopback(t *testing.T) {
	open := listen(t)
	p := &Pipeline{Profiles: config.Default().Profiles()}
	r := p.Run(t.Context(), Target{Name: "t", URL: "rtmp://127.0.0.1:" + strconv.Itoa(open) + "/live/k", AltPorts: []int{}, Timeout: 3 * time.Second, ICMPCount: 2, RTMP: rtmp.LevelOff})
	i := r.Results.ICMP
	if i == nil {
		t.Fatal("got no ICMP result; want one")
	}
	switch {
	case i.Error == icmp.Unavailable:
		if !slices.Equal(codes(r), []string{"icmp.unavailable"}) || r.Verdict != record.Go {
			t.Errorf("got %v %s; want icmp.unavailable and go", codes(r), r.Verdict)
		}
	case i.Sent != 2 || i.Received != 2 || len(r.Findings) != 0 || r.Verdict != record.Go:
		t.Errorf("got %+v, findings %v, %s; want 2 of 2 echoes answered and go", i, codes(r), r.Verdict)
	}
}
