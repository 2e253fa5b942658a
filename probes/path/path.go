// Package path traces the route of TCP SYNs to one address and port, hop by hop: which router a
// SYN with a given TTL (IPv6: hop limit) reaches, and where the SYNs stop — at the server (a SYN-ACK
// or a reset), at a router that answers with ICMP unreachable (named with its type and code), or
// in silence after the last hop that answered. It answers the question a blocked ingest port raises:
// dropped where — by this network, by its ISP, or by the provider?
//
// On Linux it needs no privilege: each TTL is a non-blocking TCP connect with IP_TTL set and
// IP_RECVERR on, and the ICMP time-exceeded or unreachable a router sends back is read from the
// socket's error queue with the address that sent it (sock_extended_err and its offender).
//
// Paris traceroute keeps one 5-tuple for every TTL so that per-flow load balancers send all of
// them down one branch. The kernel refuses two sockets with one 4-tuple, so probes in flight
// together cannot share a source port. The trace does both as far as it can: the next TTL is sent
// on the same source port as soon as the one before it has answered (its socket closed, the port
// free), and after a short pace on a new port when it has not — routers that answer quickly are
// probed one after the other on one flow, slow or silent ones in parallel. Result.Flows says how
// many ports a trace used. Sending TTLs in order also stops the trace at the end of the path: a
// router that rejects the port does not get a SYN for every TTL above it (its ICMP rate limit —
// six answers, then one a second on Linux — is left for the connects that follow), and the server
// does not get a handshake for every TTL past its distance. One goroutine polls every socket of a
// trace at once. Elsewhere than on Linux the trace is not run and the result says why.
package path

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// Mode says when the pipeline traces.
type Mode string

const (
	ModeAuto   Mode = "auto"   // only when the ingest port failed: blocked, rejected or unreachable
	ModeOff    Mode = "off"    // never
	ModeAlways Mode = "always" // every run, the ingest port even when it connects
)

// DefaultMode is the mode of a target that sets none.
const DefaultMode = ModeAuto

// ParseMode accepts auto, off and always; "" is DefaultMode.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "":
		return DefaultMode, nil
	case ModeAuto, ModeOff, ModeAlways:
		return Mode(s), nil
	}
	return "", fmt.Errorf("%q is not a trace mode (auto, off or always)", s)
}

// Bounds of a trace.
const (
	// MaxHops is the highest TTL probed, as traceroute's default.
	MaxHops = 30
	// DefaultBudget bounds a whole trace: `check` on a dropped port ends within its probe timeout
	// plus this and the process's own start and exit (the bound is the timeout + 3 s).
	DefaultBudget = 2500 * time.Millisecond
	// WaveSize is how many TTLs a wave sends, at most (paced: see wave in trace_linux.go). A
	// venue's firewall and its ISP's first routers are within the first few hops, where most
	// blocks are, so one wave usually finds where a blocked port ends; the next wave starts only
	// when one of the last TTLs of a wave still met a router.
	WaveSize = 8
	// minQuiet is how long a wave waits for the silent TTLs after the last answer, at the least;
	// it waits quietFactor times the slowest answer's round trip when that is longer. Routers
	// answer a TTL in one round trip; an answer several times slower than the slowest one already
	// seen is rare enough that silence then means a drop.
	minQuiet    = 250 * time.Millisecond
	quietFactor = 4
	// pace is the longest a TTL waits for the one before it to answer before it is sent anyway:
	// hops that answer within it are probed one after the other on one flow; slower ones overlap.
	// Eight TTLs of silence cost 8 × pace before the quiet time starts.
	pace = 20 * time.Millisecond
	// silentWait ends a wave in which nothing at all answered, this long after its last send: a
	// path whose routers all keep silent (ICMP filtered at the first hop) need not spend the whole
	// budget to say so. A SYN is retransmitted after 1 s; its answer would come no sooner.
	silentWait = time.Second
)

// Answer is what came back for one TTL.
type Answer string

const (
	TimeExceeded Answer = "time_exceeded" // a router on the way: ICMP time exceeded (IPv6: hop limit exceeded)
	Unreachable  Answer = "unreachable"   // a router or the server refused: ICMP destination unreachable
	SynAck       Answer = "syn_ack"       // the server accepted the connection: the port is open
	Reset        Answer = "reset"         // a TCP reset: the server, or a firewall speaking for it
	NoAnswer     Answer = "none"          // silence within the wait
	LocalError   Answer = "error"         // this host could not send or the connect failed otherwise (Errno)
)

// Class is why a trace did not run, bounded: safe as a metric label.
type Class string

const (
	OK          Class = ""
	Unsupported Class = "unsupported" // no way to trace on this system (Reason says why)
	Failed      Class = "failed"      // a socket could not be made or configured (Reason says which call)
	Canceled    Class = "canceled"    // the run was stopped before the trace ended
)

// Config says what to trace.
type Config struct {
	Address netip.AddrPort
	MaxHops int           // 0 = MaxHops
	Budget  time.Duration // 0 = DefaultBudget; the context's deadline bounds it too
}

// Hop is one TTL's answer.
type Hop struct {
	TTL        int     `json:"ttl"`
	Address    string  `json:"address,omitempty"` // who answered: the router's ICMP source, or the server
	RTTSeconds float64 `json:"rtt_seconds,omitempty"`
	Answer     Answer  `json:"answer"`
	ICMPType   int     `json:"icmp_type,omitempty"`
	ICMPCode   int     `json:"icmp_code,omitempty"`
	Reason     string  `json:"reason,omitempty"` // the ICMP type and code in words, or the errno of a local error
}

// Result is one trace.
type Result struct {
	Probe   string `json:"probe"` // always "path"
	Address string `json:"address"`
	Port    int    `json:"port"`
	Role    string `json:"role,omitempty"` // "ingest" or "alternative", set by the pipeline
	// Method is how the probes were sent: "tcp_connect" (unprivileged, IP_RECVERR).
	Method string `json:"method,omitempty"`
	// OK says the trace ran; it says nothing about the path (Reached does).
	OK     bool   `json:"ok"`
	Error  Class  `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"` // why it did not run, in words: "path not traced: …"
	// Reached: a SYN got the server's own answer (a SYN-ACK or a reset) at ReachedTTL.
	Reached    bool  `json:"reached"`
	ReachedTTL int   `json:"reached_ttl,omitempty"`
	Hops       []Hop `json:"hops"`
	Sent       int   `json:"sent"` // SYNs sent, retransmissions included
	// Flows is how many source ports the trace used: 1 when every TTL went on one flow (each was
	// answered within the pace before the next was sent), more where TTLs had to overlap.
	Flows   int     `json:"flows,omitempty"`
	Seconds float64 `json:"duration_seconds"`
}

// Probe traces Config.Address.
type Probe struct {
	cfg Config
	now func() time.Time
}

// New returns a probe for cfg.
func New(cfg Config) *Probe {
	if cfg.MaxHops <= 0 || cfg.MaxHops > MaxHops {
		cfg.MaxHops = MaxHops
	}
	if cfg.Budget <= 0 {
		cfg.Budget = DefaultBudget
	}
	return &Probe{cfg: cfg, now: time.Now}
}

// Run traces under ctx's deadline and the budget, whichever ends first. It never fails: what it
// could not do is in the result.
func (p *Probe) Run(ctx context.Context) Result {
	r := Result{Probe: "path", Address: p.cfg.Address.Addr().String(), Port: int(p.cfg.Address.Port()), Hops: []Hop{}}
	start := p.now()
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Budget)
	defer cancel()
	p.trace(ctx, &r)
	r.Seconds = p.now().Sub(start).Seconds()
	return r
}

// Terminal is the lowest TTL whose answer ends the path — the server's (SYN-ACK, reset), an
// ICMP unreachable or a local error — and false when every answer was a router on the way, or
// silence.
func (r Result) Terminal() (Hop, bool) {
	for _, h := range r.Hops {
		switch h.Answer {
		case SynAck, Reset, Unreachable, LocalError:
			return h, true
		}
	}
	return Hop{}, false
}

// LastRouter is the highest TTL, below any terminal answer, that a router answered with time
// exceeded: where the SYNs were last seen on their way.
func (r Result) LastRouter() (Hop, bool) {
	var last Hop
	found := false
	for _, h := range r.Hops {
		switch h.Answer {
		case TimeExceeded:
			last, found = h, true
		case SynAck, Reset, Unreachable, LocalError:
			return last, found
		}
	}
	return last, found
}

// Dropped says the trace ran and ended in silence: nothing past LastRouter answered.
func (r Result) Dropped() bool {
	_, term := r.Terminal()
	return r.OK && !term
}
