package icmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/bpf"
	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// fakeNet is a packet conn on a virtual clock, so the pacing is tested without the wall clock.
// WriteTo records the echo and asks the test's network what comes back, and when; ReadFrom
// delivers the earliest packet due by the read deadline, moving the clock to its time, or moves
// the clock to the deadline and times out. Only the burst's goroutine uses it.
type fakeNet struct {
	t        *testing.T
	clock    time.Time
	start    time.Time
	deadline time.Time
	queue    []fakePacket
	sends    []time.Duration              // when each echo was sent, from the start
	network  func(n *fakeNet, req []byte) // what the network does with an echo request
	refuse   map[int]error                // WriteTo fails for these echoes (by order of attempt)
	attempts int
	reads    int
}

type fakePacket struct {
	at   time.Time
	data []byte
	from net.Addr
}

var (
	fakePeer  = netip.MustParseAddr("127.0.0.1")
	fakeToken = [tokenLen]byte{'i', 'n', 'g', 'e', 's', 't', 'p', 'r', 'o', 'b', 'e', 0, 1, 2, 3, 4}
)

const fakeID = 0x1234

func newFakeNet(t *testing.T, network func(n *fakeNet, req []byte)) *fakeNet {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return &fakeNet{t: t, clock: start, start: start, network: network}
}

func (n *fakeNet) now() time.Time { return n.clock }

func (n *fakeNet) WriteTo(b []byte, dst net.Addr) (int, error) {
	n.attempts++
	if err := n.refuse[n.attempts]; err != nil {
		return 0, err
	}
	if ip, ok := dst.(*net.IPAddr); !ok || !ip.IP.Equal(fakePeer.AsSlice()) {
		n.t.Errorf("got an echo to %v; want %s", dst, fakePeer)
	}
	n.sends = append(n.sends, n.clock.Sub(n.start))
	if n.network != nil {
		n.network(n, slices.Clone(b))
	}
	return len(b), nil
}

func (n *fakeNet) SetReadDeadline(t time.Time) error { n.deadline = t; return nil }

func (n *fakeNet) SetWriteDeadline(time.Time) error { return nil }

func (n *fakeNet) ReadFrom(b []byte) (int, net.Addr, error) {
	n.reads++
	if n.reads > 10000 {
		n.t.Fatal("the burst read more than 10000 times")
	}
	if n.deadline.IsZero() {
		n.t.Fatal("a read without a deadline")
	}
	i := -1
	for j, p := range n.queue {
		if !p.at.After(n.deadline) && (i < 0 || p.at.Before(n.queue[i].at)) {
			i = j
		}
	}
	if i < 0 {
		n.clock = later(n.clock, n.deadline)
		return 0, nil, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	}
	p := n.queue[i]
	n.queue = slices.Delete(n.queue, i, i+1)
	n.clock = later(n.clock, p.at)
	return copy(b, p.data), p.from, nil
}

func (n *fakeNet) Close() error { return nil }

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// deliver schedules a packet from the given address (default: the peer) after d.
func (n *fakeNet) deliver(d time.Duration, data []byte, from netip.Addr) {
	if !from.IsValid() {
		from = fakePeer
	}
	n.queue = append(n.queue, fakePacket{at: n.clock.Add(d), data: data, from: &net.IPAddr{IP: from.AsSlice()}})
}

// reply turns an echo request into its echo reply.
func reply(req []byte) []byte {
	r := slices.Clone(req)
	r[0] = byte(ipv4.ICMPTypeEchoReply)
	return r
}

func seqOf(req []byte) int { return int(binary.BigEndian.Uint16(req[6:])) }

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// runFake runs a burst of count echoes, 20 ms apart at most, each reply awaited 1 s.
func runFake(t *testing.T, n *fakeNet, count int) (stats, error, time.Duration) {
	t.Helper()
	return runFakeCtx(t, context.Background(), n, count)
}

func runFakeCtx(t *testing.T, ctx context.Context, n *fakeNet, count int) (stats, error, time.Duration) {
	t.Helper()
	b := burst{conn: n, now: n.now, dst: &net.IPAddr{IP: fakePeer.AsSlice()}, peer: fakePeer, id: fakeID,
		token: fakeToken, count: count, interval: 20 * time.Millisecond, wait: time.Second}
	st, err := b.run(ctx)
	return st, err, n.clock.Sub(n.start)
}

// TestBurstPacing: the next echo goes when the previous one is answered, or 20 ms after it when no
// reply has come; count echoes in all; the burst ends when every echo is answered or 1 s after the
// last one. All on the virtual clock: the times are exact.
func TestBurstPacing(t *testing.T) {
	tests := []struct {
		name     string
		count    int
		network  func(n *fakeNet, req []byte)
		wantSent []time.Duration
		wantRecv int
		wantEnd  time.Duration
		wantRTT  [4]time.Duration // min, avg, max, stddev
	}{
		{
			name:     "a reply at once sends the next echo at once",
			count:    5,
			network:  func(n *fakeNet, req []byte) { n.deliver(ms(0.1), reply(req), netip.Addr{}) },
			wantSent: []time.Duration{0, ms(0.1), ms(0.2), ms(0.3), ms(0.4)},
			wantRecv: 5, wantEnd: ms(0.5),
			wantRTT: [4]time.Duration{ms(0.1), ms(0.1), ms(0.1), 0},
		},
		{
			name:     "no reply: one echo per interval, then the reply wait",
			count:    5,
			wantSent: []time.Duration{0, ms(20), ms(40), ms(60), ms(80)},
			wantEnd:  ms(1080),
		},
		{
			name:  "replies slower than the interval do not speed it up",
			count: 5,
			// Each reply comes after the next echo has gone: it answers an older echo.
			network:  func(n *fakeNet, req []byte) { n.deliver(ms(30), reply(req), netip.Addr{}) },
			wantSent: []time.Duration{0, ms(20), ms(40), ms(60), ms(80)},
			wantRecv: 5, wantEnd: ms(110),
			wantRTT: [4]time.Duration{ms(30), ms(30), ms(30), 0},
		},
		{
			name:  "count is respected",
			count: 3,
			network: func(n *fakeNet, req []byte) {
				n.deliver(ms(1), reply(req), netip.Addr{})
			},
			wantSent: []time.Duration{0, ms(1), ms(2)},
			wantRecv: 3, wantEnd: ms(3),
			wantRTT: [4]time.Duration{ms(1), ms(1), ms(1), 0},
		},
		{
			name:  "one lost: its interval, and the reply wait after the last echo",
			count: 5,
			network: func(n *fakeNet, req []byte) {
				if seqOf(req) != 1 {
					n.deliver(ms(1), reply(req), netip.Addr{})
				}
			},
			wantSent: []time.Duration{0, ms(1), ms(21), ms(22), ms(23)},
			wantRecv: 4, wantEnd: ms(1023),
			wantRTT: [4]time.Duration{ms(1), ms(1), ms(1), 0},
		},
		{
			name:  "round trips vary: population standard deviation",
			count: 4,
			network: func(n *fakeNet, req []byte) {
				n.deliver(ms([]float64{1, 2, 3, 6}[seqOf(req)]), reply(req), netip.Addr{})
			},
			wantSent: []time.Duration{0, ms(1), ms(3), ms(6)},
			wantRecv: 4, wantEnd: ms(12),
			// mean 3 ms; deviations -2, -1, 0, 3: variance 14/4 ms², stddev √3.5 ms.
			wantRTT: [4]time.Duration{ms(1), ms(3), ms(6), 1870829},
		},
		{
			name:  "duplicates count once, a late one too",
			count: 5,
			network: func(n *fakeNet, req []byte) {
				switch seqOf(req) {
				case 0:
					n.deliver(ms(1), reply(req), netip.Addr{})
					n.deliver(ms(1), reply(req), netip.Addr{})
					n.deliver(ms(500), reply(req), netip.Addr{}) // while the burst waits for echo 2
				case 2: // lost
				default:
					n.deliver(ms(1), reply(req), netip.Addr{})
				}
			},
			wantSent: []time.Duration{0, ms(1), ms(2), ms(22), ms(23)},
			wantRecv: 4, wantEnd: ms(1023),
			wantRTT: [4]time.Duration{ms(1), ms(1), ms(1), 0},
		},
		{
			name:  "a reply later than the reply wait is lost",
			count: 2,
			network: func(n *fakeNet, req []byte) {
				if seqOf(req) == 0 {
					n.deliver(ms(1010), reply(req), netip.Addr{})
				}
			},
			wantSent: []time.Duration{0, ms(20)},
			wantEnd:  ms(1020),
		},
		{
			name:  "strangers are ignored and do not pace the burst",
			count: 3,
			network: func(n *fakeNet, req []byte) {
				wrongToken := reply(req)
				wrongToken[len(wrongToken)-1] ^= 0xff
				wrongID := reply(req)
				binary.BigEndian.PutUint16(wrongID[4:], fakeID+1)
				unsentSeq := reply(req)
				binary.BigEndian.PutUint16(unsentSeq[6:], 100)
				n.deliver(ms(1), wrongToken, netip.Addr{})
				n.deliver(ms(1), wrongID, netip.Addr{})
				n.deliver(ms(1), unsentSeq, netip.Addr{})
				n.deliver(ms(1), reply(req), netip.MustParseAddr("127.0.0.2")) // another source
				n.deliver(ms(1), req, netip.Addr{})                            // our own request, as a raw socket sees it
				n.deliver(ms(1), reply(req)[:8+tokenLen-1], netip.Addr{})      // truncated
				n.deliver(ms(1), []byte{0xde, 0xad}, netip.Addr{})             // garbage
			},
			wantSent: []time.Duration{0, ms(20), ms(40)},
			wantEnd:  ms(1040),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newFakeNet(t, tt.network)
			st, err, end := runFake(t, n, tt.count)
			if err != nil {
				t.Errorf("got error %v; want none", err)
			}
			if !slices.Equal(n.sends, tt.wantSent) {
				t.Errorf("got echoes sent at %v; want %v", n.sends, tt.wantSent)
			}
			if st.sent != len(tt.wantSent) || st.received != tt.wantRecv {
				t.Errorf("got %d of %d answered; want %d of %d", st.received, st.sent, tt.wantRecv, len(tt.wantSent))
			}
			if end != tt.wantEnd {
				t.Errorf("got the burst ending after %s; want %s", end, tt.wantEnd)
			}
			if got := [4]time.Duration{st.min, st.avg, st.max, st.stddev}; got != tt.wantRTT {
				t.Errorf("got rtt min/avg/max/stddev %v; want %v", got, tt.wantRTT)
			}
		})
	}
}

// TestBurstSendRefused: a refused first echo ends the burst with the error and nothing measured; a
// refused later one is neither sent nor lost, and the next goes an interval after it.
func TestBurstSendRefused(t *testing.T) {
	eperm := &net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.EPERM)}
	instant := func(n *fakeNet, req []byte) { n.deliver(ms(1), reply(req), netip.Addr{}) }

	n := newFakeNet(t, instant)
	n.refuse = map[int]error{1: eperm}
	st, err, end := runFake(t, n, 5)
	if !errors.Is(err, syscall.EPERM) || st.sent != 0 || n.attempts != 1 || end != 0 {
		t.Errorf("first refused: got %v, %d sent, %d attempts, end %s; want EPERM at once, nothing sent", err, st.sent, n.attempts, end)
	}

	n = newFakeNet(t, instant)
	n.refuse = map[int]error{3: eperm}
	st, err, _ = runFake(t, n, 5)
	if want := []time.Duration{0, ms(1), ms(22), ms(23)}; err != nil || !slices.Equal(n.sends, want) || st.sent != 4 || st.received != 4 {
		t.Errorf("third refused: got %v, echoes at %v, %d of %d answered; want no error, echoes at %v, 4 of 4", err, n.sends, st.received, st.sent, want)
	}
}

// TestBurstDeadline: ctx's deadline ends the burst with what it measured and DeadlineExceeded.
func TestBurstDeadline(t *testing.T) {
	n := newFakeNet(t, nil)
	ctx := atDeadline{context.Background(), n.start.Add(ms(50))}
	st, err, end := runFakeCtx(t, ctx, n, 5)
	if !errors.Is(err, context.DeadlineExceeded) || st.sent != 3 || end != ms(50) {
		t.Errorf("got %v, %d sent, end %s; want the deadline after 3 echoes, at 50 ms", err, st.sent, end)
	}
}

// atDeadline has a deadline (on the virtual clock) but is never done by itself.
type atDeadline struct {
	context.Context
	dl time.Time
}

func (c atDeadline) Deadline() (time.Time, bool) { return c.dl, true }

// blockingConn is a socket on the real clock that never receives anything: ReadFrom blocks until
// the read deadline, which SetReadDeadline may move from another goroutine.
type blockingConn struct {
	mu       sync.Mutex
	deadline time.Time
	changed  chan struct{} // closed when the deadline moves
	closed   bool
	sent     int
}

func (c *blockingConn) WriteTo(b []byte, _ net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent++
	return len(b), nil
}

func (c *blockingConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	if c.changed != nil {
		close(c.changed)
	}
	c.changed = make(chan struct{})
	return nil
}

func (c *blockingConn) SetWriteDeadline(time.Time) error { return nil }

func (c *blockingConn) ReadFrom([]byte) (int, net.Addr, error) {
	for range 100 {
		c.mu.Lock()
		d, changed, closed := c.deadline, c.changed, c.closed
		c.mu.Unlock()
		if closed {
			return 0, nil, net.ErrClosed
		}
		wait := time.Until(d)
		if d.IsZero() || wait <= 0 {
			return 0, nil, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-changed:
			timer.Stop()
		}
	}
	return 0, nil, errors.New("blockingConn: the deadline moved 100 times")
}

func (c *blockingConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

// TestRunCancelMidBurst: canceling a burst that would otherwise wait an hour ends Run, with the
// socket closed and no goroutine left behind.
func TestRunCancelMidBurst(t *testing.T) {
	conn := &blockingConn{}
	p := New(Config{Address: netip.MustParseAddr("127.0.0.1"), Interval: time.Hour, ReplyWait: time.Hour})
	p.listen = func(_, _ bool, id uint16) (packetConn, uint16, error) { return conn, id, nil }
	p.ping = p.echo // the socket burst in both modes (on Windows the unprivileged one is the ICMP API)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan Result)
	go func() { done <- p.Run(ctx) }()
	// Cancel once the first echo is out, i.e. while the burst waits in ReadFrom.
	for i := 0; ; i++ {
		conn.mu.Lock()
		sent := conn.sent
		conn.mu.Unlock()
		if sent > 0 {
			break
		}
		if i == 1000 {
			t.Fatal("the burst sent nothing in 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	var r Result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of the cancellation (it would have waited an hour)")
	}
	if r.Error != Canceled || r.Sent != 0 {
		t.Errorf("got %q with %d sent; want canceled, nothing reported", r.Error, r.Sent)
	}
	conn.mu.Lock()
	closed := conn.closed
	conn.mu.Unlock()
	if !closed {
		t.Error("got the socket open after Run; want it closed")
	}
	goleak.VerifyNone(t)
}

// TestNextID: bursts started at once, the first ones included (when the random start is drawn),
// get distinct echo identifiers.
func TestNextID(t *testing.T) {
	const goroutines, each = 8, 1000 // 8000 of the 65536 identifiers: none may repeat
	got := make([][]uint16, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				got[g] = append(got[g], nextID())
			}
		})
	}
	wg.Wait()
	seen := make(map[uint16]bool, goroutines*each)
	for _, ids := range got {
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("got identifier %d twice in %d; want all distinct", id, goroutines*each)
			}
			seen[id] = true
		}
	}
	if a, b := nextID(), nextID(); b != a+1 {
		t.Errorf("got %d then %d; want consecutive identifiers", a, b)
	}
}

// TestMarshal: the echo request is what x/net/icmp would marshal, checksum included (IPv6: the
// kernel fills in the checksum, over a pseudo-header).
func TestMarshal(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		b := burst{v6: v6, id: 0xbeef, token: fakeToken}
		got := make([]byte, echoLen)
		b.marshal(got, 0x0102)
		var typ icmp.Type = ipv4.ICMPTypeEcho
		if v6 {
			typ = ipv6.ICMPTypeEchoRequest
		}
		want, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: 0xbeef, Seq: 0x0102, Data: fakeToken[:]}}).Marshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("v6 %v: got % x; want % x", v6, got, want)
		}
	}
	// An odd length: RFC 1071's example sums to 0xddf2 over these bytes, plus a last odd byte.
	if got := checksum([]byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0x01}); got != ^uint16(0xddf2+0x0100) {
		t.Errorf("got checksum %#04x; want %#04x", got, ^uint16(0xddf2+0x0100))
	}
}

// TestReplyFilter runs the BPF programs in x/net/bpf's virtual machine: they accept echo replies
// with the burst's identifier only, behind an IPv4 header of any length (IPv4) or none (IPv6).
func TestReplyFilter(t *testing.T) {
	const id = 0xa1b2
	echo := func(typ byte, id uint16) []byte {
		m := []byte{typ, 0, 0, 0, 0, 0, 0, 7}
		binary.BigEndian.PutUint16(m[4:], id)
		return append(m, fakeToken[:]...)
	}
	ip4 := func(optionWords int, m []byte) []byte {
		h := make([]byte, 20+4*optionWords)
		h[0], h[9] = 0x45+byte(optionWords), 1
		return append(h, m...)
	}
	tests := []struct {
		name   string
		v6     bool
		packet []byte
		accept bool
	}{
		{"v4 reply, ours", false, ip4(0, echo(0, id)), true},
		{"v4 reply with IP options, ours", false, ip4(2, echo(0, id)), true},
		{"v4 reply, another id", false, ip4(0, echo(0, id+1)), false},
		{"v4 request, our id", false, ip4(0, echo(8, id)), false},
		{"v4 unreachable", false, ip4(0, echo(3, id)), false},
		{"v4 truncated", false, ip4(0, echo(0, id))[:25], false},
		{"v6 reply, ours", true, echo(129, id), true},
		{"v6 reply, another id", true, echo(129, id+1), false},
		{"v6 request, our id", true, echo(128, id), false},
		{"v6 truncated", true, echo(129, id)[:5], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, ok := bpf.Disassemble(replyFilter(tt.v6, id))
			if !ok {
				t.Fatal("the program does not disassemble")
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatal(err)
			}
			n, err := vm.Run(tt.packet)
			if err != nil {
				t.Fatal(err)
			}
			if accepted := n > 0; accepted != tt.accept {
				t.Errorf("got accepted %v (%d bytes); want %v", accepted, n, tt.accept)
			}
		})
	}
	// Each burst's program is its own copy: filling in one identifier leaves the others alone.
	if a, b := replyFilter(false, 1), replyFilter(false, 2); slices.Equal(a, b) {
		t.Error("got the same program for two identifiers")
	}
}

// countingConn records the packets a burst's socket delivered: source, ICMP type and identifier.
type countingConn struct {
	packetConn
	mu      sync.Mutex
	packets []string
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, from, err := c.packetConn.ReadFrom(b)
	if err == nil {
		p := fmt.Sprintf("% x", b[:min(n, 8)])
		if n >= 8 {
			p = fmt.Sprintf("type %d id %#04x", b[0], binary.BigEndian.Uint16(b[4:]))
		}
		c.mu.Lock()
		c.packets = append(c.packets, fmt.Sprintf("%v: %s", from, p))
		c.mu.Unlock()
	}
	return n, from, err
}

// TestRawFilterConcurrent runs two bursts at once on loopback through raw sockets: each counts its
// own replies only, and — the BPF filter — its socket delivers nothing else: not the other
// burst's echoes and replies, not the echo requests it sees itself send on loopback.
func TestRawFilterConcurrent(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			const bursts, count = 2, 20
			// Both sockets are open, filters attached, before either burst sends: without a filter,
			// each would queue the other's packets.
			var mu sync.Mutex
			opened, allOpen := 0, make(chan struct{})
			arrive := func() {
				mu.Lock()
				defer mu.Unlock()
				if opened++; opened == bursts {
					close(allOpen)
				}
			}
			results := make([]Result, bursts)
			conns := make([]*countingConn, bursts)
			var wg sync.WaitGroup
			for i := range bursts {
				p := New(Config{Address: netip.MustParseAddr(addr), Count: count, PrivilegedFirst: true})
				p.ping = p.echo // the socket burst (on Windows the unprivileged mode is the ICMP API)
				p.listen = func(v6, privileged bool, id uint16) (packetConn, uint16, error) {
					if !privileged {
						return nil, 0, errors.New("this test is about raw sockets")
					}
					c, id, err := listen(v6, privileged, id)
					arrive()
					if err != nil {
						return nil, 0, err
					}
					select {
					case <-allOpen:
					case <-time.After(5 * time.Second):
						c.Close()
						return nil, 0, errors.New("the other burst's socket did not open within 5 s")
					}
					conns[i] = &countingConn{packetConn: c}
					return conns[i], id, nil
				}
				wg.Go(func() {
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
					defer cancel()
					results[i] = p.Run(ctx)
				})
			}
			wg.Wait()
			for i, r := range results {
				if r.Error == Unavailable || (r.Error == Unreachable && addr == "::1") {
					t.Skipf("no raw ICMP socket to %s for this process: %q %s", addr, r.Error, r.ErrnoPrivileged)
				}
				if r.Error != OK || !r.Privileged || r.Sent != count || r.Received != count {
					t.Fatalf("burst %d: got %+v; want %d of %d echoes answered through the raw socket", i, r, count, count)
				}
				if got := conns[i].packets; len(got) != count && runtime.GOOS != "windows" { // no BPF on Windows
					t.Errorf("burst %d: its socket delivered %d packets; want only its %d replies:\n%s", i, len(got), count, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestRunLoopbackModes sends real echoes to 127.0.0.1 and ::1 through each socket this process may
// open, the ping socket (ID chosen by the kernel) and the raw socket.
func TestRunLoopbackModes(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		for _, privileged := range []bool{false, true} {
			t.Run(addr+map[bool]string{false: " ping", true: " raw"}[privileged], func(t *testing.T) {
				p := New(Config{Address: netip.MustParseAddr(addr), Count: 3})
				p.ping = p.echo // the sockets (on Windows the unprivileged mode is the ICMP API)
				p.listen = func(v6, priv bool, id uint16) (packetConn, uint16, error) {
					if priv != privileged {
						return nil, 0, syscall.EPROTONOSUPPORT
					}
					return listen(v6, priv, id)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				r := p.Run(ctx)
				if r.Error == Unavailable || (r.Error == Unreachable && addr == "::1") {
					t.Skipf("no such socket to %s for this process: %q %s %s", addr, r.Error, r.ErrnoUnprivileged, r.ErrnoPrivileged)
				}
				if r.Error != OK || r.Privileged != privileged || r.Sent != 3 || r.Received != 3 {
					t.Fatalf("got %+v; want 3 of 3 echoes answered, privileged %v", r, privileged)
				}
			})
		}
	}
}

// FuzzParseEchoReply: the parser never panics, and it agrees with x/net/icmp's ParseMessage on
// what is an echo reply and what its identifier, sequence number and data are.
func FuzzParseEchoReply(f *testing.F) {
	reply4, _ := (&icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: 7, Seq: 1, Data: fakeToken[:]}}).Marshal(nil)
	reply6, _ := (&icmp.Message{Type: ipv6.ICMPTypeEchoReply, Body: &icmp.Echo{ID: 7, Seq: 1, Data: fakeToken[:]}}).Marshal(nil)
	header := []byte{0x45, 0, 0, 44, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1}
	f.Add(reply4, false)
	f.Add(append(slices.Clone(header), reply4...), false)
	f.Add(reply6, true)
	f.Add(reply4[:8], false)
	f.Add(reply4[:7], false)
	f.Add(header, false)
	f.Add([]byte{0x4f}, false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, p []byte, v6 bool) {
		id, seq, data, ok := parseEchoReply(p, v6)
		// The oracle: x/net/icmp, after the IPv4 header is removed as Go's raw IPv4 socket does.
		var typ icmp.Type = ipv4.ICMPTypeEchoReply
		if v6 {
			typ = ipv6.ICMPTypeEchoReply
		}
		proto := typ.Protocol()
		q := p
		if !v6 && len(q) > 0 && q[0]>>4 == 4 {
			hl := int(q[0]&0x0f) * 4
			if hl < 20 || len(q) < hl || q[9] != 1 {
				if ok {
					t.Fatalf("got an echo reply from % x, a broken IPv4 header", p)
				}
				return
			}
			q = q[hl:]
		}
		m, err := icmp.ParseMessage(proto, q)
		var echo *icmp.Echo
		if err == nil && m.Type == typ {
			echo, _ = m.Body.(*icmp.Echo)
		}
		if ok != (echo != nil) {
			t.Fatalf("% x (v6 %v): got ok %v; x/net/icmp says echo reply: %v (%v)", p, v6, ok, echo != nil, err)
		}
		if ok && (int(id) != echo.ID || int(seq) != echo.Seq || !bytes.Equal(data, echo.Data)) {
			t.Fatalf("% x: got id %d seq %d data % x; x/net/icmp: %d %d % x", p, id, seq, data, echo.ID, echo.Seq, echo.Data)
		}
	})
}
