package neterr

import (
	"net"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/windows"
)

// TestClassifyWinsock: a socket error on Windows carries a WSAE code; it classifies and is named
// as its Unix namesake.
func TestClassifyWinsock(t *testing.T) {
	tests := []struct {
		errno     syscall.Errno
		want      Class
		wantErrno syscall.Errno
		wantName  string
	}{
		{windows.WSAECONNREFUSED, Refused, syscall.ECONNREFUSED, "ECONNREFUSED"},
		{windows.WSAETIMEDOUT, Timeout, syscall.ETIMEDOUT, "ETIMEDOUT"},
		{windows.WSAEHOSTUNREACH, Unreachable, syscall.EHOSTUNREACH, "EHOSTUNREACH"},
		{windows.WSAENETUNREACH, Unreachable, syscall.ENETUNREACH, "ENETUNREACH"},
		{windows.WSAECONNRESET, Reset, syscall.ECONNRESET, "ECONNRESET"},
		{windows.WSAEACCES, Denied, syscall.EACCES, "EACCES"},
		{windows.WSAEAFNOSUPPORT, Unsupported, syscall.EAFNOSUPPORT, "EAFNOSUPPORT"},
		{windows.WSAEMSGSIZE, Other, windows.WSAEMSGSIZE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.wantName, func(t *testing.T) {
			err := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", tt.errno)}
			got, errno := Classify(err)
			if got != tt.want || errno != tt.wantErrno || ErrnoName(tt.errno) != tt.wantName {
				t.Errorf("got %q %d %q; want %q %d %q", got, errno, ErrnoName(tt.errno), tt.want, tt.wantErrno, tt.wantName)
			}
		})
	}
}

func TestTruncatedWinsock(t *testing.T) {
	err := &net.OpError{Op: "read", Net: "ip4:icmp", Err: os.NewSyscallError("wsarecvfrom", windows.WSAEMSGSIZE)}
	if !Truncated(err) {
		t.Errorf("Truncated(%v): got false; want true", err)
	}
}
