package icmp

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/ingestprobe/ingestprobe/neterr"
)

// packetConn is what a burst needs of an ICMP socket: *icmp.PacketConn has it, tests fake it.
type packetConn interface {
	ReadFrom(b []byte) (n int, from net.Addr, err error)
	WriteTo(b []byte, dst net.Addr) (int, error)
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
	Close() error
}

const (
	tokenLen = 16           // the payload: a random token, the same for every echo of a burst
	echoLen  = 8 + tokenLen // ICMP header and payload
	// readBufLen holds any echo reply with an IPv4 header and most other packets; a longer one is
	// cut (Linux, macOS) or refused with WSAEMSGSIZE (Windows), and is not ours either way.
	readBufLen = 2048
	// readsPerEcho bounds the packets one burst reads (count × this): far more than a burst's
	// replies, a guard against a socket flooded by other ICMP where no filter applies.
	readsPerEcho = 1024
)

var errTooManyPackets = errors.New("icmp: too many packets read in one burst")

// echo is the real burst behind Probe.ping: it opens the socket in the given mode, runs the burst
// in the caller's goroutine and closes the socket before it returns. setup is false when the
// socket could not be opened.
func (p *Probe) echo(ctx context.Context, addr netip.Addr, privileged bool, count int, interval, wait time.Duration) (stats, bool, error) {
	addr = addr.Unmap()
	c, id, err := p.listen(addr.Is6(), privileged, nextID())
	if err != nil {
		return stats{}, false, err
	}
	defer c.Close()
	var dst net.Addr = &net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	if !privileged {
		dst = &net.UDPAddr{IP: addr.AsSlice(), Zone: addr.Zone()}
	}
	b := burst{conn: c, now: time.Now, dst: dst, peer: addr.WithZone(""), v6: addr.Is6(), id: id,
		token: newToken(), count: count, interval: interval, wait: wait}
	st, err := b.run(ctx)
	return st, true, err
}

// listen opens one burst's socket: an unprivileged ping socket ("udp4", "udp6") or a raw one
// ("ip4:icmp", "ip6:ipv6-icmp"). id is the echo identifier for a raw socket; on a ping socket the
// kernel chooses it (Linux: the socket's local port, which it also filters replies by), and the
// identifier returned is the one to send and match.
func listen(v6, privileged bool, id uint16) (packetConn, uint16, error) {
	network := "udp4"
	switch {
	case v6 && privileged:
		network = "ip6:ipv6-icmp"
	case v6:
		network = "udp6"
	case privileged:
		network = "ip4:icmp"
	}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		return nil, 0, err
	}
	if !privileged {
		if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.Port > 0 && a.Port <= math.MaxUint16 {
			id = uint16(a.Port)
		}
		return c, id, nil
	}
	// A raw socket receives every ICMP packet of the host: on Linux a BPF program keeps only echo
	// replies with our identifier, so concurrent bursts and other pingers do not wake this one;
	// for IPv6 the ICMPv6 type filter does the same by type where BPF is missing (BSDs). Both are
	// best effort — where neither exists (Windows) the burst's own matching still decides, the
	// filters only spare reading other packets.
	if v6 {
		var f ipv6.ICMPFilter
		f.SetAll(true)
		f.Accept(ipv6.ICMPTypeEchoReply)
		_ = c.IPv6PacketConn().SetICMPFilter(&f)
		_ = c.IPv6PacketConn().SetBPF(replyFilter(true, id))
	} else {
		_ = c.IPv4PacketConn().SetBPF(replyFilter(false, id))
	}
	return c, id, nil
}

// replyPrograms are the classic BPF programs that accept an ICMP echo reply with one identifier,
// assembled once; replyFilter fills in a burst's identifier. On an IPv4 raw socket the filter sees
// the IP header first, on an IPv6 one the ICMPv6 header.
var replyPrograms = sync.OnceValue(func() (progs [2][]bpf.RawInstruction) {
	var err error
	if progs[0], err = bpf.Assemble([]bpf.Instruction{
		bpf.LoadMemShift{Off: 0},          // X = the IPv4 header's length
		bpf.LoadIndirect{Off: 0, Size: 1}, // ICMP type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv4.ICMPTypeEchoReply), SkipFalse: 3},
		bpf.LoadIndirect{Off: 4, Size: 2}, // echo identifier
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0 /* the burst's identifier */, SkipFalse: 1},
		bpf.RetConstant{Val: math.MaxUint32},
		bpf.RetConstant{Val: 0},
	}); err != nil {
		panic(err)
	}
	if progs[1], err = bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 1}, // ICMPv6 type
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(ipv6.ICMPTypeEchoReply), SkipFalse: 3},
		bpf.LoadAbsolute{Off: 4, Size: 2}, // echo identifier
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0 /* the burst's identifier */, SkipFalse: 1},
		bpf.RetConstant{Val: math.MaxUint32},
		bpf.RetConstant{Val: 0},
	}); err != nil {
		panic(err)
	}
	return progs
})

// replyFilter is the BPF program accepting echo replies with identifier id only.
func replyFilter(v6 bool, id uint16) []bpf.RawInstruction {
	progs, i, at := replyPrograms(), 0, 4
	if v6 {
		i, at = 1, 3
	}
	f := slices.Clone(progs[i])
	f[at].K = uint32(id)
	return f
}

// nextID hands out raw-socket echo identifiers: distinct for concurrent bursts of this process, from
// a random start so that processes started together differ too. The start is drawn at the first
// burst rather than in an init function, so importing the package costs and changes nothing.
func nextID() uint16 { return uint16(idStart() + idCount.Add(1)) }

var (
	idStart = sync.OnceValue(rand.Uint32)
	idCount atomic.Uint32
)

// newToken is a burst's payload: a reply carrying another burst's token (an earlier one that used
// the same identifier and sequence numbers) is not counted.
func newToken() (t [tokenLen]byte) {
	binary.BigEndian.PutUint64(t[:8], rand.Uint64())
	binary.BigEndian.PutUint64(t[8:], rand.Uint64())
	return t
}

// burst is one burst of echoes on an open socket.
type burst struct {
	conn     packetConn
	now      func() time.Time
	dst      net.Addr   // where the echoes go
	peer     netip.Addr // the probed address: a reply from elsewhere is not counted
	v6       bool
	id       uint16
	token    [tokenLen]byte
	count    int
	interval time.Duration // at most this long between two echoes
	wait     time.Duration // a reply later than this after its echo is lost
}

// run sends count echoes, each when the reply to the previous one has come or interval after it,
// whichever is first, so at most one is unanswered at a time; then it waits for the replies still
// outstanding until wait after the last echo, and ends at once when every echo is answered. It
// sends and receives in the caller's goroutine, blocked in ReadFrom until the next echo is due;
// ctx ends it early through read and write deadlines in the past. It returns what it measured, also with an
// error: ctx's, a refused first send, or a failed read.
func (b *burst) run(ctx context.Context) (stats, error) {
	count := min(b.count, math.MaxUint16+1) // one sequence number per echo
	sentAt := make([]time.Time, count)      // zero: not sent (not yet, or the send failed)
	answered := make([]bool, count)
	rtts := make([]time.Duration, 0, count)
	var tried, sent int
	var lastTry, lastSend time.Time
	lastAnswered := false // the reply to the latest echo is in: the next one may go
	result := func(err error) (stats, error) { return summarize(sent, rtts), err }

	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		b.conn.SetWriteDeadline(time.Unix(1, 0))
		b.conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer func() {
		if !stop() {
			<-fired // the AfterFunc goroutine does not outlive the burst
		}
	}()
	ctxDeadline, hasDeadline := ctx.Deadline()
	// A send waits for room in the socket's buffer at most until the burst's latest end.
	sendBy := b.now().Add(time.Duration(count-1)*b.interval + b.wait)
	if hasDeadline && ctxDeadline.Before(sendBy) {
		sendBy = ctxDeadline
	}
	if err := b.conn.SetWriteDeadline(sendBy); err != nil {
		return result(err)
	}
	msg := make([]byte, echoLen)
	buf := make([]byte, readBufLen)
	for steps := 0; ; steps++ {
		if steps > count*(readsPerEcho+2) {
			return result(errTooManyPackets)
		}
		if err := ctx.Err(); err != nil {
			return result(err)
		}
		t := b.now()
		if hasDeadline && !t.Before(ctxDeadline) {
			return result(context.DeadlineExceeded)
		}
		if tried < count && (tried == 0 || lastAnswered || !t.Before(lastTry.Add(b.interval))) {
			seq := tried
			tried, lastTry, lastAnswered = tried+1, t, false
			b.marshal(msg, uint16(seq))
			if _, err := b.conn.WriteTo(msg, b.dst); err != nil {
				if sent == 0 {
					// The first echo refused (this host's firewall, no route): nothing to measure.
					return result(err)
				}
				continue // this echo is not sent and not lost; the next one is due an interval on
			}
			sentAt[seq], sent, lastSend = t, sent+1, t
			continue
		}
		next := lastTry.Add(b.interval)
		if tried == count {
			if len(rtts) == sent {
				return result(nil)
			}
			if next = lastSend.Add(b.wait); !t.Before(next) {
				return result(nil)
			}
		}
		if hasDeadline && ctxDeadline.Before(next) {
			next = ctxDeadline
		}
		if err := b.conn.SetReadDeadline(next); err != nil {
			return result(err)
		}
		// After the deadline is set: a cancellation from here on finds it and moves it to the past.
		if err := ctx.Err(); err != nil {
			return result(err)
		}
		n, from, err := b.conn.ReadFrom(buf)
		if err != nil {
			// A datagram too long for the buffer (Windows only) is not one of our replies, which are short.
			if errors.Is(err, os.ErrDeadlineExceeded) || neterr.Truncated(err) {
				continue
			}
			return result(err)
		}
		at := b.now()
		seq, ok := b.match(buf[:n], from)
		if !ok || seq >= tried || sentAt[seq].IsZero() || answered[seq] {
			continue // not ours, not sent, or a duplicate
		}
		rtt := at.Sub(sentAt[seq])
		if rtt > b.wait {
			continue // too late: lost
		}
		answered[seq] = true
		rtts = append(rtts, rtt)
		if seq == tried-1 {
			lastAnswered = true
		}
	}
}

// marshal writes the echo request with sequence number seq into m (echoLen bytes). The ICMPv6
// checksum covers a pseudo-header the kernel knows, and the kernel fills it in.
func (b *burst) marshal(m []byte, seq uint16) {
	m[0], m[1] = byte(ipv4.ICMPTypeEcho), 0
	if b.v6 {
		m[0] = byte(ipv6.ICMPTypeEchoRequest)
	}
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[4:], b.id)
	binary.BigEndian.PutUint16(m[6:], seq)
	copy(m[8:], b.token[:])
	if !b.v6 {
		binary.BigEndian.PutUint16(m[2:], checksum(m))
	}
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

// match says whether packet p from the address from is a reply to this burst, and to which echo.
func (b *burst) match(p []byte, from net.Addr) (seq int, ok bool) {
	var ip net.IP
	switch a := from.(type) {
	case *net.IPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	default:
		return 0, false
	}
	if src, ok := netip.AddrFromSlice(ip); !ok || src.Unmap() != b.peer {
		return 0, false
	}
	id, sq, data, ok := parseEchoReply(p, b.v6)
	if !ok || id != b.id || len(data) < tokenLen || [tokenLen]byte(data[:tokenLen]) != b.token {
		return 0, false
	}
	return int(sq), true
}

// parseEchoReply reads an ICMP (v6: ICMPv6) echo reply: its identifier, sequence number and data,
// which aliases p. Anything else — another type, a packet too short — is not ok. An IPv4 header in
// front, which some platforms' raw sockets deliver, is skipped (an echo reply's first byte, its
// type 0, cannot be mistaken for one).
func parseEchoReply(p []byte, v6 bool) (id, seq uint16, data []byte, ok bool) {
	typ := byte(ipv4.ICMPTypeEchoReply)
	if v6 {
		typ = byte(ipv6.ICMPTypeEchoReply)
	} else if len(p) > 0 && p[0]>>4 == 4 {
		hl := int(p[0]&0x0f) * 4
		if hl < ipv4.HeaderLen || len(p) < hl || p[9] != 1 /* ICMP */ {
			return 0, 0, nil, false
		}
		p = p[hl:]
	}
	if len(p) < 8 || p[0] != typ {
		return 0, 0, nil, false
	}
	return binary.BigEndian.Uint16(p[4:]), binary.BigEndian.Uint16(p[6:]), p[8:], true
}

// summarize is the burst's statistics: sent, received, and the round trips' minimum, mean,
// maximum and population standard deviation (as ping and pro-bing report it).
func summarize(sent int, rtts []time.Duration) stats {
	st := stats{sent: sent, received: len(rtts)}
	if len(rtts) == 0 {
		return st
	}
	st.min, st.max = slices.Min(rtts), slices.Max(rtts)
	var sum float64
	for _, r := range rtts {
		sum += float64(r)
	}
	mean := sum / float64(len(rtts))
	var sq float64
	for _, r := range rtts {
		d := float64(r) - mean
		sq += d * d
	}
	st.avg = time.Duration(math.Round(mean))
	st.stddev = time.Duration(math.Round(math.Sqrt(sq / float64(len(rtts)))))
	return st
}
