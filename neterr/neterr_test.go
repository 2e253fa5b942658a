package neterr

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// sysErr is an errno as Go's net package returns it from a system call.
func sysErr(op, call string, e syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(call, e)}
}

// refusedDial is a real ECONNREFUSED: a connect to a loopback port nothing listens on.
func refusedDial(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
		t.Fatalf("dial %s: got a connection; want it refused", addr)
	}
	return err
}

// readPastDeadline is a real *net.OpError wrapping os.ErrDeadlineExceeded: a read on a loopback
// connection whose deadline has passed.
func readPastDeadline(t *testing.T) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(-time.Second))
	_, err = c.Read(make([]byte, 1))
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("read past the deadline: got %v; want a *net.OpError", err)
	}
	return err
}

// dialWith is a real dial error from Go's dialer under ctx, to a loopback listener.
func dialWith(t *testing.T, ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err == nil {
		c.Close()
		t.Fatal("dial under a done context: got a connection; want an error")
	}
	return err
}

// lookupWithoutServer is a real *net.DNSError from Go's resolver, with no DNS server reachable
// (the resolver's dial fails at once: nothing is sent anywhere).
func lookupWithoutServer(t *testing.T) error {
	r := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server in this test")
	}}
	_, err := r.LookupHost(t.Context(), "ingest.example")
	var de *net.DNSError
	if !errors.As(err, &de) {
		t.Fatalf("lookup: got %v; want a *net.DNSError", err)
	}
	return err
}

func TestClassify(t *testing.T) {
	expired, cancelExpired := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancelExpired()
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name      string
		err       error
		want      Class
		wantErrno syscall.Errno
	}{
		{"nil", nil, OK, 0},
		{"refused loopback dial", refusedDial(t), Refused, syscall.ECONNREFUSED},
		{"ETIMEDOUT", sysErr("dial", "connect", syscall.ETIMEDOUT), Timeout, syscall.ETIMEDOUT},
		{"EHOSTUNREACH", sysErr("dial", "connect", syscall.EHOSTUNREACH), Unreachable, syscall.EHOSTUNREACH},
		{"ENETUNREACH", sysErr("dial", "connect", syscall.ENETUNREACH), Unreachable, syscall.ENETUNREACH},
		{"EHOSTDOWN", sysErr("dial", "connect", syscall.EHOSTDOWN), Unreachable, syscall.EHOSTDOWN},
		{"EADDRNOTAVAIL", sysErr("dial", "connect", syscall.EADDRNOTAVAIL), Unreachable, syscall.EADDRNOTAVAIL},
		{"ECONNRESET", sysErr("read", "read", syscall.ECONNRESET), Reset, syscall.ECONNRESET},
		{"EPIPE", sysErr("write", "write", syscall.EPIPE), Reset, syscall.EPIPE},
		{"EPERM", sysErr("write", "sendto", syscall.EPERM), Denied, syscall.EPERM},
		{"EACCES", sysErr("dial", "connect", syscall.EACCES), Denied, syscall.EACCES},
		{"EPROTONOSUPPORT", sysErr("listen", "socket", syscall.EPROTONOSUPPORT), Unsupported, syscall.EPROTONOSUPPORT},
		{"EAFNOSUPPORT", sysErr("listen", "socket", syscall.EAFNOSUPPORT), Unsupported, syscall.EAFNOSUPPORT},
		// An errno outside the bounded set keeps its number; its name is "".
		{"EINVAL", sysErr("dial", "connect", syscall.EINVAL), Other, syscall.EINVAL},
		{"read past its deadline", readPastDeadline(t), Timeout, 0},
		{"os.ErrDeadlineExceeded in *net.OpError", &net.OpError{Op: "read", Net: "udp", Err: os.ErrDeadlineExceeded}, Timeout, 0},
		{"context.DeadlineExceeded", fmt.Errorf("rtmp: connect: %w", context.DeadlineExceeded), Timeout, 0},
		{"dial under an expired context", dialWith(t, expired), Timeout, 0},
		{"dial under a canceled context", dialWith(t, canceled), Canceled, 0},
		{"canceled wins over the errno it caused", fmt.Errorf("%w: %w", context.Canceled, sysErr("read", "read", syscall.ECONNRESET)), Canceled, 0},
		{"real *net.DNSError", lookupWithoutServer(t), Resolve, 0},
		{"*net.DNSError not found", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "ingest.example", IsNotFound: true}}, Resolve, 0},
		{"*net.DNSError timeout", &net.DNSError{Err: "i/o timeout", Name: "ingest.example", IsTimeout: true}, Timeout, 0},
		{"net.Error timeout without errno", &net.OpError{Op: "read", Err: timeoutErr{}}, Timeout, 0},
		{"no errno", errors.New("something else"), Other, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errno := Classify(tt.err)
			if got != tt.want || errno != tt.wantErrno {
				t.Errorf("Classify(%v): got %q %d; want %q %d", tt.err, got, errno, tt.want, tt.wantErrno)
			}
		})
	}
}

// timeoutErr is a net.Error that knows it timed out but wraps neither deadline error.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "timed out" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsDeadline(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.DeadlineExceeded, true},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, true},
		{fmt.Errorf("burst: %w", context.Canceled), false},
		{sysErr("dial", "connect", syscall.ETIMEDOUT), false}, // the kernel's timeout, not ours
	}
	for _, tt := range tests {
		if got := IsDeadline(tt.err); got != tt.want {
			t.Errorf("IsDeadline(%v): got %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestTruncated(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, false},
		// On Unix EMSGSIZE is a send too large to go, not a read cut short.
		{sysErr("write", "sendto", syscall.EMSGSIZE), false},
	}
	for _, tt := range tests {
		if got := Truncated(tt.err); got != tt.want {
			t.Errorf("Truncated(%v): got %v; want %v", tt.err, got, tt.want)
		}
	}
}

func TestErrnoName(t *testing.T) {
	tests := []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ECONNREFUSED, "ECONNREFUSED"},
		{syscall.ETIMEDOUT, "ETIMEDOUT"},
		{syscall.EHOSTUNREACH, "EHOSTUNREACH"},
		{syscall.ENETUNREACH, "ENETUNREACH"},
		{syscall.EHOSTDOWN, "EHOSTDOWN"},
		{syscall.ENETDOWN, "ENETDOWN"},
		{syscall.EADDRNOTAVAIL, "EADDRNOTAVAIL"},
		{syscall.ECONNRESET, "ECONNRESET"},
		{syscall.ECONNABORTED, "ECONNABORTED"},
		{syscall.EPIPE, "EPIPE"},
		{syscall.EPERM, "EPERM"},
		{syscall.EACCES, "EACCES"},
		{syscall.EPROTONOSUPPORT, "EPROTONOSUPPORT"},
		{syscall.EAFNOSUPPORT, "EAFNOSUPPORT"},
		{syscall.ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT"},
		{syscall.EINVAL, ""}, // outside the bounded set
		{0, ""},
	}
	for _, tt := range tests {
		if got := ErrnoName(tt.errno); got != tt.want {
			t.Errorf("ErrnoName(%d): got %q; want %q", tt.errno, got, tt.want)
		}
	}
}

// TestClassValues: the values end up in records and metric labels, a public contract.
func TestClassValues(t *testing.T) {
	for c, want := range map[Class]string{
		OK: "", Timeout: "timeout", Refused: "refused", Unreachable: "unreachable", Reset: "reset",
		Denied: "denied", Unsupported: "unsupported", Resolve: "resolve", Canceled: "canceled", Other: "other",
	} {
		if string(c) != want {
			t.Errorf("got class %q; want %q", c, want)
		}
	}
}
