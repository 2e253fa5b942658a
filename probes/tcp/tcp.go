// Package tcp probes whether a TCP connection to one address and port can be made, how long the
// connect took, and — when it cannot — why, as a bounded error class read from the errno (by
// neterr, whose rules the other probes share).
//
// On Linux the connect is timed like a plain blocking connect(2): the thread waits in ppoll(2)
// and the kernel wakes it when the handshake ends (connect_linux.go), so the time reported is the
// network's and not Go's scheduler's; elsewhere it goes through Go's dialer (connect_other.go).
package tcp

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/ingestprobe/ingestprobe/neterr"
)

// Class is the bounded reason a connect failed. It is safe as a metric label. Its values are
// neterr's, which classify reads them from.
type Class string

const (
	OK          = Class(neterr.OK)
	Timeout     = Class(neterr.Timeout)     // no answer at all: a silent drop, or a dead path
	Refused     = Class(neterr.Refused)     // a TCP reset: nothing listens, or a firewall rejects with reset
	Unreachable = Class(neterr.Unreachable) // ICMP unreachable / admin-prohibited, or no route
	Reset       = Class(neterr.Reset)       // reset after the connection started
	Denied      = Class(neterr.Denied)      // this host's own firewall or policy refused to send (EPERM, EACCES)
	Canceled    = Class(neterr.Canceled)    // the run was stopped before the connect finished
	Other       = Class(neterr.Other)
)

// Config says what to connect to.
type Config struct {
	Address netip.AddrPort
	// Keep, when set, is handed the connection when the connect succeeded, instead of the probe
	// closing it; Keep owns it then. The agent keeps the ingest port's connection so the RTMP
	// session continues on it. Keep runs after the connect's clock stopped: the figures are the
	// same with or without it.
	Keep func(net.Conn)
}

// Probe connects once to Config.Address.
type Probe struct {
	cfg  Config
	dial func(ctx context.Context, network, address string) (net.Conn, error) // a test's fake; nil = connect (per platform)
	now  func() time.Time
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	return &Probe{cfg: cfg, now: time.Now}
}

// Result is what one connect measured.
type Result struct {
	Probe          string  `json:"probe"` // always "tcp"
	Address        string  `json:"address"`
	Port           int     `json:"port"`
	Role           string  `json:"role,omitempty"` // "ingest" or "alternative", set by the pipeline
	OK             bool    `json:"ok"`
	Error          Class   `json:"error,omitempty"`
	Errno          string  `json:"errno,omitempty"`
	ConnectSeconds float64 `json:"connect_seconds"`
	// RTTSeconds is the kernel's own measure of the handshake round trip (TCP_INFO, microsecond
	// resolution), where the OS gives it: free of any scheduling delay in this process.
	RTTSeconds float64 `json:"rtt_seconds,omitempty"`
}

// Run connects under ctx's deadline and closes the connection at once (or hands it to
// Config.Keep): it measures reachability, not the service behind the port.
func (p *Probe) Run(ctx context.Context) Result {
	r := Result{Probe: "tcp", Address: p.cfg.Address.Addr().String(), Port: int(p.cfg.Address.Port())}
	start := p.now()
	var connecting, end time.Time
	var rtt time.Duration
	var err error
	if p.dial != nil {
		var conn net.Conn
		if conn, err = p.dial(ctx, "tcp", p.cfg.Address.String()); err == nil {
			p.keepOrClose(conn)
		}
		end = p.now()
	} else {
		connecting, end, rtt, err = p.connect(ctx)
	}
	if !connecting.IsZero() {
		start = connecting
	}
	r.ConnectSeconds = end.Sub(start).Seconds()
	if err != nil {
		r.Error, r.Errno = classify(err)
		return r
	}
	r.RTTSeconds = rtt.Seconds()
	r.OK = true
	return r
}

// keepOrClose hands c to Config.Keep, or closes it.
func (p *Probe) keepOrClose(c net.Conn) {
	if p.cfg.Keep != nil {
		p.cfg.Keep(c)
		return
	}
	c.Close()
}

// classify turns a dial error into a class and the errno's name (neterr's rules). Resolve and
// Unsupported are not outcomes of a connect to an address: they stay "other", as records always had.
func classify(err error) (Class, string) {
	c, errno := neterr.Classify(err)
	switch c {
	case neterr.Resolve, neterr.Unsupported:
		c = neterr.Other
	}
	return Class(c), neterr.ErrnoName(errno)
}
