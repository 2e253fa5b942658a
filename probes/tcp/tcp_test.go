package tcp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
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
	}
	for _, tt := range tests {
		name := "nil"
		if tt.err != nil {
			name = tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			got, errno := Classify(tt.err)
			if got != tt.want || errno != tt.wantErrno {
				t.Errorf("got %q %q; want %q %q", got, errno, tt.want, tt.wantErrno)
			}
		})
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
