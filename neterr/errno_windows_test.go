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

// TestWindowsTableIsWinsocks: the Windows table's numbers are x/sys/windows' constants.
func TestWindowsTableIsWinsocks(t *testing.T) {
	if host.goos != "windows" {
		t.Fatalf("host table is %s; want windows", host.goos)
	}
	for code, want := range map[syscall.Errno]string{
		windows.WSAEACCES: "EACCES", windows.WSAEPROTONOSUPPORT: "EPROTONOSUPPORT",
		windows.WSAESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", windows.WSAEAFNOSUPPORT: "EAFNOSUPPORT",
		windows.WSAEADDRNOTAVAIL: "EADDRNOTAVAIL", windows.WSAENETDOWN: "ENETDOWN",
		windows.WSAENETUNREACH: "ENETUNREACH", windows.WSAECONNABORTED: "ECONNABORTED",
		windows.WSAECONNRESET: "ECONNRESET", windows.WSAETIMEDOUT: "ETIMEDOUT",
		windows.WSAECONNREFUSED: "ECONNREFUSED", windows.WSAEHOSTDOWN: "EHOSTDOWN",
		windows.WSAEHOSTUNREACH:       "EHOSTUNREACH",
		windows.ERROR_NETNAME_DELETED: "ECONNRESET", windows.ERROR_NETWORK_ACCESS_DENIED: "EACCES",
		windows.ERROR_SEM_TIMEOUT: "ETIMEDOUT", windows.ERROR_CONNECTION_REFUSED: "ECONNREFUSED",
		windows.ERROR_NETWORK_UNREACHABLE: "ENETUNREACH", windows.ERROR_HOST_UNREACHABLE: "EHOSTUNREACH",
		windows.ERROR_PORT_UNREACHABLE: "ECONNREFUSED", windows.ERROR_CONNECTION_ABORTED: "ECONNABORTED",
	} {
		if got := windowsErrnos.name(uintptr(code)); got != want {
			t.Errorf("windows code %d: named %q; want %q", code, got, want)
		}
	}
	if len(windowsErrnos.names) != 21 {
		t.Errorf("the table has %d codes; this test checks 21", len(windowsErrnos.names))
	}
	if windowsErrnos.truncated != uintptr(windows.WSAEMSGSIZE) {
		t.Errorf("truncated %d; want WSAEMSGSIZE %d", windowsErrnos.truncated, windows.WSAEMSGSIZE)
	}
}

func TestTruncatedWinsock(t *testing.T) {
	err := &net.OpError{Op: "read", Net: "ip4:icmp", Err: os.NewSyscallError("wsarecvfrom", windows.WSAEMSGSIZE)}
	if !Truncated(err) {
		t.Errorf("Truncated(%v): got false; want true", err)
	}
}
