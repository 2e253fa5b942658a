// Package icmp measures round-trip time and packet loss to one address with a short burst of ICMP
// echo requests. It tries the unprivileged way first — a ping socket on Linux (the caller's group
// is inside net.ipv4.ping_group_range) and macOS (SOCK_DGRAM ICMP, always allowed), Windows' ICMP
// API (IcmpSendEcho2, Icmp6SendEcho2: system_windows.go) — and a raw socket (CAP_NET_RAW, root,
// Windows Administrator) second; when neither can be opened the result says so and the run is not a
// failure — ICMP is a nice-to-have beside the TCP and RTMP checks that decide a verdict.
//
// The burst is this package's own, on golang.org/x/net/icmp, in the caller's goroutine. It
// replaced github.com/prometheus-community/pro-bing (v0.9.1), which took 4–5 ms of CPU and
// 120–125 ms of wall time per default burst to 127.0.0.1 through a raw socket (BenchmarkBurst;
// this burst takes about 0.25 ms of each, nearly all of it in system calls). The reasons, in
// pro-bing's source: its receive goroutine polls with read deadlines growing from 50 µs, so it
// wakes up every few tens of µs at first, and the run waits out that goroutine's current deadline
// (up to about 100 ms) after the last reply; it runs 3 goroutines, makes a UUID, opens a socket
// and assembles a BPF filter per burst; and it sends on a fixed ticker, so even on loopback a
// burst takes (count-1) × interval. That burst was most of `ingestprobe check`'s time on loopback
// and of the agent's CPU per probe.
package icmp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"time"

	"github.com/ingestprobe/ingestprobe/neterr"
)

// Class is the bounded reason a run did not measure. It is safe as a metric label.
type Class string

const (
	OK          Class = ""
	Unavailable Class = "unavailable" // no ICMP socket could be opened: not in ping_group_range and no CAP_NET_RAW
	Denied      Class = "denied"      // a socket opened but this host refused to send (its own firewall: EPERM, EACCES)
	Unreachable Class = "unreachable" // no route to the address (ENETUNREACH, EHOSTUNREACH on send)
	Canceled    Class = "canceled"    // the run was stopped before it measured anything
	Other       Class = "other"
)

// Defaults. The burst paces itself like `ping -A`: at most one echo is unanswered at a time — the
// next one goes when the reply to the previous one arrives or Interval after it was sent,
// whichever comes first. On loopback or a LAN five echoes take five round trips (well under a
// millisecond on loopback); on a path whose round trip is longer than Interval they go 20 ms
// apart, and take 80 ms plus a round trip: well inside the time the TCP connects and the RTMP
// handshake take on a real uplink, so the burst does not lengthen a check. The send rate exceeds
// one echo per Interval only while the replies come back faster than that, so a slow path is not
// flooded: there 50 packets a second stays under the echo rate limits of common routers (a faster
// burst would be policed, and the drops would read as loss). A reply later than ReplyWait (a
// second) after its echo is treated as lost: on an RTMP uplink such a delay stalls the encoder's
// send buffer anyway.
const (
	DefaultCount     = 5
	DefaultInterval  = 20 * time.Millisecond
	DefaultReplyWait = time.Second
)

// MaxCount bounds the echoes of a burst: it is a sample of the path, not a load test; 20 echoes at
// most 20 ms apart plus the reply wait stay well inside the default 5 s probe timeout, and more
// would be cut short by the deadline anyway.
const MaxCount = 20

// Config says where to send the echoes and how many.
type Config struct {
	Address   netip.Addr
	Count     int           // default DefaultCount
	Interval  time.Duration // the most between two echoes (a reply sends the next sooner); default DefaultInterval
	ReplyWait time.Duration // how long a reply may take; default DefaultReplyWait
	// PrivilegedFirst tries the raw socket before the ping socket: the agent sets it once a burst
	// needed the raw socket, so a host without ping sockets does not pay a failed socket per run.
	PrivilegedFirst bool
}

// Probe runs one burst of echoes to Config.Address.
type Probe struct {
	cfg Config
	// ping runs one burst in the given mode: count echoes at most interval apart, each reply
	// awaited at most wait. setup is false when the socket could not be opened, which is what makes
	// the probe fall back to the other mode.
	ping func(ctx context.Context, addr netip.Addr, privileged bool, count int, interval, wait time.Duration) (st stats, setup bool, err error)
	// listen opens the socket for the real ping (Probe.echo); tests fake it.
	listen func(v6, privileged bool, id uint16) (packetConn, uint16, error)
	// route asks the kernel for a route to the address without sending anything.
	route func(ctx context.Context, addr netip.Addr) error
	now   func() time.Time
}

// stats is what one burst measured.
type stats struct {
	sent, received        int
	min, avg, max, stddev time.Duration
}

// New returns a probe for cfg with the defaults filled in.
func New(cfg Config) *Probe {
	if cfg.Count <= 0 {
		cfg.Count = DefaultCount
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ReplyWait <= 0 {
		cfg.ReplyWait = DefaultReplyWait
	}
	p := &Probe{cfg: cfg, listen: listen, route: route, now: time.Now}
	p.ping = p.system // p.echo, or on Windows the ICMP API (system_windows.go)
	return p
}

// Result is what one burst measured. Loss and RTTs are only meaningful when Error is empty; RTTs
// only when Received > 0.
type Result struct {
	Probe      string `json:"probe"` // always "icmp"
	Address    string `json:"address"`
	Privileged bool   `json:"privileged"` // a raw socket was used (the unprivileged ping socket was not permitted)
	Error      Class  `json:"error,omitempty"`
	Errno      string `json:"errno,omitempty"`
	// ErrnoUnprivileged and ErrnoPrivileged say why a socket could not be opened: the first when
	// the probe fell back to a raw socket, both when neither opened (Error "unavailable").
	ErrnoUnprivileged string  `json:"errno_unprivileged,omitempty"`
	ErrnoPrivileged   string  `json:"errno_privileged,omitempty"`
	Sent              int     `json:"sent"`
	Received          int     `json:"received"`
	LossRatio         float64 `json:"loss_ratio"`
	RTTMinSeconds     float64 `json:"rtt_min_seconds"`
	RTTAvgSeconds     float64 `json:"rtt_avg_seconds"`
	RTTMaxSeconds     float64 `json:"rtt_max_seconds"`
	RTTStddevSeconds  float64 `json:"rtt_stddev_seconds"`
	DurationSeconds   float64 `json:"duration_seconds"`
}

// Measured says the burst ran: some echoes were sent and loss is meaningful.
func (r *Result) Measured() bool { return r.Error == OK && r.Sent > 0 }

// Run sends the burst under ctx's deadline. It plans the burst to fit: when the deadline is nearer
// than Count echoes plus the reply wait, it sends fewer echoes rather than count the last ones as
// lost for want of time.
func (p *Probe) Run(ctx context.Context) (r Result) {
	r = Result{Probe: "icmp", Address: p.cfg.Address.String()}
	start := p.now()
	defer func() { r.DurationSeconds = p.now().Sub(start).Seconds() }()
	count, timeout, ok := p.plan(ctx, start)
	if !ok {
		r.Error = Canceled
		return r
	}
	// One host only: a broadcast or multicast echo would count other hosts' replies.
	if !p.cfg.Address.IsValid() || p.cfg.Address.IsMulticast() || p.cfg.Address.IsUnspecified() {
		r.Error = Other
		return r
	}
	// A route lookup first turns a "prohibit" route or a missing one into data before any ICMP
	// socket is opened.
	if err := p.route(ctx, p.cfg.Address); err != nil {
		r.Error, r.Errno = Classify(err)
		if r.Error == Other || r.Error == Unavailable {
			r.Error = Unreachable
		}
		return r
	}
	var st stats
	var err error
	var setup bool
	order := []bool{false, true}
	if p.cfg.PrivilegedFirst {
		order = []bool{true, false}
	}
	wait := min(p.cfg.ReplyWait, timeout) // the deadline may leave less than ReplyWait
	for _, privileged := range order {
		r.Privileged = privileged
		st, setup, err = p.ping(ctx, p.cfg.Address, privileged, count, p.cfg.Interval, wait)
		if setup {
			break
		}
		_, errno := Classify(err)
		if privileged {
			r.ErrnoPrivileged = errno
		} else {
			r.ErrnoUnprivileged = errno
		}
	}
	if !setup {
		r.Privileged = false
		r.Error = Unavailable
		if ctx.Err() != nil {
			r.Error = Canceled
		}
		return r
	}
	r.Sent, r.Received = st.sent, min(st.received, st.sent)
	if err != nil && !(errors.Is(err, context.DeadlineExceeded) && r.Sent > 0) {
		// A deadline that ends a burst already under way is the plan working; anything else — the
		// run canceled, the first send refused — means nothing comparable was measured.
		r.Error, r.Errno = Classify(err)
		if r.Sent == 0 || r.Error == Canceled {
			r.Sent, r.Received = 0, 0
			return r
		}
		r.Error, r.Errno = OK, ""
	}
	if r.Sent > 0 {
		r.LossRatio = float64(r.Sent-r.Received) / float64(r.Sent)
	}
	if r.Received > 0 {
		r.RTTMinSeconds = st.min.Seconds()
		r.RTTAvgSeconds = st.avg.Seconds()
		r.RTTMaxSeconds = st.max.Seconds()
		r.RTTStddevSeconds = st.stddev.Seconds()
	}
	return r
}

// plan fits the burst into ctx's deadline: the count of echoes and the longest the burst may take
// (every echo unanswered, so each goes Interval after the previous one, and the last reply waited
// for). The reply wait it leaves is min(ReplyWait, timeout).
func (p *Probe) plan(ctx context.Context, now time.Time) (count int, timeout time.Duration, ok bool) {
	count, wait := p.cfg.Count, p.cfg.ReplyWait
	dl, has := ctx.Deadline()
	if !has {
		return count, time.Duration(count-1)*p.cfg.Interval + wait, ctx.Err() == nil
	}
	left := dl.Sub(now)
	if left <= 0 || ctx.Err() != nil {
		return 0, 0, false
	}
	wait = min(wait, left)
	count = min(count, 1+int((left-wait)/p.cfg.Interval))
	return count, min(left, time.Duration(count-1)*p.cfg.Interval+wait), true
}

// udpRoute connects a UDP socket to the address: the kernel picks a route (or refuses) and nothing
// is sent. It is route on Unix; Windows asks iphlpapi instead (system_windows.go).
func udpRoute(ctx context.Context, addr netip.Addr) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", netip.AddrPortFrom(addr, 9).String())
	if err != nil {
		return err
	}
	return c.Close()
}

// Classify turns a socket or send error into a class and the errno's name (neterr's rules, mapped
// to this probe's classes).
func Classify(err error) (Class, string) {
	c, errno := neterr.Classify(err)
	name := neterr.ErrnoName(errno)
	switch {
	case c == neterr.OK:
		return OK, ""
	case c == neterr.Canceled, neterr.IsDeadline(err):
		// A deadline that ends the run before it measured leaves nothing, as a cancellation does.
		return Canceled, ""
	case c == neterr.Denied:
		return Denied, name
	case c == neterr.Unsupported:
		return Unavailable, name
	case c == neterr.Unreachable && errno != syscall.EHOSTDOWN && errno != syscall.ENETDOWN:
		// What a send or a route lookup without a route returns. EHOSTDOWN and ENETDOWN have
		// always been "other" in this probe's records.
		return Unreachable, name
	}
	return Other, name
}
