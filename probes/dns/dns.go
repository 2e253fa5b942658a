// Package dns resolves an ingest host the way the encoder's own system would — through the
// resolvers in resolv.conf — and records what the answer was made of: the rcode, the CNAME chain,
// the A and AAAA addresses and the time it took.
package dns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// Class is the bounded reason a lookup failed. It is safe as a metric label.
type Class string

const (
	OK       Class = ""
	NXDomain Class = "nxdomain" // the name does not exist
	ServFail Class = "servfail" // the resolver could not answer (SERVFAIL)
	Refused  Class = "refused"  // the resolver refused to answer (REFUSED)
	Timeout  Class = "timeout"  // no resolver answered in time
	Network  Class = "network"  // no resolver could be reached (refused, unreachable)
	Canceled Class = "canceled"
	Other    Class = "other"
)

// maxChain bounds how many CNAME hops are followed: real chains are 1–4 hops long, and a loop must
// end.
const maxChain = 8

// ResolvConf is where the system's resolvers are read from.
const ResolvConf = "/etc/resolv.conf"

// Config says what to resolve and with which resolvers.
type Config struct {
	Host    string
	Servers []string // host:port; empty = the system's resolvers
}

// Probe resolves one host.
type Probe struct {
	cfg        Config
	resolvConf string
	exchange   func(ctx context.Context, c *mdns.Client, m *mdns.Msg, server string) (*mdns.Msg, error)
	osResolver *net.Resolver
	now        func() time.Time
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	return &Probe{
		cfg:        cfg,
		resolvConf: ResolvConf,
		exchange: func(ctx context.Context, c *mdns.Client, m *mdns.Msg, server string) (*mdns.Msg, error) {
			r, _, err := c.ExchangeContext(ctx, m, server)
			return r, err
		},
		osResolver: net.DefaultResolver,
		now:        time.Now,
	}
}

// Result is what one lookup measured.
type Result struct {
	Probe           string   `json:"probe"` // always "dns"
	Host            string   `json:"host"`
	Resolver        string   `json:"resolver"` // the server that answered, or "os" for the OS resolver
	Rcode           string   `json:"rcode,omitempty"`
	Error           Class    `json:"error,omitempty"`
	CNAME           []string `json:"cname,omitempty"` // the chain, in order, without trailing dots
	A               []string `json:"a,omitempty"`
	AAAA            []string `json:"aaaa,omitempty"`
	DurationSeconds float64  `json:"duration_seconds"`
}

// Addresses is every address of the answer, IPv4 first.
func (r Result) Addresses() []netip.Addr {
	var out []netip.Addr
	for _, s := range append(append([]string{}, r.A...), r.AAAA...) {
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// Run resolves under ctx's deadline.
func (p *Probe) Run(ctx context.Context) Result {
	start := p.now()
	r := Result{Probe: "dns", Host: strings.TrimSuffix(strings.ToLower(p.cfg.Host), ".")}
	servers := p.cfg.Servers
	if len(servers) == 0 {
		if cc, err := mdns.ClientConfigFromFile(p.resolvConf); err == nil && len(cc.Servers) > 0 {
			for _, s := range cc.Servers {
				servers = append(servers, net.JoinHostPort(s, cc.Port))
			}
		}
	}
	if len(servers) == 0 {
		p.runOS(ctx, &r)
	} else {
		p.runServers(ctx, servers, &r)
	}
	r.DurationSeconds = p.now().Sub(start).Seconds()
	return r
}

type answer struct {
	msg    *mdns.Msg
	server string
	err    error
}

func (p *Probe) runServers(ctx context.Context, servers []string, r *Result) {
	var wg sync.WaitGroup
	var a, aaaa answer
	wg.Add(2)
	go func() { defer wg.Done(); a = p.query(ctx, servers, mdns.Fqdn(r.Host), mdns.TypeA) }()
	go func() { defer wg.Done(); aaaa = p.query(ctx, servers, mdns.Fqdn(r.Host), mdns.TypeAAAA) }()
	wg.Wait()

	if a.err != nil && aaaa.err != nil {
		r.Error = classify(ctx, a.err)
		r.Resolver = strings.Join(servers, ",")
		return
	}
	main := a
	if a.err != nil {
		main = aaaa
	}
	r.Resolver = main.server
	r.Rcode = mdns.RcodeToString[main.msg.Rcode]
	switch main.msg.Rcode {
	case mdns.RcodeSuccess:
	case mdns.RcodeNameError:
		r.Error = NXDomain
	case mdns.RcodeServerFailure:
		r.Error = ServFail
	case mdns.RcodeRefused:
		r.Error = Refused
	default:
		r.Error = Other
	}
	chain, final := cnameChain(r.Host, main.msg)
	// A resolver that returns the chain but not the final records (some forwarders do) gets the
	// final name asked directly, a bounded number of times.
	for hop := 0; r.Error == OK && hop < maxChain && final != r.Host && len(addrs(final, a.msg, mdns.TypeA))+len(addrs(final, aaaa.msg, mdns.TypeAAAA)) == 0; hop++ {
		var a2, aaaa2 answer
		wg.Add(2)
		go func() { defer wg.Done(); a2 = p.query(ctx, servers, mdns.Fqdn(final), mdns.TypeA) }()
		go func() { defer wg.Done(); aaaa2 = p.query(ctx, servers, mdns.Fqdn(final), mdns.TypeAAAA) }()
		wg.Wait()
		if a2.err != nil || a2.msg.Rcode != mdns.RcodeSuccess {
			if a2.err == nil && a2.msg.Rcode == mdns.RcodeNameError {
				r.Error, r.Rcode = NXDomain, "NXDOMAIN"
			}
			break
		}
		more, next := cnameChain(final, a2.msg)
		chain = append(chain, more...)
		a.msg, final = a2.msg, next
		if aaaa2.err == nil {
			aaaa.msg = aaaa2.msg
		}
		if len(more) == 0 {
			break
		}
	}
	r.CNAME = chain
	r.A = addrs(final, a.msg, mdns.TypeA)
	r.AAAA = addrs(final, aaaa.msg, mdns.TypeAAAA)
}

// attemptsPerServer: a UDP query or its answer can be lost; like glibc's resolver we send it again
// once before moving on, each attempt getting half of the server's share of the time.
const attemptsPerServer = 2

// query asks each server in turn until one gives an authoritative-enough answer. Each server gets an
// equal share of the time left, so one dead resolver cannot eat the whole budget. The context's
// deadline bounds every attempt (miekg/dns's own 2 s default would otherwise cut a longer one short).
func (p *Probe) query(ctx context.Context, servers []string, name string, qtype uint16) answer {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	var last answer
	for i, server := range servers {
		for attempt := 0; attempt < attemptsPerServer; attempt++ {
			timeout := 2 * time.Second // without a deadline: miekg/dns's default per attempt
			if dl, ok := ctx.Deadline(); ok {
				left := (len(servers)-i)*attemptsPerServer - attempt
				timeout = time.Until(dl) / time.Duration(left)
			}
			if timeout <= 0 {
				break
			}
			actx, cancel := context.WithTimeout(ctx, timeout)
			c := &mdns.Client{Net: "udp", Timeout: timeout}
			resp, err := p.exchange(actx, c, m, server)
			if err == nil && resp.Truncated {
				resp, err = p.exchange(actx, &mdns.Client{Net: "tcp", Timeout: timeout}, m, server)
			}
			cancel()
			last = answer{msg: resp, server: server, err: err}
			if err == nil && resp.Rcode != mdns.RcodeServerFailure && resp.Rcode != mdns.RcodeRefused {
				return last
			}
			if ctx.Err() != nil {
				return last
			}
			if err == nil || classify(ctx, err) != Timeout {
				break // an answer (SERVFAIL, REFUSED) or a hard error: asking again will not help
			}
		}
	}
	if last.err == nil && last.msg == nil {
		last.err = errors.New("dns: no server")
	}
	return last
}

// cnameChain follows CNAME records from name through msg's answer section.
func cnameChain(name string, msg *mdns.Msg) (chain []string, final string) {
	if msg == nil {
		return nil, name
	}
	next := map[string]string{}
	for _, rr := range msg.Answer {
		if c, ok := rr.(*mdns.CNAME); ok {
			next[strings.ToLower(c.Hdr.Name)] = strings.ToLower(c.Target)
		}
	}
	cur := mdns.Fqdn(name)
	for i := 0; i < maxChain; i++ {
		t, ok := next[cur]
		if !ok {
			break
		}
		chain = append(chain, strings.TrimSuffix(t, "."))
		cur = t
	}
	return chain, strings.TrimSuffix(cur, ".")
}

func addrs(owner string, msg *mdns.Msg, qtype uint16) []string {
	if msg == nil {
		return nil
	}
	var out []string
	for _, rr := range msg.Answer {
		if !strings.EqualFold(strings.TrimSuffix(rr.Header().Name, "."), owner) {
			continue
		}
		switch v := rr.(type) {
		case *mdns.A:
			if qtype == mdns.TypeA {
				out = append(out, v.A.String())
			}
		case *mdns.AAAA:
			if qtype == mdns.TypeAAAA {
				out = append(out, v.AAAA.String())
			}
		}
	}
	return out
}

// runOS falls back to the OS resolver where there is no resolv.conf (Windows, some containers).
// It sees less: only the final canonical name, not each hop, and no rcode.
func (p *Probe) runOS(ctx context.Context, r *Result) {
	r.Resolver = "os"
	ips, err := p.osResolver.LookupNetIP(ctx, "ip", r.Host)
	if err != nil {
		r.Error = classify(ctx, err)
		if r.Error == NXDomain {
			r.Rcode = "NXDOMAIN"
		}
		return
	}
	r.Rcode = "NOERROR"
	if cname, err := p.osResolver.LookupCNAME(ctx, r.Host); err == nil {
		if c := strings.TrimSuffix(strings.ToLower(cname), "."); c != r.Host && c != "" {
			r.CNAME = []string{c}
		}
	}
	for _, ip := range ips {
		ip = ip.Unmap()
		if ip.Is4() {
			r.A = append(r.A, ip.String())
		} else {
			r.AAAA = append(r.AAAA, ip.String())
		}
	}
}

func classify(ctx context.Context, err error) Class {
	var de *net.DNSError
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return Canceled
	case errors.As(err, &de) && de.IsNotFound:
		return NXDomain
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return Timeout
	case errors.As(err, &de) && de.IsTimeout, errors.As(err, &ne) && ne.Timeout():
		return Timeout
	case errors.As(err, &de):
		return ServFail
	}
	var op *net.OpError
	var errno syscall.Errno
	if errors.As(err, &op) || errors.As(err, &errno) {
		return Network
	}
	return Other
}
