// Package agent runs the target pipeline — parse the URL, resolve, connect, diagnose — once for
// `check` and on a schedule for `run`. Both call the same Pipeline.Run.
package agent

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/ingestprobe/ingestprobe/config"
	"github.com/ingestprobe/ingestprobe/diagnose"
	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/probes/dns"
	"github.com/ingestprobe/ingestprobe/probes/icmp"
	"github.com/ingestprobe/ingestprobe/probes/tcp"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// maxAddresses bounds how many resolved addresses are connected to: an encoder tries the first one
// or two, and a name with dozens of records must not turn one probe into a port scan.
const maxAddresses = 4

// Target is one ingest, as the pipeline needs it.
type Target struct {
	Name     string
	URL      string // raw: a secret; never logged
	Provider string
	AltPorts []int // nil = the defaults for the ingest port
	Timeout  time.Duration
	Labels   map[string]string
	// SkipICMP turns the ICMP burst off (icmp = false); ICMPCount 0 and zero ICMPThresholds take
	// the defaults, so a target built from a bare URL gets ICMP as configured targets do.
	SkipICMP       bool
	ICMPCount      int
	ICMPThresholds diagnose.ICMPThresholds
}

// TargetsFromConfig turns configured targets into pipeline targets.
func TargetsFromConfig(c *config.Config) []Target {
	out := make([]Target, 0, len(c.Targets))
	for _, t := range c.Targets {
		out = append(out, Target{Name: t.Name, URL: t.URL, Provider: t.Provider, AltPorts: t.AltPorts, Timeout: t.Timeout.D(), Labels: c.Agent.Labels,
			SkipICMP: t.ICMP != nil && !*t.ICMP, ICMPCount: t.ICMPCount, ICMPThresholds: icmpThresholds(t)})
	}
	return out
}

// Stage names a step of the pipeline, for progress display.
type Stage string

const (
	StageDNS  Stage = "dns"
	StageTCP  Stage = "tcp"
	StageDone Stage = "done"
)

// Pipeline probes targets. It is safe for concurrent use.
type Pipeline struct {
	Resolvers []string                    // empty = the system's
	Profiles  map[string]provider.Profile // built-in merged with configured
	Log       *zap.Logger
	// Progress, if set, is told when a target enters a stage. It must not block.
	Progress func(target string, s Stage)

	now func() time.Time
	dns func(dns.Config) interface {
		Run(context.Context) dns.Result
	}
	tcp func(tcp.Config) interface {
		Run(context.Context) tcp.Result
	}
	icmp func(icmp.Config) interface {
		Run(context.Context) icmp.Result
	}
}

// icmpThresholds of a configured target; zero (the defaults) for one not validated by config.
func icmpThresholds(t config.Target) diagnose.ICMPThresholds {
	if t.LossWarnRatio == nil || t.LossErrorRatio == nil {
		return diagnose.ICMPThresholds{}
	}
	return t.ICMPThresholds()
}

// NewPipeline builds a pipeline from a config.
func NewPipeline(c *config.Config, log *zap.Logger) *Pipeline {
	return &Pipeline{Resolvers: c.Agent.Resolvers, Profiles: c.Profiles(), Log: log}
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
	rec := record.Record{Target: t.Name, URL: ingesturl.Redact(t.URL), Time: start.UTC(), Labels: t.Labels}
	defer p.progress(t.Name, StageDone)

	u, err := ingesturl.Parse(t.URL)
	in := diagnose.Input{URL: u, URLError: err, ICMP: t.ICMPThresholds}
	if err == nil {
		prof, _ := provider.Resolve(t.Provider, u, p.Profiles)
		in.Provider = prof
		rec.Provider = prof.Name
		in.Results = p.probe(ctx, t, u)
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

func (p *Pipeline) probe(ctx context.Context, t Target, u *ingesturl.URL) record.Results {
	var res record.Results
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
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
	p.progress(t.Name, StageTCP)
	alt := t.AltPorts
	if alt == nil {
		alt = config.DefaultAltPortsFor(u.Port)
	}
	ports := append([]int{u.Port}, alt...)
	res.TCP = make([]tcp.Result, len(addrs)*len(ports))
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
			r := p.newICMP(icmp.Config{Address: addrs[0], Count: t.ICMPCount}).Run(tctx)
			res.ICMP = &r
		}()
	}
	for i, a := range addrs {
		for j, port := range ports {
			wg.Add(1)
			go func(k int, ap netip.AddrPort, role string) {
				defer wg.Done()
				r := p.newTCP(tcp.Config{Address: ap}).Run(tctx)
				r.Role = role
				res.TCP[k] = r
			}(i*len(ports)+j, netip.AddrPortFrom(a, uint16(port)), roleOf(j))
		}
	}
	wg.Wait()
	return res
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

func (p *Pipeline) newDNS(c dns.Config) interface {
	Run(context.Context) dns.Result
} {
	if p.dns != nil {
		return p.dns(c)
	}
	return dns.New(c)
}

func (p *Pipeline) newTCP(c tcp.Config) interface {
	Run(context.Context) tcp.Result
} {
	if p.tcp != nil {
		return p.tcp(c)
	}
	return tcp.New(c)
}

func (p *Pipeline) newICMP(c icmp.Config) interface {
	Run(context.Context) icmp.Result
} {
	if p.icmp != nil {
		return p.icmp(c)
	}
	return icmp.New(c)
}
