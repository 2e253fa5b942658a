package bench

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ingestprobe/ingestprobe/probes/tcp"
)

// probeTimeout bounds each connect of the timing phase; a loopback connect takes microseconds.
const probeTimeout = 5 * time.Second

// BareConnect is the reference: a blocking connect(2) on a fresh socket, timed around the system
// call alone, and the kernel's TCP_INFO RTT of that connection (the SYN → SYN-ACK round trip, µs
// resolution). It closes the socket before returning.
func BareConnect(ap netip.AddrPort) (connect, rtt time.Duration, err error) {
	if !ap.Addr().Is4() {
		return 0, 0, fmt.Errorf("bare connect: %s is not IPv4", ap)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("bare connect: socket: %w", err)
	}
	defer unix.Close(fd)
	// The blocking connect is bounded by the kernel's SYN retries; SO_SNDTIMEO bounds it to our
	// probe timeout instead (connect(2) honours it).
	tv := unix.NsecToTimeval(probeTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv); err != nil {
		return 0, 0, fmt.Errorf("bare connect: %w", err)
	}
	sa := &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	start := time.Now()
	err = unix.Connect(fd, sa)
	connect = time.Since(start)
	if err != nil {
		return connect, 0, fmt.Errorf("bare connect %s: %w", ap, err)
	}
	if info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
		rtt = time.Duration(info.Rtt) * time.Microsecond
	}
	return connect, rtt, nil
}

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
	// Blackbox: probe_duration_seconds of its tcp_connect module, and its excess over the bare
	// connect just before it. Empty when blackbox_exporter did not run.
	BlackboxUS         Dist `json:"blackbox_us"`
	BlackboxOverheadUS Dist `json:"blackbox_overhead_us"`
	Errors             int  `json:"errors"`
}

// timingWarmup connections are made and not counted: the first ones pay for page faults and the
// listener's first accepts.
const timingWarmup = 20

// MeasureTiming makes n rounds of (bare, ours[, bare, blackbox]) connects to ap.
func MeasureTiming(ctx context.Context, ap netip.AddrPort, n int, bb *Blackbox) (Timing, error) {
	out := Timing{Target: ap.String()}
	var bare, rtt, ours, oursOver, bbv, bbOver []float64
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
	for i := range n + timingWarmup {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		b1, r1, err := BareConnect(ap)
		if err != nil {
			out.Errors++
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		res := tcp.New(tcp.Config{Address: ap}).Run(pctx)
		cancel()
		if !res.OK {
			out.Errors++
			continue
		}
		o := res.ConnectSeconds * 1e6
		var b2 time.Duration
		var bp BlackboxProbe
		if bb != nil {
			if b2, _, err = BareConnect(ap); err == nil {
				bp, err = bb.Probe(ctx, "tcp_connect", ap.String())
			}
			if err != nil || !bp.Success {
				out.Errors++
				continue
			}
		}
		if i < timingWarmup {
			continue
		}
		bare = append(bare, us(b1))
		if r1 > 0 {
			rtt = append(rtt, us(r1))
		}
		ours = append(ours, o)
		oursOver = append(oursOver, o-us(b1))
		if bb != nil {
			bbv = append(bbv, bp.DurationSeconds*1e6)
			bbOver = append(bbOver, bp.DurationSeconds*1e6-us(b2))
		}
	}
	out.Samples = len(ours)
	out.BareUS, out.TCPInfoRTTUS, out.OursUS, out.OursOverheadUS = DistOf(bare), DistOf(rtt), DistOf(ours), DistOf(oursOver)
	if bb != nil {
		out.BlackboxUS, out.BlackboxOverheadUS = DistOf(bbv), DistOf(bbOver)
	}
	if out.Samples == 0 {
		return out, fmt.Errorf("timing: no successful round out of %d", n)
	}
	return out, nil
}
