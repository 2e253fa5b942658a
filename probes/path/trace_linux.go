//go:build linux

package path

import (
	"context"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ingestprobe/ingestprobe/internal/sockaddr"
	"github.com/ingestprobe/ingestprobe/neterr"
)

// inflight is one TTL's connect under way.
type inflight struct {
	fd   int
	ttl  int
	sent time.Time
}

// tracer is one trace's state.
type tracer struct {
	p        *Probe
	ctx      context.Context
	efd      int // an eventfd written when ctx ends: it wakes the poll
	family   int
	v6       bool
	sa       unix.Sockaddr
	dst      string
	hops     map[int]Hop
	probed   int // the highest TTL sent
	port     int // the source port of the flow the next probe joins when none is in flight
	flows    int // source ports used
	sent     int
	lastSeen time.Time     // when the last answer came
	slowest  time.Duration // the slowest answer's round trip
}

func (p *Probe) trace(ctx context.Context, r *Result) {
	r.Method = "tcp_connect"
	addr := p.cfg.Address.Addr().Unmap()
	t := &tracer{p: p, ctx: ctx, hops: map[int]Hop{}, dst: addr.String()}
	port := int(p.cfg.Address.Port())
	sa, family, err := sockaddr.Of(netip.AddrPortFrom(addr, uint16(port)))
	if err != nil {
		r.Error, r.Reason = Failed, "path not traced: "+err.Error()
		return
	}
	t.family, t.v6, t.sa = family, family == unix.AF_INET6, sa
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		r.Error, r.Reason = Failed, "path not traced: eventfd: "+err.Error()
		return
	}
	t.efd = efd
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		_, _ = unix.Write(efd, one[:])
	})
	defer func() {
		if !stop() {
			<-fired // the hook's goroutine does not outlive the trace
		}
		unix.Close(efd)
	}()

	for lo := 1; lo <= p.cfg.MaxHops; lo += WaveSize {
		hi := min(lo+WaveSize-1, p.cfg.MaxHops)
		if err := t.wave(lo, hi); err != nil {
			r.Error, r.Reason = Failed, "path not traced: "+err.Error()
			break
		}
		if t.ended(hi) || ctx.Err() != nil {
			break
		}
	}
	r.Sent, r.Flows = t.sent, t.flows
	if r.Error != OK {
		return
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		r.Error, r.Reason = Canceled, "path not traced: the run was stopped"
		return
	case ctx.Err() != nil:
		r.Reason = "the trace budget ended before every TTL had answered"
	}
	r.OK = true
	r.Hops = t.list()
	if h, ok := r.Terminal(); ok && (h.Answer == SynAck || h.Answer == Reset) {
		r.Reached, r.ReachedTTL = true, h.TTL
	}
}

// list is the hops in TTL order up to the end of the path: a silent TTL between two answers is an
// anonymous router; after the last answer, one silent TTL says where the SYNs stop; what lies
// past the end of the path (a terminal answer) repeats it and is left out.
func (t *tracer) list() []Hop {
	top := 0
	for ttl := range t.hops {
		top = max(top, ttl)
	}
	out := []Hop{}
	for ttl := 1; ttl <= t.probed; ttl++ {
		h, ok := t.hops[ttl]
		if !ok {
			out = append(out, Hop{TTL: ttl, Answer: NoAnswer})
			if ttl > top {
				break
			}
			continue
		}
		out = append(out, h)
		switch h.Answer {
		case SynAck, Reset, Unreachable, LocalError:
			return out
		}
	}
	return out
}

// ended says the path needs no further wave: it ended (the server, an unreachable, a local
// error), or none of the last TTLs of the wave met a router — the SYNs stop in silence there.
func (t *tracer) ended(hi int) bool {
	for _, h := range t.hops {
		switch h.Answer {
		case SynAck, Reset, Unreachable, LocalError:
			return true
		}
	}
	for ttl := hi; ttl > hi-4 && ttl > 0; ttl-- {
		if t.hops[ttl].Answer == TimeExceeded {
			return false
		}
	}
	return true
}

// wave probes TTLs lo to hi, several in flight at once: the next TTL is sent as soon as the one
// before it answered, or pace after the last send at the latest. Where routers answer quickly
// (the venue's own, a path that ends early) the TTLs go one after the other on one source port,
// and no SYN is sent past the end of the path; where they are slow or silent, the TTLs overlap.
// The wave ends when every TTL sent has its answer, or the path ended below those still waiting,
// or no answer came for the quiet time after the last send, or ctx ends.
func (t *tracer) wave(lo, hi int) error {
	var open []inflight
	defer func() {
		for _, f := range open {
			t.close(f)
		}
	}()
	next := lo
	var lastSend time.Time
	fds := make([]unix.PollFd, 0, hi-lo+2)
	for {
		end, ended := t.endTTL()
		more := next <= hi && !(ended && next > end) && t.ctx.Err() == nil
		if more && (len(open) == 0 || t.p.now().Sub(lastSend) >= pace) {
			f, err := t.connect(next, len(open) == 0)
			if err != nil {
				return err
			}
			next++
			lastSend = t.p.now()
			if f.fd >= 0 {
				open = append(open, f)
			}
			continue
		}
		if ended && !slices.ContainsFunc(open, func(f inflight) bool { return f.ttl < end }) {
			return nil
		}
		if len(open) == 0 && !more {
			return nil
		}
		deadline, _ := t.ctx.Deadline()
		switch {
		case more:
			deadline = minTime(deadline, lastSend.Add(pace))
		case !t.lastSeen.IsZero():
			deadline = minTime(deadline, laterTime(t.lastSeen, lastSend).Add(max(minQuiet, quietFactor*t.slowest)))
		default:
			deadline = minTime(deadline, lastSend.Add(silentWait))
		}
		left := time.Until(deadline)
		if t.ctx.Err() != nil || (left <= 0 && !more) {
			return nil
		}
		if left <= 0 {
			continue // the pace is up: send the next TTL
		}
		fds = fds[:0]
		fds = append(fds, unix.PollFd{Fd: int32(t.efd), Events: unix.POLLIN})
		for _, f := range open {
			fds = append(fds, unix.PollFd{Fd: int32(f.fd), Events: unix.POLLOUT})
		}
		ts := unix.NsecToTimespec(left.Nanoseconds())
		n, err := unix.Ppoll(fds, &ts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("ppoll", err)
		}
		if n == 0 || fds[0].Revents != 0 {
			continue // the loop's checks end the wave or send the next TTL
		}
		now := t.p.now()
		kept := open[:0]
		for i, f := range open {
			if fds[i+1].Revents == 0 {
				kept = append(kept, f)
				continue
			}
			t.hops[f.ttl] = t.answer(f, now)
			t.lastSeen, t.slowest = now, max(t.slowest, now.Sub(f.sent))
			t.close(f)
		}
		open = kept
	}
}

// endTTL is the lowest TTL whose answer ends the path, if one has.
func (t *tracer) endTTL() (int, bool) {
	end := 0
	for ttl, h := range t.hops {
		switch h.Answer {
		case SynAck, Reset, Unreachable, LocalError:
			if end == 0 || ttl < end {
				end = ttl
			}
		}
	}
	return end, end > 0
}

// connect starts one TTL's connect. A connect that ends at once (a local error, or a loopback
// connect) is answered here, and fd is -1. With reuse (no other probe in flight) it binds the
// trace's source port, so TTLs sent one after the other are one flow, as a per-flow load balancer
// sees it; the first connect picks that port, and one that cannot have it takes another.
func (t *tracer) connect(ttl int, reuse bool) (inflight, error) {
	fd, err := unix.Socket(t.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return inflight{fd: -1}, os.NewSyscallError("socket", err)
	}
	f := inflight{fd: fd, ttl: ttl}
	t.probed = max(t.probed, ttl)
	level, optTTL, optErr := unix.IPPROTO_IP, unix.IP_TTL, unix.IP_RECVERR
	if t.v6 {
		level, optTTL, optErr = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.IPV6_RECVERR
	}
	for _, o := range []struct {
		name     string
		opt, val int
	}{{"ttl", optTTL, ttl}, {"recverr", optErr, 1}} {
		if err := unix.SetsockoptInt(fd, level, o.opt, o.val); err != nil {
			unix.Close(fd)
			return inflight{fd: -1}, os.NewSyscallError("setsockopt "+o.name, err)
		}
	}
	// A connect that reaches the server is aborted with a reset when closed, not ended with a FIN
	// and a TIME_WAIT: the trace wanted the SYN-ACK, not a connection. So the source port is free
	// again as soon as a probe is closed.
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	port := 0
	if reuse && t.port != 0 && t.bind(fd, t.port) == nil {
		port = t.port
	}
	f.sent = t.p.now()
	err = unix.Connect(fd, t.sa)
	if port == 0 {
		if sa, gerr := unix.Getsockname(fd); gerr == nil {
			port = sockPort(sa)
		}
		if port != 0 && port != t.port {
			t.port = port
			t.flows++
		}
	}
	switch {
	case err == unix.EINPROGRESS:
		return f, nil
	case err == nil:
		t.hops[ttl] = Hop{TTL: ttl, Address: t.dst, Answer: SynAck}
		t.sent++
		unix.Close(fd)
	default:
		t.hops[ttl] = localError(ttl, err)
		unix.Close(fd)
	}
	return inflight{fd: -1}, nil
}

// answer reads what ended f's wait: an ICMP error from the error queue, else the connect's own
// outcome.
func (t *tracer) answer(f inflight, now time.Time) Hop {
	rtt := now.Sub(f.sent).Seconds()
	var buf [64]byte
	var oob [256]byte
	_, oobn, _, _, err := unix.Recvmsg(f.fd, buf[:], oob[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err == nil {
		if msgs, perr := unix.ParseSocketControlMessage(oob[:oobn]); perr == nil {
			for _, m := range msgs {
				if !(m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR) &&
					!(m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
					continue
				}
				e, perr := parseExtErr(m.Data, binary.NativeEndian)
				if perr != nil {
					continue
				}
				if h, ok := e.hop(f.ttl); ok {
					h.RTTSeconds = rtt
					return h
				}
			}
		}
	}
	soerr, gerr := unix.GetsockoptInt(f.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case gerr != nil:
		return localError(f.ttl, gerr)
	case soerr == 0:
		return Hop{TTL: f.ttl, Address: t.dst, RTTSeconds: rtt, Answer: SynAck}
	case unix.Errno(soerr) == unix.ECONNREFUSED:
		return Hop{TTL: f.ttl, Address: t.dst, RTTSeconds: rtt, Answer: Reset}
	}
	h := localError(f.ttl, unix.Errno(soerr))
	h.RTTSeconds = rtt
	return h
}

// bind binds fd to port on the unspecified address of the trace's family.
func (t *tracer) bind(fd, port int) error {
	if t.v6 {
		return unix.Bind(fd, &unix.SockaddrInet6{Port: port})
	}
	return unix.Bind(fd, &unix.SockaddrInet4{Port: port})
}

func sockPort(sa unix.Sockaddr) int {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	return 0
}

// close counts f's SYNs (the first and the kernel's retransmissions) and closes it.
func (t *tracer) close(f inflight) {
	n := 1
	if info, err := unix.GetsockoptTCPInfo(f.fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
		n += int(info.Total_retrans)
	}
	t.sent += n
	unix.Close(f.fd)
}

func localError(ttl int, err error) Hop {
	_, errno := neterr.Classify(os.NewSyscallError("connect", err))
	reason := neterr.ErrnoName(errno)
	if reason == "" {
		reason = err.Error()
	}
	return Hop{TTL: ttl, Answer: LocalError, Reason: reason}
}

func laterTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
