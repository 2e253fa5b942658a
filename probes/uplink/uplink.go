// Package uplink measures whether this network sustains a show's bitrate to an RTMP ingest: it
// publishes real H.264/AAC — a clip encoded once (media/README.md), looped with rewritten
// timestamps and padded to the rate with H.264 filler-data NAL units as x264 does in CBR mode —
// in real time at 1.25 × the show's rate (an encoder's peaks need the headroom), and reports the
// rate the peer acknowledged.
//
// The measure is honest about where bytes are: a socket takes megabytes into its buffer at once,
// so what was written says nothing. The achieved rate is tcpi_bytes_acked from TCP_INFO (Linux),
// sampled every SampleEvery with the RTT under load, the retransmitted segments, the unsent
// backlog and the kernel's delivery rate; the server's RTMP Acknowledgements — asked for often,
// with a Window Acknowledgement Size — are the cross-check, and the measure on other systems.
// The first Warmup (TCP slow start) is sent but not counted.
//
// The probe does not dial: probes/rtmp runs the session and hands its accepted publish to
// Stream through a Publisher (rtmp.Config.Stream); the agent wires the two.
package uplink

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults and bounds. The window is what `--uplink-for` and uplink_for set.
const (
	DefaultWindow = 10 * time.Second
	MinWindow     = 3 * time.Second
	MaxWindow     = 5 * time.Minute
	// DefaultEvery is how often the daemon soaks a target with uplink set (uplink_every): a soak
	// occupies the stream and sends the show's bitrate, so far less often than the checks.
	DefaultEvery = time.Hour
	// MinEvery keeps a schedule from soaking back to back.
	MinEvery = time.Minute
	// DefaultWarmup is sent first and not counted: TCP slow start, and the first RTTs of a path
	// whose queues are still empty.
	DefaultWarmup = 2 * time.Second
	// Headroom is the share above the show's rate that is offered: an encoder's peaks.
	Headroom = 1.25
	// SampleEvery is how often TCP_INFO and the server's Acknowledgements are read.
	SampleEvery = 250 * time.Millisecond
	// MaxRate bounds RATE: 1 Gbit/s is far above any show and any venue uplink.
	MaxRate = 1_000_000_000
	// Slack is what a soak adds to a run's RTMP deadline beyond warm-up and window: a frame
	// written at the end of the window may wait on a slow path, and the release follows.
	Slack = 3 * time.Second
)

// Class is why a soak did not measure. Safe as a metric label.
type Class string

const (
	OK           Class = ""
	NotPublished Class = "not_published" // the publish was not accepted: nothing was sent (the RTMP result says why)
	Dropped      Class = "dropped"       // the server or the network ended the publish during the soak
	Unmeasured   Class = "unmeasured"    // neither TCP_INFO nor the server's Acknowledgements measured what arrived
	Canceled     Class = "canceled"
)

// Config is one soak.
type Config struct {
	Rate   int64         // the show's total bitrate, bit/s (1 to MaxRate)
	Window time.Duration // the measured window; 0 = DefaultWindow
	Warmup time.Duration // sent before the window, not counted; 0 = DefaultWarmup
	// Progress, if set, is told the rate the peer acknowledged over the last second, at each
	// sample. It runs on the soak's sampler goroutine and must not block.
	Progress func(Progress)
}

// Progress is the soak's state at one sample.
type Progress struct {
	Elapsed, Total time.Duration // since the first frame; warm-up and window
	Warmup         bool
	BPS            float64 // acknowledged over the last second
}

// Publisher is an accepted RTMP publish: *rtmp.Stream, declared here so this probe imports no
// other probe.
type Publisher interface {
	Conn() net.Conn
	WriteAudio(ts uint32, payload []byte) error
	WriteVideo(ts uint32, payload []byte) error
	WriteData(payload []byte) error
	SetAckWindow(n uint32) error
	Written() uint64
	Acknowledged() (bytes uint64, at time.Time, count int)
	Err() error
}

// Result is what a soak measured. Rates are bit/s; it holds no stream name.
type Result struct {
	Probe      string `json:"probe"` // always "uplink"
	OK         bool   `json:"ok"`    // the window was measured
	Error      Class  `json:"error,omitempty"`
	MeasuredBy string `json:"measured_by,omitempty"` // tcp_info (Linux) or rtmp_ack
	TargetBPS  int64  `json:"target_bps"`
	// SentBPS is what was written into the socket over the window (at most Headroom × target);
	// AchievedBPS what the peer acknowledged.
	SentBPS         float64 `json:"sent_bps"`
	AchievedBPS     float64 `json:"achieved_bps"`
	DurationSeconds float64 `json:"duration_seconds"`
	// RTT: idle (before the soak: the connection's minimum) and under load (min/avg/max of the
	// smoothed RTT sampled every SampleEvery). Zero without TCP_INFO.
	RTTIdleSeconds  float64 `json:"rtt_idle_seconds,omitempty"`
	RTTMinSeconds   float64 `json:"rtt_min_seconds"`
	RTTAvgSeconds   float64 `json:"rtt_avg_seconds"`
	RTTMaxSeconds   float64 `json:"rtt_max_seconds"`
	RetransmitRatio float64 `json:"retransmit_ratio"`
	// MaxBacklogBytes is the most the soak was behind: produced by the clock but not yet handed
	// to the network (an encoder's output queue plus the socket's unsent bytes).
	MaxBacklogBytes int64   `json:"max_backlog_bytes"`
	DeliveryRateBPS float64 `json:"delivery_rate_bps,omitempty"` // the kernel's estimate, averaged over the window
	RTMPAckBPS      float64 `json:"rtmp_ack_bps,omitempty"`      // the rate by the server's Acknowledgements (cross-check)
	// RecommendedMaxBPS is the highest encoder bitrate this uplink carries with Headroom to
	// spare: achieved / 1.25, rounded down to 100 kbit/s.
	RecommendedMaxBPS int64  `json:"recommended_max_bps"`
	VideoCodec        string `json:"video_codec"`
	AudioCodec        string `json:"audio_codec"`
}

// Probe is one soak.
type Probe struct {
	cfg Config
	now func() time.Time
}

// New returns a soak for cfg.
func New(cfg Config) *Probe {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = DefaultWarmup
	}
	return &Probe{cfg: cfg, now: time.Now}
}

// Budget is how long a soak of cfg needs beyond the session's own timeout.
func Budget(cfg Config) time.Duration {
	c := New(cfg).cfg
	return c.Warmup + c.Window + Slack
}

// NotRun is the result of a soak whose publish was not accepted: nothing was sent.
func NotRun(cfg Config) Result {
	return Result{Probe: "uplink", Error: NotPublished, TargetBPS: cfg.Rate, VideoCodec: "h264", AudioCodec: "aac"}
}

// parsedClip parses the embedded clip once, when the first soak starts.
var parsedClip = sync.OnceValues(func() (*clip, error) { return parseClip(clipFLV) })

// Stream sends the media on pub — warm-up, then the window — and measures. It returns the result
// and, when the publish broke, the error that broke it (for the RTMP session to report). It
// returns by ctx's deadline at the latest, after waiting for its sampler.
func (p *Probe) Stream(ctx context.Context, pub Publisher) (Result, error) {
	cfg := p.cfg
	r := Result{Probe: "uplink", TargetBPS: cfg.Rate, VideoCodec: "h264", AudioCodec: "aac"}
	c, err := parsedClip()
	if err != nil {
		return r, err
	}
	sendBytesPerSec := float64(cfg.Rate) * Headroom / 8
	conn := pub.Conn()
	idle, hasInfo := readTCPInfo(conn)
	if hasInfo {
		limitUnsent(conn, max(32<<10, int(sendBytesPerSec/8)))
		r.RTTIdleSeconds = idle.minRTT.Seconds()
		if idle.minRTT == 0 {
			r.RTTIdleSeconds = idle.rtt.Seconds()
		}
	} else if wb, ok := conn.(interface{ SetWriteBuffer(int) error }); ok {
		_ = wb.SetWriteBuffer(max(64<<10, int(sendBytesPerSec)))
	}
	// An Acknowledgement about four times a second: enough to measure by where TCP_INFO is missing.
	if err := pub.SetAckWindow(uint32(max(64<<10, min(sendBytesPerSec/4, 1<<30)))); err != nil {
		r.Error = Dropped
		return r, err
	}
	audioKbps := float64(0)
	for _, f := range c.frames {
		if f.typ == tagAudio {
			audioKbps += float64(len(f.body))
		}
	}
	audioKbps = audioKbps * 8 / clipPeriod // bytes per loop → kbit/s (bits per ms)
	videoKbps := float64(cfg.Rate)/1000 - audioKbps
	for _, w := range []func() error{
		func() error { return pub.WriteData(metadata(videoKbps, audioKbps)) },
		func() error { return pub.WriteVideo(0, c.avcConfig.body) },
		func() error { return pub.WriteAudio(0, c.aacConfig.body) },
	} {
		if err := w(); err != nil {
			r.Error = Dropped
			return r, err
		}
	}

	t0 := p.now()
	warmEnd := t0.Add(cfg.Warmup)
	end := warmEnd.Add(cfg.Window)
	s := &sampler{p: p, pub: pub, conn: conn, hasInfo: hasInfo, t0: t0, warmEnd: warmEnd, end: end,
		written0: pub.Written(), sendBytesPerSec: sendBytesPerSec, total: cfg.Warmup + cfg.Window}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.run(sctx)
	}()
	werr := p.send(ctx, pub, c, t0, end, sendBytesPerSec)
	if werr != nil {
		stop()
	}
	<-done // the sampler's last sample is the first at or after end (or ctx ended)
	stop()

	switch {
	case werr != nil || pub.Err() != nil:
		r.Error = Dropped
		if werr == nil {
			werr = pub.Err()
		}
		if ctx.Err() == context.Canceled {
			r.Error = Canceled
		}
		return r, werr
	case !s.complete:
		r.Error = Canceled
		if ctx.Err() != context.Canceled {
			r.Error = Unmeasured // the deadline came before the window ended
		}
		return r, nil
	}
	s.fill(&r)
	return r, nil
}

// send writes the clip in real time from t0 until end, looping it with rewritten timestamps and
// padding each video frame with filler so the bytes written follow sendBytesPerSec. A frame due
// while the previous write is still blocked is written at once: on a path that carries less,
// the soak stays saturated and its lag is the backlog.
func (p *Probe) send(ctx context.Context, pub Publisher, c *clip, t0, end time.Time, sendBytesPerSec float64) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var (
		sent  float64 // payload bytes written since t0
		frame []byte
	)
	frameMS := 1000.0 / clipFrameRate
	for loop := uint32(0); ; loop++ {
		for _, f := range c.frames {
			ts := loop*clipPeriod + f.ts
			due := t0.Add(time.Duration(ts) * time.Millisecond)
			if !due.Before(end) {
				return nil
			}
			// Frames due within writeAhead go out with the one before them: one wake-up per video
			// frame or so instead of one per audio and video frame (the soak's CPU is mostly
			// wake-ups), at most writeAhead earlier than an encoder would send them.
			if wait := due.Sub(p.now()); wait > writeAhead {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return nil
				case <-timer.C:
				}
			}
			if ctx.Err() != nil {
				return nil
			}
			var err error
			switch f.typ {
			case tagAudio:
				err = pub.WriteAudio(ts, f.body)
				sent += float64(len(f.body))
			case tagVideo:
				// Pad to the bytes the rate allows by the end of this frame's slot.
				want := sendBytesPerSec * (float64(ts) + frameMS) / 1000
				frame = append(frame[:0], f.body...)
				pad := int(want - sent - float64(len(frame)))
				for pad >= c.nalLength+2 {
					n := min(pad, maxFillerNAL(c.nalLength))
					if pad-n > 0 && pad-n < c.nalLength+2 {
						n = pad - (c.nalLength + 2) // leave a remainder a NAL can hold
					}
					frame = fillerNAL(frame, c.nalLength, n)
					pad -= n
				}
				err = pub.WriteVideo(ts, frame)
				sent += float64(len(frame))
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

// writeAhead is how early a frame may be written: less than a video frame's 40 ms.
const writeAhead = 25 * time.Millisecond

// tcpStats is what one TCP_INFO read gives the soak.
type tcpStats struct {
	bytesAcked   uint64
	rtt, minRTT  time.Duration
	dataSegsOut  uint32
	retrans      uint32
	notsent      uint32
	deliveryRate uint64 // bytes/s
}

// sampler reads TCP_INFO and the server's Acknowledgements every SampleEvery.
type sampler struct {
	p               *Probe
	pub             Publisher
	conn            net.Conn
	hasInfo         bool
	t0, warmEnd     time.Time
	end             time.Time
	total           time.Duration
	written0        uint64
	sendBytesPerSec float64

	// The window: its first and last samples, and what was seen between.
	complete           bool
	base, last         point
	rtts               []time.Duration
	deliveryRates      []uint64
	maxBacklog         int64
	recent             []point // the last second, for Progress
	hasBase            bool
	ackBase, ackLast   ack
	written1, written2 uint64
}

type point struct {
	at   time.Time
	info tcpStats
	ack  ack
}

type ack struct {
	bytes uint64
	at    time.Time
	count int
}

func (s *sampler) sample() point {
	pt := point{at: s.p.now()}
	if s.hasInfo {
		if st, ok := readTCPInfo(s.conn); ok {
			pt.info = st
		}
	}
	pt.ack.bytes, pt.ack.at, pt.ack.count = s.pub.Acknowledged()
	return pt
}

func (s *sampler) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := 1; ; i++ {
		next := s.t0.Add(time.Duration(i) * SampleEvery)
		if wait := next.Sub(s.p.now()); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		pt := s.sample()
		s.progress(pt)
		switch {
		case pt.at.Before(s.warmEnd):
			continue
		case !s.hasBase:
			s.base, s.hasBase = pt, true
			s.written1 = s.pub.Written()
			continue
		}
		s.observe(pt)
		if !pt.at.Before(s.end) {
			s.last = pt
			s.written2 = s.pub.Written()
			s.complete = true
			return
		}
	}
}

// observe keeps the window's RTT, delivery rate and backlog.
func (s *sampler) observe(pt point) {
	if s.hasInfo && pt.info.rtt > 0 {
		s.rtts = append(s.rtts, pt.info.rtt)
		s.deliveryRates = append(s.deliveryRates, pt.info.deliveryRate)
	}
	// Produced by the clock (at the send rate) but not handed to the network: the writer's lag
	// plus what waits unsent in the socket.
	due := s.sendBytesPerSec * pt.at.Sub(s.t0).Seconds()
	handed := float64(s.pub.Written()-s.written0) - float64(pt.info.notsent)
	s.maxBacklog = max(s.maxBacklog, int64(due-handed))
}

// progress tells Config.Progress the rate acknowledged over the last second.
func (s *sampler) progress(pt point) {
	s.recent = append(s.recent, pt)
	for len(s.recent) > 1 && pt.at.Sub(s.recent[0].at) > time.Second {
		s.recent = s.recent[1:]
	}
	if s.p.cfg.Progress == nil || len(s.recent) < 2 {
		return
	}
	first := s.recent[0]
	dt := pt.at.Sub(first.at).Seconds()
	bps := 0.0
	switch {
	case s.hasInfo:
		bps = float64(pt.info.bytesAcked-first.info.bytesAcked) * 8 / dt
	case pt.ack.count > first.ack.count && pt.ack.at.After(first.ack.at):
		bps = float64(pt.ack.bytes-first.ack.bytes) * 8 / pt.ack.at.Sub(first.ack.at).Seconds()
	}
	s.p.cfg.Progress(Progress{Elapsed: pt.at.Sub(s.t0), Total: s.total, Warmup: pt.at.Before(s.warmEnd), BPS: bps})
}

// fill computes the result of a complete window.
func (s *sampler) fill(r *Result) {
	dt := s.last.at.Sub(s.base.at).Seconds()
	r.DurationSeconds = round3(dt)
	r.SentBPS = math.Round(float64(s.written2-s.written1) * 8 / dt)
	// The Acknowledgements: from the last one known at the window's start to the last known at its
	// end, when at least half the window lies between them.
	a, b := s.base.ack, s.last.ack
	if b.count > a.count && a.count > 0 && b.at.Sub(a.at) >= time.Duration(dt*float64(time.Second)/2) && b.bytes > a.bytes {
		r.RTMPAckBPS = math.Round(float64(b.bytes-a.bytes) * 8 / b.at.Sub(a.at).Seconds())
	}
	switch {
	case s.hasInfo && s.last.info.bytesAcked > 0:
		r.MeasuredBy = "tcp_info"
		r.AchievedBPS = math.Round(float64(s.last.info.bytesAcked-s.base.info.bytesAcked) * 8 / dt)
		if segs := s.last.info.dataSegsOut - s.base.info.dataSegsOut; segs > 0 {
			r.RetransmitRatio = round4(float64(s.last.info.retrans-s.base.info.retrans) / float64(segs))
		}
		if len(s.rtts) > 0 {
			mn, mx, sum := s.rtts[0], s.rtts[0], time.Duration(0)
			for _, x := range s.rtts {
				mn, mx, sum = min(mn, x), max(mx, x), sum+x
			}
			r.RTTMinSeconds, r.RTTMaxSeconds = round6(mn.Seconds()), round6(mx.Seconds())
			r.RTTAvgSeconds = round6((sum / time.Duration(len(s.rtts))).Seconds())
			var dr float64
			for _, x := range s.deliveryRates {
				dr += float64(x)
			}
			r.DeliveryRateBPS = math.Round(dr * 8 / float64(len(s.deliveryRates)))
		}
	case r.RTMPAckBPS > 0:
		r.MeasuredBy = "rtmp_ack"
		r.AchievedBPS = r.RTMPAckBPS
	default:
		r.Error = Unmeasured
		return
	}
	r.RTTIdleSeconds = round6(r.RTTIdleSeconds)
	r.MaxBacklogBytes = max(0, s.maxBacklog)
	r.RecommendedMaxBPS = Recommended(r.AchievedBPS)
	r.OK = true
}

// Recommended is the highest encoder bitrate an uplink that achieved bps carries with Headroom
// to spare, rounded down to 100 kbit/s.
func Recommended(bps float64) int64 {
	return int64(bps/Headroom/100_000) * 100_000
}

func round3(x float64) float64 { return math.Round(x*1e3) / 1e3 }
func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// ParseRate reads a bitrate in bit/s: "6M", "4500k", "6000000", "2.5M" (k, M and G are powers of
// 1000; "bit/s" or "bps" may follow). It must be above 0 and at most MaxRate.
func ParseRate(s string) (int64, error) {
	in := strings.TrimSpace(s)
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(in, "bit/s"), "bps"), "b")
	t = strings.TrimSpace(t)
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult, t = 1e3, t[:n-1]
		case 'm', 'M':
			mult, t = 1e6, t[:n-1]
		case 'g', 'G':
			mult, t = 1e9, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a bitrate: write it in bit/s, like 6M, 4500k or 6000000", truncate(in, 24))
	}
	bps := v * mult
	switch {
	case bps <= 0:
		return 0, fmt.Errorf("%q: the bitrate must be above 0", truncate(in, 24))
	case bps > MaxRate:
		return 0, fmt.Errorf("%q: the bitrate must be at most 1G (1 Gbit/s)", truncate(in, 24))
	case bps < 1:
		return 0, fmt.Errorf("%q: the bitrate must be at least 1 bit/s", truncate(in, 24))
	}
	return int64(bps), nil
}

// CheckWindow says whether d is a window a soak measures over.
func CheckWindow(d time.Duration) error {
	if d < MinWindow || d > MaxWindow {
		return fmt.Errorf("%s: the measured window must be from %s to %s", d, MinWindow, MaxWindow)
	}
	return nil
}

// FormatRate writes bit/s for people: "6.0 Mbit/s", "750 kbit/s".
func FormatRate(bps float64) string {
	switch {
	case bps >= 1e9:
		return strconv.FormatFloat(bps/1e9, 'f', 2, 64) + " Gbit/s"
	case bps >= 1e6:
		return strconv.FormatFloat(bps/1e6, 'f', 1, 64) + " Mbit/s"
	case bps >= 1e3:
		return strconv.FormatFloat(bps/1e3, 'f', 0, 64) + " kbit/s"
	}
	return strconv.FormatFloat(bps, 'f', 0, 64) + " bit/s"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
