package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// probeTimeout bounds each connect of the timing phase; a loopback connect takes microseconds.
const probeTimeout = 5 * time.Second

// Timing compares, connection by connection, the connect time a probe reports with the bare
// reference measured just before it to the same address. Figures are in microseconds.
type Timing struct {
	Target       string `json:"target"`
	Samples      int    `json:"samples"`
	BareUS       Dist   `json:"bare_connect_us"`
	TCPInfoRTTUS Dist   `json:"tcp_info_rtt_us"`
	OursUS       Dist   `json:"ours_connect_us"`
	// OursOverheadUS is ours minus the bare connect just before it, pair by pair.
	OursOverheadUS Dist `json:"ours_overhead_us"`
	// OursRTTUS is the kernel's RTT of the probe's own connection (rtt_seconds), and
	// OursOverRTTUS its connect_seconds minus that: the same connection seen from both sides.
	OursRTTUS     Dist `json:"ours_rtt_us"`
	OursOverRTTUS Dist `json:"ours_over_rtt_us"`
	// Blackbox: probe_duration_seconds of its tcp_connect module, and its excess over the bare
	// connect just before it (a pass of its own). Empty when blackbox_exporter did not run.
	BlackboxBareUS     Dist `json:"blackbox_bare_connect_us"`
	BlackboxUS         Dist `json:"blackbox_us"`
	BlackboxOverheadUS Dist `json:"blackbox_overhead_us"`
	Errors             int  `json:"errors"`
	// ErrorKinds counts the failed connects by who failed and why ("bare: connection refused",
	// "ours: timeout", "blackbox: …"), so that a failed pair is never an unexplained gap.
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
}

// settleGap is the pause before every timed connect. The listener (a child process) accepts and
// closes each connection right after it is made; without the pause the next connect would run
// while the listener and the kernel still handle the previous one's accept and close, and that
// work would land on whichever connect comes second in a pair. A probe in the agent never follows
// another connect to the same listener within microseconds.
const settleGap = 500 * time.Microsecond

func settle() {
	// A busy wait, not a sleep: a sleeping thread lets the CPU idle, and the next connect would
	// pay for waking it (50 µs here), which is no one's connect time.
	for t0 := time.Now(); time.Since(t0) < settleGap; {
	}
}

// failed counts one failed connect of a pair.
func (t *Timing) failed(who, why string) {
	t.Errors++
	if t.ErrorKinds == nil {
		t.ErrorKinds = map[string]int{}
	}
	t.ErrorKinds[who+": "+why]++
}

// timingWarmup connections are made and not counted: the first ones pay for page faults and the
// listener's first accepts.
const timingWarmup = 20

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// MeasureTiming makes n pairs of (bare connect, our probe) to ap, then, when bb is set, n pairs of
// (bare connect, blackbox_exporter probe). The two passes are apart so that each bare connect runs
// in the same conditions as its partner: right after an HTTP request to blackbox_exporter, a
// connect is slower, and interleaving all four would charge that to our pairs too.
func MeasureTiming(ctx context.Context, ap netip.AddrPort, n int, bb *Blackbox) (Timing, error) {
	out := Timing{Target: ap.String()}
	var bare, rtt, ours, oursOver, oursRTT, oursOverRTT []float64
	for i := range n + timingWarmup {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		settle()
		b, r, err := BareConnect(ap)
		if errors.Is(err, errors.ErrUnsupported) {
			return out, err // no pair can be measured on this system
		}
		if err != nil {
			out.failed("bare", err.Error())
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		settle()
		res := tcp.New(tcp.Config{Address: ap}).Run(pctx)
		cancel()
		if !res.OK {
			out.failed("ours", string(res.Error)+" "+res.Errno)
			continue
		}
		if i < timingWarmup {
			continue
		}
		o := res.ConnectSeconds * 1e6
		bare = append(bare, us(b))
		if r > 0 {
			rtt = append(rtt, us(r))
		}
		ours = append(ours, o)
		oursOver = append(oursOver, o-us(b))
		if res.RTTSeconds > 0 {
			oursRTT = append(oursRTT, res.RTTSeconds*1e6)
			oursOverRTT = append(oursOverRTT, o-res.RTTSeconds*1e6)
		}
	}
	out.Samples = len(ours)
	out.BareUS, out.TCPInfoRTTUS, out.OursUS, out.OursOverheadUS = DistOf(bare), DistOf(rtt), DistOf(ours), DistOf(oursOver)
	out.OursRTTUS, out.OursOverRTTUS = DistOf(oursRTT), DistOf(oursOverRTT)
	if out.Samples == 0 {
		return out, fmt.Errorf("timing: no successful round out of %d", n)
	}
	if bb == nil {
		return out, nil
	}
	var bbBare, bbv, bbOver []float64
	for i := range n + timingWarmup {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		settle()
		b, _, err := BareConnect(ap)
		if err != nil {
			out.failed("bare", err.Error())
			continue
		}
		settle()
		p, err := bb.Probe(ctx, "tcp_connect", ap.String())
		if err != nil {
			out.failed("blackbox", err.Error())
			continue
		}
		if !p.Success {
			out.failed("blackbox", "probe_success 0")
			continue
		}
		if i < timingWarmup {
			continue
		}
		bbBare = append(bbBare, us(b))
		bbv = append(bbv, p.DurationSeconds*1e6)
		bbOver = append(bbOver, p.DurationSeconds*1e6-us(b))
	}
	out.BlackboxBareUS, out.BlackboxUS, out.BlackboxOverheadUS = DistOf(bbBare), DistOf(bbv), DistOf(bbOver)
	return out, nil
}
