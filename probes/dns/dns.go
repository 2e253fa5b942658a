// Package dns resolves an ingest host the way the encoder's own system would — the hosts file
// first, then the resolvers in resolv.conf (with resolvers given, only those) — and records what the answer was made of: the rcode, the CNAME chain,
// the A and AAAA addresses and the time it took.
package dns

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
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
	hostsFile  string
	exchange   exchangeFunc
	osResolver *net.Resolver
	now        func() time.Time
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	return &Probe{
		cfg:        cfg,
		resolvConf: ResolvConf,
		hostsFile:  HostsFile(),
		exchange:   exchange,
		osResolver: net.DefaultResolver,
		now:        time.Now,
	}
}

// Result is what one lookup measured.
type Result struct {
	Probe    string `json:"probe"` // always "dns"
	Host     string `json:"host"`
	Resolver string `json:"resolver"` // the server that answered, "os" for the OS resolver, or the hosts file's path
	// HostsFile: the system's hosts file answered, not DNS. There is no CNAME chain, and what it
	// maps (a local relay on loopback, say) is this host's own choice.
	HostsFile       bool     `json:"hosts_file,omitempty"`
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
		// The system's way: the hosts file first. Its answer is the one the encoder gets.
		if a, aaaa := lookupHosts(p.hostsFile, r.Host); len(a)+len(aaaa) > 0 {
			r.Resolver, r.HostsFile, r.A, r.AAAA = p.hostsFile, true, a, aaaa
			r.DurationSeconds = p.now().Sub(start).Seconds()
			return r
		}
		for _, s := range resolvConfServers(p.resolvConf) {
			servers = append(servers, net.JoinHostPort(s, "53"))
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
	msg    *dnsmessage.Message
	server string
	err    error
}

func (p *Probe) runServers(ctx context.Context, servers []string, r *Result) {
	var wg sync.WaitGroup
	var a, aaaa answer
	wg.Add(2)
	go func() { defer wg.Done(); a = p.query(ctx, servers, fqdn(r.Host), dnsmessage.TypeA) }()
	go func() { defer wg.Done(); aaaa = p.query(ctx, servers, fqdn(r.Host), dnsmessage.TypeAAAA) }()
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
	r.Rcode = rcodeName(main.msg.RCode)
	switch main.msg.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		r.Error = NXDomain
	case dnsmessage.RCodeServerFailure:
		r.Error = ServFail
	case dnsmessage.RCodeRefused:
		r.Error = Refused
	default:
		r.Error = Other
	}
	chain, final := cnameChain(r.Host, main.msg)
	// A resolver that returns the chain but not the final records (some forwarders do) gets the
	// final name asked directly, a bounded number of times.
	for hop := 0; r.Error == OK && hop < maxChain && final != r.Host && len(addrs(final, a.msg, dnsmessage.TypeA))+len(addrs(final, aaaa.msg, dnsmessage.TypeAAAA)) == 0; hop++ {
		var a2, aaaa2 answer
		wg.Add(2)
		go func() { defer wg.Done(); a2 = p.query(ctx, servers, fqdn(final), dnsmessage.TypeA) }()
		go func() { defer wg.Done(); aaaa2 = p.query(ctx, servers, fqdn(final), dnsmessage.TypeAAAA) }()
		wg.Wait()
		if a2.err != nil || a2.msg.RCode != dnsmessage.RCodeSuccess {
			if a2.err == nil && a2.msg.RCode == dnsmessage.RCodeNameError {
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
	r.A = addrs(final, a.msg, dnsmessage.TypeA)
	r.AAAA = addrs(final, aaaa.msg, dnsmessage.TypeAAAA)
}

// attemptsPerServer: a UDP query or its answer can be lost; like glibc's resolver we send it again
// once before moving on, each attempt getting half of the server's share of the time.
const attemptsPerServer = 2

// query asks each server in turn until one gives an authoritative-enough answer. Each server gets an
// equal share of the time left, so one dead resolver cannot eat the whole budget. The context's
// deadline bounds every attempt.
func (p *Probe) query(ctx context.Context, servers []string, name string, qtype dnsmessage.Type) answer {
	q, err := newQuery(name, qtype)
	if err != nil {
		return answer{err: err}
	}
	var last answer
	for i, server := range servers {
		for attempt := 0; attempt < attemptsPerServer; attempt++ {
			timeout := defaultAttemptTimeout
			if dl, ok := ctx.Deadline(); ok {
				left := (len(servers)-i)*attemptsPerServer - attempt
				timeout = time.Until(dl) / time.Duration(left)
			}
			if timeout <= 0 {
				break
			}
			actx, cancel := context.WithTimeout(ctx, timeout)
			resp, err := p.exchange(actx, "udp", q, server)
			if err == nil && resp.Truncated {
				resp, err = p.exchange(actx, "tcp", q, server)
			}
			cancel()
			last = answer{msg: resp, server: server, err: err}
			if err == nil && resp.RCode != dnsmessage.RCodeServerFailure && resp.RCode != dnsmessage.RCodeRefused {
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

// defaultAttemptTimeout bounds an attempt when the context has no deadline (the pipeline always sets
// one): 2 s, what miekg/dns, which the probe used before, waited by default.
const defaultAttemptTimeout = 2 * time.Second

// newQuery is a recursive query for name (fully qualified) and qtype, class IN, with a random id.
func newQuery(name string, qtype dnsmessage.Type) (*dnsmessage.Message, error) {
	n, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, fmt.Errorf("dns: name %q: %w", name, err)
	}
	return &dnsmessage.Message{
		Header:    dnsmessage.Header{ID: uint16(rand.Uint32()), RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: n, Type: qtype, Class: dnsmessage.ClassINET}},
	}, nil
}

// exchangeFunc sends q over network ("udp" or "tcp") to server and returns the answer; the seam
// of the tests.
type exchangeFunc func(ctx context.Context, network string, q *dnsmessage.Message, server string) (*dnsmessage.Message, error)

// maxUDPAnswer is the read buffer for an answer over UDP. The query has no EDNS0, so a compliant
// server answers in at most 512 bytes; a larger buffer keeps a non-compliant answer whole.
const maxUDPAnswer = 4096

// exchange sends q and reads its answer, bounded by ctx. Over UDP, answers with another id (late
// answers to an earlier attempt) are skipped; over TCP the message has its 2-byte length prefix.
func exchange(ctx context.Context, network string, q *dnsmessage.Message, server string) (*dnsmessage.Message, error) {
	wire, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("dns: pack: %w", err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Cancellation without a deadline: unblock the read.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	wrap := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if network == "tcp" {
		buf := make([]byte, 2+len(wire))
		binary.BigEndian.PutUint16(buf, uint16(len(wire)))
		copy(buf[2:], wire)
		if _, err := conn.Write(buf); err != nil {
			return nil, wrap(err)
		}
		br := bufio.NewReader(conn)
		var l [2]byte
		if _, err := io.ReadFull(br, l[:]); err != nil {
			return nil, wrap(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, wrap(err)
		}
		return parseAnswer(b, q.Header.ID)
	}
	if _, err := conn.Write(wire); err != nil {
		return nil, wrap(err)
	}
	b := make([]byte, maxUDPAnswer)
	for {
		n, err := conn.Read(b)
		if err != nil {
			return nil, wrap(err)
		}
		m, err := parseAnswer(b[:n], q.Header.ID)
		if errors.Is(err, errID) {
			continue
		}
		return m, err
	}
}

var errID = errors.New("dns: answer id does not match the query")

func parseAnswer(b []byte, id uint16) (*dnsmessage.Message, error) {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil {
		return nil, fmt.Errorf("dns: answer: %w", err)
	}
	if m.ID != id {
		return nil, errID
	}
	return &m, nil
}

// rcodeNames are the rcodes a header without EDNS0 can carry, named as resolvers and dig name them.
var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI"}

func rcodeName(c dnsmessage.RCode) string {
	if int(c) < len(rcodeNames) {
		return rcodeNames[c]
	}
	return ""
}

// fqdn adds the trailing dot.
func fqdn(name string) string {
	if strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

// resolvConfServers reads the nameserver lines of a resolv.conf; nil when it cannot be read.
func resolvConfServers(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 1 && fs[0] == "nameserver" {
			out = append(out, fs[1])
		}
	}
	return out
}

// cnameChain follows CNAME records from name through msg's answer section.
func cnameChain(name string, msg *dnsmessage.Message) (chain []string, final string) {
	if msg == nil {
		return nil, name
	}
	next := map[string]string{}
	for _, rr := range msg.Answers {
		if c, ok := rr.Body.(*dnsmessage.CNAMEResource); ok {
			next[strings.ToLower(rr.Header.Name.String())] = strings.ToLower(c.CNAME.String())
		}
	}
	cur := fqdn(name)
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

func addrs(owner string, msg *dnsmessage.Message, qtype dnsmessage.Type) []string {
	if msg == nil {
		return nil
	}
	var out []string
	for _, rr := range msg.Answers {
		if !strings.EqualFold(strings.TrimSuffix(rr.Header.Name.String(), "."), owner) {
			continue
		}
		switch v := rr.Body.(type) {
		case *dnsmessage.AResource:
			if qtype == dnsmessage.TypeA {
				out = append(out, net.IP(v.A[:]).String())
			}
		case *dnsmessage.AAAAResource:
			if qtype == dnsmessage.TypeAAAA {
				out = append(out, net.IP(v.AAAA[:]).String())
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
