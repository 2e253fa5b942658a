// Package agent runs the target pipeline — parse the URL, resolve, connect, speak RTMP or SRT, diagnose — once for
// `check` and on a schedule for `run`. Both call the same Pipeline.Run.
package agent

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/clock"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/live"
	"github.com/ingestprobe/ingestprobe/probes/path"
	"github.com/ingestprobe/ingestprobe/probes/rtmp"
	"github.com/ingestprobe/ingestprobe/probes/srt"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/probes/uplink"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// maxAddresses bounds how many resolved addresses are connected to: an encoder tries the first one
// or two, and a name with dozens of records must not turn one probe into a port scan.
const maxAddresses = 4

// Stage names a step of the pipeline, for progress display.
type Stage string

const (
	StageDNS  Stage = "dns"
	StageTCP  Stage = "tcp"
	StageRTMP Stage = "rtmp"
	StageSRT  Stage = "srt"
	StageDone Stage = "done"
)

// StageClock is the clock reference's measurement, before the URL doctor judges txTime.
const StageClock Stage = "clock"

// Pipeline probes targets. It is safe for concurrent use.
type Pipeline struct {
	AgentID   string                      // each record's agent
	Resolvers []string                    // empty = the system's
	Profiles  map[string]provider.Profile // built-in merged with configured
	Log       *zap.Logger
	// Progress, if set, is told when a target enters a stage. It must not block.
	Progress func(target string, s Stage)
	// Clock, if set, is the trusted time reference txTime is judged by: the NTP probe when
	// agent.ntp_server is configured. It is a seam: the HTTP sink's collector Date header can be
	// plugged in here later. It is called under the probe's deadline.
	Clock func(ctx context.Context) clock.Result
	// ClockSkewWarn and ClockSkewError are clock.skew's thresholds; 0 = the defaults.
	ClockSkewWarn, ClockSkewError time.Duration
	// ShowLive, if set, says whether a show is live on a target (the live watch's seam, see
	// agent/live.go): non-nil while a publisher is connected or was seen within live_quiet, or while
	// the watch cannot tell. The publish-level RTMP probe (and any probe that takes the stream)
	// then falls back to connect, and the record carries the returned result with HeldBack set.
	ShowLive func(target string) *live.Result
	// UplinkProgress, if set, is told the soak's progress (the rate acknowledged over the last
	// second) at each sample. It must not block.
	UplinkProgress func(target string, p uplink.Progress)
	// Offline runs only the URL doctor (and the clock reference, when set): no DNS, no TCP.
	// `url check` uses it, so its findings are the pipeline's own.
	Offline bool

	now  func() time.Time
	dns  func(dns.Config) dnsProbe // seams for tests; nil = the real probes
	tcp  func(tcp.Config) tcpProbe
	rtmp func(rtmp.Config) rtmpProbe
	icmp func(icmp.Config) icmpProbe
	srt  func(srt.Config) srtProbe
	path func(path.Config) pathProbe

	icmpRaw atomic.Bool // a burst needed the raw socket: try it first from now on
	soaking sync.Map    // names of the targets a soak publishes to now
}

type icmpProbe interface {
	Run(context.Context) icmp.Result
}

type rtmpProbe interface {
	Run(context.Context) rtmp.Result
}

type srtProbe interface {
	Run(context.Context) srt.Result
}

type dnsProbe interface {
	Run(context.Context) dns.Result
}

type tcpProbe interface {
	Run(context.Context) tcp.Result
}

// NewPipeline builds a pipeline from a config.
func NewPipeline(c *config.Config, log *zap.Logger) *Pipeline {
	p := &Pipeline{AgentID: c.Agent.ID, Resolvers: c.Agent.Resolvers, Profiles: c.Profiles(), Log: log,
		ClockSkewWarn: c.Agent.ClockSkewWarn.D(), ClockSkewError: c.Agent.ClockSkewError.D()}
	if c.Agent.NTPServer != "" {
		p.Clock = NTPClock(c.Agent.NTPServer)
	}
	return p
}

// How long a clock measurement is reused. A clock drifts by parts per million — 15 minutes at
// 100 ppm is 90 ms, far under any skew threshold — and public NTP pools ask clients not to poll
// more often than every 64 s (NTP's minimum poll interval), which is also how soon a failed
// measurement is retried. Every target of a run shares one measurement.
const (
	clockMaxAge = 15 * time.Minute
	clockRetry  = 64 * time.Second
)

// NTPClock is a clock reference that asks server (host:port) with SNTP, at most once per
// clockMaxAge however many targets ask. Safe for concurrent use.
func NTPClock(server string) func(context.Context) clock.Result {
	c := &cachedClock{now: time.Now, probe: func(ctx context.Context) clock.Result {
		return clock.New(clock.Config{Server: server}).Run(ctx)
	}}
	return c.get
}

type cachedClock struct {
	mu    sync.Mutex
	now   func() time.Time
	probe func(context.Context) clock.Result
	last  clock.Result
	at    time.Time
	have  bool
	// inflight is closed when the measurement under way ends; nil when none is.
	inflight chan struct{}
}

// get returns the cached measurement while it is fresh, else measures. Targets that ask while a
// measurement is under way wait for it instead of each sending a query — each only as long as its
// own ctx allows. A measurement canceled with its caller is not kept, and a waiter measures then.
func (c *cachedClock) get(ctx context.Context) clock.Result {
	for {
		c.mu.Lock()
		maxAge := clockRetry
		if c.last.OK {
			maxAge = clockMaxAge
		}
		if c.have && c.now().Sub(c.at) < maxAge {
			r := c.last
			c.mu.Unlock()
			return r
		}
		if wait := c.inflight; wait != nil {
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return clock.Result{Probe: "clock", Error: clock.Canceled}
			}
		}
		done := make(chan struct{})
		c.inflight = done
		c.mu.Unlock()

		r := c.probe(ctx)
		c.mu.Lock()
		if r.Error != clock.Canceled { // a canceled query says nothing about the server
			c.last, c.at, c.have = r, c.now(), true
		}
		c.inflight = nil
		c.mu.Unlock()
		close(done)
		return r
	}
}

func (p *Pipeline) progress(t string, s Stage) {
	if p.Progress != nil {
		p.Progress(t, s)
	}
}

// Run probes one target and diagnoses what it measured. It never fails: failures are findings.
// Every probe runs under its own deadline of t.Timeout, so no probe waits on another's timeout.
func (p *Pipeline) Run(ctx context.Context, t Target) record.Record {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	start := now()
	rec := record.Record{Agent: p.AgentID, Target: t.Name, URL: ingesturl.Redact(t.URL), Time: start.UTC(), Labels: t.Labels}
	defer p.progress(t.Name, StageDone)

	u, err := t.parse()
	in := diagnose.Input{URL: u, URLError: err, Now: start, MinValidity: t.MinURLValidity, EventEnd: t.EventEnd,
		ClockSkewWarn: p.ClockSkewWarn, ClockSkewError: p.ClockSkewError, ICMP: t.ICMPThresholds}
	// The URL doctor runs first: it costs nothing, and an expired or badly signed URL explains a
	// rejected publish later on. Its clock comes first of all, since txTime is judged by it.
	if p.Clock != nil {
		p.progress(t.Name, StageClock)
		cctx, cancel := context.WithTimeout(ctx, probeTimeout(t))
		c := p.Clock(cctx)
		cancel()
		in.Results.Clock = &c
	}
	if err == nil {
		prof, _ := provider.Resolve(t.Provider, u, p.Profiles)
		in.Provider = prof
		rec.Provider = prof.Name
		// A configured key means the URL is signed, whatever the provider detection says: a URL that
		// lost its txSecret must not pass as unsigned.
		lint := ingesturl.LintURL(u, ingesturl.LintOptions{Mode: t.Mode, Signed: prof.SignedURL || len(t.SignKeys) > 0, Keys: t.SignKeys,
			Ingest: prof.IngestRules()})
		in.Results.URL = &lint
		if !p.Offline {
			nr := p.probe(ctx, t, u)
			nr.URL, nr.Clock = in.Results.URL, in.Results.Clock
			in.Results = nr
		}
	}
	rec.Findings = diagnose.Findings(in)
	if rec.Findings == nil {
		rec.Findings = []record.Finding{}
	}
	rec.Results = in.Results
	rec.Verdict = record.VerdictOf(rec.Findings)
	rec.DurationSeconds = now().Sub(start).Seconds()
	if p.Log != nil {
		p.Log.Debug("target probed", zap.String("target", t.Name), zap.String("verdict", string(rec.Verdict)),
			zap.Int("findings", len(rec.Findings)), zap.Float64("duration_seconds", rec.DurationSeconds))
	}
	return rec
}

func probeTimeout(t Target) time.Duration {
	if t.Timeout <= 0 {
		return config.DefaultTimeout
	}
	return t.Timeout
}

func (p *Pipeline) probe(ctx context.Context, t Target, u *ingesturl.URL) record.Results {
	var res record.Results
	timeout := probeTimeout(t)
	var addrs []netip.Addr
	if ip, ok := u.IP(); ok {
		addrs = []netip.Addr{ip}
	} else {
		p.progress(t.Name, StageDNS)
		dctx, cancel := context.WithTimeout(ctx, timeout)
		d := p.newDNS(dns.Config{Host: u.Host, Servers: p.Resolvers}).Run(dctx)
		cancel()
		res.DNS = &d
		addrs = pickAddresses(d.Addresses())
	}
	if len(addrs) == 0 || ctx.Err() != nil {
		return res
	}
	alt := t.AltPorts
	if alt == nil {
		alt = tcp.AlternativePorts(u.Port)
	}
	ports := append([]int{u.Port}, alt...)
	// SRT publishes over UDP: a TCP connect to its port would say nothing about it. The SRT
	// handshake takes its place, and the alternative ports are still connected to: "no SRT
	// answer while TCP 443 on the same server connects" tells a network that drops UDP from a
	// server that answers nothing.
	isSRT := u.Scheme == "srt"
	if isSRT {
		ports = alt
		p.progress(t.Name, StageSRT)
	} else {
		p.progress(t.Name, StageTCP)
	}
	res.TCP = make([]tcp.Result, len(addrs)*len(ports))
	// The ingest port's connections are kept for the RTMP session (one per address), so it
	// continues on the connection measured here: one connection per ingest address per run.
	kept := make([]net.Conn, len(res.TCP))
	keep := !isSRT && rtmpLevel(t) != rtmp.LevelOff && (u.Scheme == "rtmp" || u.Scheme == "rtmps")
	// All connects start together: the ingest port and the alternatives are measured at the same
	// moment, so "1935 timed out while 443 connected" describes one state of the network.
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var wg sync.WaitGroup
	// The ICMP burst runs beside the connects under the same deadline, so it never makes a run
	// longer than its slowest connect may be; one address is enough to measure the path.
	if !t.SkipICMP {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.newICMP(icmp.Config{Address: addrs[0], Count: t.ICMPCount, PrivilegedFirst: p.icmpRaw.Load()}).Run(tctx)
			if r.Error == icmp.OK && r.Privileged {
				p.icmpRaw.Store(true) // no ping socket here: go straight to the raw one next time
			}
			res.ICMP = &r
		}()
	}
	// The SRT handshake goes to the first address, as an encoder's would; it runs beside the
	// connects, under the same deadline. A URL whose mode leaves nothing to call (listener,
	// rendezvous) is the URL doctor's finding, not a probe's.
	if opts := u.SRT(); isSRT && opts.Mode == "caller" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.newSRT(srt.Config{Address: netip.AddrPortFrom(addrs[0], uint16(u.Port)), StreamID: opts.StreamID,
				Passphrase: opts.Passphrase, KeyLength: opts.KeyLength, Latency: opts.Latency}).Run(tctx)
			res.SRT = &r
		}()
	}
	for i, a := range addrs {
		for j, port := range ports {
			role := roleOf(j)
			if isSRT {
				role = "alternative" // the ingest port is UDP: every TCP port is an alternative
			}
			wg.Add(1)
			go func(k int, ap netip.AddrPort, role string) {
				defer wg.Done()
				cfg := tcp.Config{Address: ap}
				if keep && role == "ingest" {
					cfg.Keep = func(c net.Conn) { kept[k] = c }
				}
				r := p.newTCP(cfg).Run(tctx)
				r.Role = role
				res.TCP[k] = r
			}(i*len(ports)+j, netip.AddrPortFrom(a, uint16(port)), role)
		}
	}
	wg.Wait()
	cancel()
	p.probePath(ctx, t, u, &res)
	p.probeRTMP(ctx, t, u, timeout, &res, kept)
	p.probeMTU(ctx, t, u, timeout, &res)
	p.probeOtherFamily(ctx, t, u, timeout, &res)
	return res
}

// rtmpLevel is the target's RTMP level, the default when unset.
func rtmpLevel(t Target) rtmp.Level {
	if t.RTMP == "" {
		return rtmp.LevelHandshake
	}
	return t.RTMP
}

// probeRTMP runs the RTMP probe on the first address whose ingest port connected: an encoder
// would use that one, and a second session elsewhere adds nothing but load. It has its own
// deadline, lengthened by the hold for a publish, and by the soak's warm-up and window when this
// run soaks (soakNow): then the publish carries the uplink soak in place of its hold.
//
// kept holds the ingest port's connections the TCP connects made (by index in res.TCP): the one to
// the chosen address is handed to the session, the others are closed.
func (p *Pipeline) probeRTMP(ctx context.Context, t Target, u *ingesturl.URL, timeout time.Duration, res *record.Results, kept []net.Conn) {
	var conn net.Conn
	defer func() {
		for _, c := range kept {
			if c != nil && c != conn {
				_ = c.Close()
			}
		}
	}()
	level := rtmpLevel(t)
	soak := p.soakNow(t)
	if soak {
		level = rtmp.LevelPublish
	}
	if level == rtmp.LevelOff || (u.Scheme != "rtmp" && u.Scheme != "rtmps") || ctx.Err() != nil {
		return
	}
	var addr netip.AddrPort
	for i, r := range res.TCP {
		if r.Role == "ingest" && r.OK {
			if a, err := netip.ParseAddr(r.Address); err == nil {
				addr = netip.AddrPortFrom(a, uint16(r.Port))
				conn = kept[i]
				break
			}
		}
	}
	if !addr.IsValid() {
		return // TCP findings say why
	}
	if level == rtmp.LevelPublish {
		if held := p.heldBack(t); held != nil {
			// Never publish over a show, neither a publish check nor a soak: the record says why.
			level = rtmp.LevelConnect
			if soak {
				held.HeldBack = "publish (uplink soak)"
				soak = false
			}
			res.Live = held
		}
	}
	if level == rtmp.LevelPublish && !soak {
		if _, busy := p.soaking.Load(t.Name); busy {
			// The soak of this target publishes now: a publish check would only find its own
			// stream in use. Connect tells as much about the ingest without touching the stream.
			level = rtmp.LevelConnect
		}
	}
	cfg := rtmp.Config{Address: addr, URL: u, Level: level, CAFile: t.CAFile, InsecureSkipVerify: t.InsecureSkipVerify, Conn: conn}
	var (
		ucfg uplink.Config
		ur   *uplink.Result
	)
	if soak {
		release, ok := acquireSoak(ctx)
		if !ok {
			return
		}
		defer release()
		p.soaking.Store(t.Name, true)
		defer p.soaking.Delete(t.Name)
		ucfg = uplink.Config{Rate: t.Uplink, Window: t.UplinkFor}
		if p.UplinkProgress != nil {
			ucfg.Progress = func(pr uplink.Progress) { p.UplinkProgress(t.Name, pr) }
		}
		timeout += uplink.Budget(ucfg)
		cfg.Stream = func(ctx context.Context, st *rtmp.Stream) error {
			r, err := uplink.New(ucfg).Stream(ctx, st)
			ur = &r
			return err
		}
	} else if level == rtmp.LevelPublish {
		timeout += rtmp.DefaultHold
	}
	p.progress(t.Name, StageRTMP)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := p.newRTMP(cfg).Run(rctx)
	res.RTMP = &r
	if soak {
		if ur == nil {
			nr := uplink.NotRun(ucfg)
			ur = &nr
		}
		res.Uplink = ur
	}
}

// soakNow is the one place that decides whether this run of t soaks its uplink: the target asks
// for a soak (a bitrate, and a run marked Soak by check --uplink or the daemon's soak schedule).
// A show live on the stream (heldBack, the live watch) holds it back in probeRTMP, which records
// why.
func (p *Pipeline) soakNow(t Target) bool {
	return t.Soak && t.Uplink > 0
}

// soakSlot is the agent-wide limit of one soak at a time: two soaks would share the uplink and
// each measure half of it. It is the process's, so a reload's new pipeline shares it too.
var soakSlot = make(chan struct{}, 1)

// acquireSoak waits for the soak slot, or for ctx.
func acquireSoak(ctx context.Context) (release func(), ok bool) {
	select {
	case soakSlot <- struct{}{}:
		return func() { <-soakSlot }, true
	case <-ctx.Done():
		return nil, false
	}
}

func roleOf(i int) string {
	if i == 0 {
		return "ingest"
	}
	return "alternative"
}

// pickAddresses keeps at most maxAddresses, alternating IPv4 and IPv6 so both families are tested.
func pickAddresses(all []netip.Addr) []netip.Addr {
	var v4, v6 []netip.Addr
	for _, a := range all {
		if a.Unmap().Is4() {
			v4 = append(v4, a.Unmap())
		} else {
			v6 = append(v6, a)
		}
	}
	var out []netip.Addr
	for i := 0; len(out) < maxAddresses && (i < len(v4) || i < len(v6)); i++ {
		if i < len(v4) {
			out = append(out, v4[i])
		}
		if i < len(v6) && len(out) < maxAddresses {
			out = append(out, v6[i])
		}
	}
	return out
}

func (p *Pipeline) newDNS(c dns.Config) dnsProbe {
	if p.dns != nil {
		return p.dns(c)
	}
	return dns.New(c)
}

func (p *Pipeline) newRTMP(c rtmp.Config) rtmpProbe {
	if p.rtmp != nil {
		return p.rtmp(c)
	}
	return rtmp.New(c)
}

func (p *Pipeline) newTCP(c tcp.Config) tcpProbe {
	if p.tcp != nil {
		return p.tcp(c)
	}
	return tcp.New(c)
}

func (p *Pipeline) newSRT(c srt.Config) srtProbe {
	if p.srt != nil {
		return p.srt(c)
	}
	return srt.New(c)
}

func (p *Pipeline) newICMP(c icmp.Config) icmpProbe {
	if p.icmp != nil {
		return p.icmp(c)
	}
	return icmp.New(c)
}
