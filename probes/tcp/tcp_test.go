package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClassify(t *testing.T) {
	op := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		err       error
		want      Class
		wantErrno string
	}{
		{nil, OK, ""},
		{op(syscall.ECONNREFUSED), Refused, "ECONNREFUSED"},
		{op(syscall.EHOSTUNREACH), Unreachable, "EHOSTUNREACH"},
		{op(syscall.ENETUNREACH), Unreachable, "ENETUNREACH"},
		{op(syscall.EHOSTDOWN), Unreachable, "EHOSTDOWN"},
		{op(syscall.EADDRNOTAVAIL), Unreachable, "EADDRNOTAVAIL"},
		{op(syscall.ECONNRESET), Reset, "ECONNRESET"},
		{op(syscall.ETIMEDOUT), Timeout, "ETIMEDOUT"},
		{op(syscall.EPERM), Denied, "EPERM"},
		{op(syscall.EACCES), Denied, "EACCES"},
		{op(syscall.EINVAL), Other, ""},
		{&net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, Timeout, ""},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), Timeout, ""},
		{fmt.Errorf("wrapped: %w", context.Canceled), Canceled, ""},
		{errors.New("something else"), Other, ""},
		// neterr's classes that are not a connect's outcome stay "other", the errno's name kept.
		{op(syscall.EAFNOSUPPORT), Other, "EAFNOSUPPORT"},
		{&net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "ingest.example", IsNotFound: true}}, Other, ""},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.err != nil {
			name = tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			got, errno := classify(tt.err)
			if got != tt.want || errno != tt.wantErrno {
				t.Errorf("got %q %q; want %q %q", got, errno, tt.want, tt.wantErrno)
			}
		})
	}
}

// TestClassValues: the values are in every record's "error" field, a public contract.
func TestClassValues(t *testing.T) {
	for c, want := range map[Class]string{OK: "", Timeout: "timeout", Refused: "refused", Unreachable: "unreachable",
		Reset: "reset", Denied: "denied", Canceled: "canceled", Other: "other"} {
		if string(c) != want {
			t.Errorf("got class %q; want %q", c, want)
		}
	}
}

func TestRunLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	open := netip.MustParseAddrPort(ln.Addr().String())

	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(closedLn.Addr().String())
	closedLn.Close()

	r := New(Config{Address: open}).Run(t.Context())
	if !r.OK || r.Error != OK || r.Port != int(open.Port()) || r.Address != "127.0.0.1" || r.ConnectSeconds <= 0 {
		t.Errorf("open port: got %+v; want ok with a positive connect time", r)
	}
	r = New(Config{Address: closed}).Run(t.Context())
	if r.OK || r.Error != Refused || r.Errno != "ECONNREFUSED" {
		t.Errorf("closed port: got %+v; want refused ECONNREFUSED", r)
	}
}

// TestRunTimeout: a connect that never completes ends at the context's deadline, as a timeout.
func TestRunTimeout(t *testing.T) {
	p := New(Config{Address: netip.MustParseAddrPort("192.0.2.1:1935")})
	p.dial = func(ctx context.Context, _, _ string) (net.Conn, error) { // a silent drop, without sending anything
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Err: ctx.Err()}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	r := p.Run(ctx)
	if r.Error != Timeout || r.ConnectSeconds <= 0 {
		t.Errorf("got %+v; want timeout with the time waited", r)
	}

	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if r = p.Run(ctx); r.Error != Canceled {
		t.Errorf("got %q; want canceled", r.Error)
	}
}

// TestRunClockStartsAtConnect: the connect time is counted from right before connect(2) (the
// dialer's Control hook), not from before the socket is made. The fake clock reads n² seconds at
// its n-th reading: start 1, Control 4, end 9 — so 5 s from Control, where counting from the
// start would give 8 s.
func TestRunClockStartsAtConnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := New(Config{Address: netip.MustParseAddrPort(ln.Addr().String())})
	base := time.Unix(1_700_000_000, 0)
	readings := 0
	p.now = func() time.Time {
		readings++
		return base.Add(time.Duration(readings*readings) * time.Second)
	}
	r := p.Run(t.Context())
	if !r.OK || r.ConnectSeconds != 5 || readings != 3 {
		t.Errorf("got ok=%v connect_seconds=%v after %d clock readings; want ok=true 5 after 3", r.OK, r.ConnectSeconds, readings)
	}
}

// TestRunKernelRTT: on Linux a successful connect carries the kernel's handshake RTT, which can
// never exceed the wall time measured around the connect (both read CLOCK_MONOTONIC).
func TestRunKernelRTT(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_INFO is read on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ap := netip.MustParseAddrPort(ln.Addr().String())
	positive := 0
	for range 20 {
		r := New(Config{Address: ap}).Run(t.Context())
		if !r.OK {
			t.Fatalf("got %+v; want a connection", r)
		}
		if r.RTTSeconds < 0 || r.RTTSeconds > r.ConnectSeconds {
			t.Errorf("rtt_seconds %v, connect_seconds %v; want 0 ≤ rtt ≤ connect", r.RTTSeconds, r.ConnectSeconds)
		}
		if r.RTTSeconds > 0 {
			positive++
		}
	}
	if positive == 0 {
		t.Errorf("got rtt_seconds 0 on all 20 connects; want the kernel's RTT on some")
	}
}
