package clock

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeNTP is an SNTP server on loopback. reply builds the answer to a request received at server
// time now (nil = stay silent); the server's clock is the real one shifted by skew.
type fakeNTP struct {
	addr string
}

func startNTP(t *testing.T, skew time.Duration, reply func(req []byte, now time.Time) [][]byte) *fakeNTP {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return // closed by Cleanup
			}
			for _, out := range reply(append([]byte(nil), buf[:n]...), time.Now().Add(skew)) {
				_, _ = pc.WriteTo(out, from)
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return &fakeNTP{addr: pc.LocalAddr().String()}
}

func putNTP(b []byte, t time.Time) {
	sec := uint64(t.Unix() - ntpEpoch)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	binary.BigEndian.PutUint32(b[0:4], uint32(sec))
	binary.BigEndian.PutUint32(b[4:8], uint32(frac))
}

// answer is a well-formed server reply: stratum 2, the request's transmit time echoed as originate.
func answer(req []byte, now time.Time) []byte {
	b := make([]byte, 48)
	b[0] = 0<<6 | 4<<3 | 4
	b[1] = 2
	copy(b[24:32], req[40:48])
	putNTP(b[32:40], now)
	putNTP(b[40:48], now.Add(50*time.Microsecond))
	return b
}

func one(f func(req []byte, now time.Time) []byte) func([]byte, time.Time) [][]byte {
	return func(req []byte, now time.Time) [][]byte { return [][]byte{f(req, now)} }
}

func TestRunOffset(t *testing.T) {
	tests := []struct {
		name string
		skew time.Duration // server minus this host
	}{
		{"in step", 0},
		{"this host 7 minutes behind", 7 * time.Minute},
		{"this host 7 minutes ahead", -7 * time.Minute},
		{"this host 40 seconds ahead", -40 * time.Second},
		{"this host a day behind", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startNTP(t, tt.skew, one(answer))
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			r := New(Config{Server: srv.addr}).Run(ctx)
			if !r.OK || r.Error != OK {
				t.Fatalf("got ok=%v error=%q; want ok", r.OK, r.Error)
			}
			// The true offset lies within half the measured round trip of the computed one (RFC 4330
			// §5): a bound that holds however loaded the machine running the test is.
			if d, bound := math.Abs(r.OffsetSeconds-tt.skew.Seconds()), r.RTTSeconds/2+0.002; d > bound {
				t.Errorf("offset: got %.4f s; want %.4f s ± %.4f", r.OffsetSeconds, tt.skew.Seconds(), bound)
			}
			if r.RTTSeconds < 0 || r.RTTSeconds > 1 {
				t.Errorf("rtt: got %.3f s; want 0–1 s on loopback", r.RTTSeconds)
			}
			if r.Stratum != 2 || r.Probe != "clock" || r.Source != "ntp" || r.Address != srv.addr {
				t.Errorf("got %+v; want stratum 2, probe clock, source ntp, address %s", r, srv.addr)
			}
		})
	}
}

func TestRunFailures(t *testing.T) {
	withHeader := func(b0, stratum byte, refid string) func([]byte, time.Time) []byte {
		return func(req []byte, now time.Time) []byte {
			b := answer(req, now)
			b[0], b[1] = b0, stratum
			copy(b[12:16], refid)
			return b
		}
	}
	wrongNonce := func(req []byte, now time.Time) []byte {
		b := answer(req, now)
		b[24] ^= 0xff
		return b
	}
	tests := []struct {
		name    string
		reply   func([]byte, time.Time) [][]byte
		want    Class
		kiss    string
		timeout time.Duration
	}{
		{name: "silent server", reply: func([]byte, time.Time) [][]byte { return nil }, want: Timeout, timeout: 300 * time.Millisecond},
		{name: "kiss-o'-death RATE", reply: one(withHeader(0<<6|4<<3|4, 0, "RATE")), want: Kiss, kiss: "RATE"},
		{name: "kiss code not letters", reply: one(withHeader(0<<6|4<<3|4, 0, "\x00\x01ab")), want: Kiss, kiss: "other"},
		{name: "unsynchronized LI=3", reply: one(withHeader(3<<6|4<<3|4, 2, "")), want: Unsynchronized},
		{name: "stratum 16", reply: one(withHeader(0<<6|4<<3|4, 16, "")), want: Unsynchronized},
		{name: "client mode reply", reply: one(withHeader(0<<6|4<<3|3, 2, "")), want: BadReply},
		{name: "version 2", reply: one(withHeader(0<<6|2<<3|4, 2, "")), want: BadReply},
		{name: "only spoofed replies", reply: one(wrongNonce), want: BadReply, timeout: 300 * time.Millisecond},
		{name: "short reply", reply: func([]byte, time.Time) [][]byte { return [][]byte{make([]byte, 20)} }, want: BadReply, timeout: 300 * time.Millisecond},
		{name: "zero transmit time", reply: one(func(req []byte, now time.Time) []byte {
			b := answer(req, now)
			clear(b[40:48])
			return b
		}), want: BadReply},
		{name: "a spoofed reply first, then the real one", reply: func(req []byte, now time.Time) [][]byte {
			return [][]byte{wrongNonce(req, now.Add(time.Hour)), answer(req, now)}
		}, want: OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startNTP(t, 0, tt.reply)
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 2 * time.Second
			}
			ctx, cancel := context.WithTimeout(t.Context(), timeout)
			defer cancel()
			start := time.Now()
			r := New(Config{Server: srv.addr}).Run(ctx)
			if r.Error != tt.want || r.KissCode != tt.kiss || r.OK != (tt.want == OK) {
				t.Errorf("got error %q kiss %q ok %v; want %q, %q", r.Error, r.KissCode, r.OK, tt.want, tt.kiss)
			}
			if tt.want == OK && math.Abs(r.OffsetSeconds) > r.RTTSeconds/2+0.002 {
				t.Errorf("offset: got %.4f s; want ≈0: the spoofed reply (an hour ahead) must be ignored", r.OffsetSeconds)
			}
			if el := time.Since(start); el > timeout+time.Second {
				t.Errorf("took %s; want within the %s deadline", el, timeout)
			}
		})
	}
}

func TestRunRefused(t *testing.T) {
	// A port nothing listens on: loopback answers with ICMP port unreachable.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	r := New(Config{Server: addr}).Run(ctx)
	if r.Error != Refused || r.Errno != "ECONNREFUSED" {
		t.Errorf("got %q %q; want refused ECONNREFUSED", r.Error, r.Errno)
	}
}

func TestRunCanceled(t *testing.T) {
	srv := startNTP(t, 0, func([]byte, time.Time) [][]byte { return nil })
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	r := New(Config{Server: srv.addr}).Run(ctx)
	if r.Error != Canceled {
		t.Errorf("got %q; want canceled", r.Error)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("took %s after a cancel at 50 ms; want it to stop at once", el)
	}
}

func TestRunResolve(t *testing.T) {
	p := New(Config{Server: "ntp.invalid:123"})
	p.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: "ntp.invalid", IsNotFound: true}}
	}
	if r := p.Run(t.Context()); r.Error != Resolve {
		t.Errorf("got %q; want resolve", r.Error)
	}
}

func TestNTPTimeEras(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{"2018", time.Unix(0x5C271099, 0)},
		{"just before the 2036 rollover", time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC)},
		{"just after the 2036 rollover", time.Date(2036, 2, 7, 6, 28, 17, 0, time.UTC)},
		{"2100", time.Date(2100, 1, 1, 0, 0, 0, 500_000_000, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := make([]byte, 8)
			putNTP(b, tt.t)
			if got := ntpTime(b); got.Sub(tt.t).Abs() > time.Microsecond {
				t.Errorf("got %v; want %v", got.UTC(), tt.t)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Class
	}{
		{context.DeadlineExceeded, Timeout},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, Timeout},
		{errors.New("something else"), Other},
		{&net.DNSError{IsTimeout: true}, Timeout},
		{&net.DNSError{Err: "no such host", Name: "ntp.invalid", IsNotFound: true}, Resolve},
		{&net.OpError{Op: "read", Net: "udp", Err: os.NewSyscallError("recvfrom", syscall.ECONNREFUSED)}, Refused},
		{&net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.ENETUNREACH)}, Unreachable},
		{&net.OpError{Op: "write", Net: "udp", Err: os.NewSyscallError("sendto", syscall.EPERM)}, Other},
		{fmt.Errorf("ntp: %w", context.Canceled), Canceled},
	}
	for _, tt := range tests {
		if got, _ := classify(tt.err); got != tt.want {
			t.Errorf("classify(%v): got %q; want %q", tt.err, got, tt.want)
		}
	}
}
