package neterr

import (
	"maps"
	"slices"
	"testing"
)

// TestTables: each platform's numbers give the same class and POSIX name. The tables are plain
// data, so this runs on any machine; errno_<os>_test.go checks the numbers against the platform's
// own constants where it runs.
func TestTables(t *testing.T) {
	tests := []struct {
		tbl       table
		errno     uintptr
		want      Class
		wantName  string
		situation string
	}{
		// Linux
		{linuxErrnos, 111, Refused, "ECONNREFUSED", "TCP reset to the SYN"},
		{linuxErrnos, 110, Timeout, "ETIMEDOUT", "the kernel gave up"},
		{linuxErrnos, 113, Unreachable, "EHOSTUNREACH", "ICMP host unreachable or admin-prohibited"},
		{linuxErrnos, 101, Unreachable, "ENETUNREACH", "no route"},
		{linuxErrnos, 104, Reset, "ECONNRESET", "reset mid-connection"},
		{linuxErrnos, 1, Denied, "EPERM", "this host's nftables reject on output"},
		{linuxErrnos, 97, Unsupported, "EAFNOSUPPORT", "no IPv6"},
		{linuxErrnos, 22, Other, "", "EINVAL: outside the set"},
		// macOS
		{darwinErrnos, 61, Refused, "ECONNREFUSED", "TCP reset to the SYN"},
		{darwinErrnos, 60, Timeout, "ETIMEDOUT", "the kernel gave up"},
		{darwinErrnos, 65, Unreachable, "EHOSTUNREACH", "ICMP host unreachable"},
		{darwinErrnos, 51, Unreachable, "ENETUNREACH", "no route"},
		{darwinErrnos, 54, Reset, "ECONNRESET", "reset mid-connection"},
		{darwinErrnos, 53, Reset, "ECONNABORTED", "aborted"},
		{darwinErrnos, 1, Denied, "EPERM", "pf blocks the send"},
		{darwinErrnos, 13, Denied, "EACCES", "policy"},
		{darwinErrnos, 111, Other, "", "a Linux number means nothing here"},
		// Windows: the codes of issue 21, and the Win32 codes overlapped I/O completes with
		{windowsErrnos, 10061, Refused, "ECONNREFUSED", "WSAECONNREFUSED: nothing listens"},
		{windowsErrnos, 10060, Timeout, "ETIMEDOUT", "WSAETIMEDOUT: SYNs unanswered"},
		{windowsErrnos, 10065, Unreachable, "EHOSTUNREACH", "WSAEHOSTUNREACH: ICMP admin-prohibited"},
		{windowsErrnos, 10051, Unreachable, "ENETUNREACH", "WSAENETUNREACH"},
		{windowsErrnos, 10054, Reset, "ECONNRESET", "WSAECONNRESET: a firewall's reset mid-connection"},
		{windowsErrnos, 10053, Reset, "ECONNABORTED", "WSAECONNABORTED"},
		{windowsErrnos, 10013, Denied, "EACCES", "WSAEACCES: Windows Firewall"},
		{windowsErrnos, 10047, Unsupported, "EAFNOSUPPORT", "WSAEAFNOSUPPORT: no IPv6"},
		{windowsErrnos, 1225, Refused, "ECONNREFUSED", "ERROR_CONNECTION_REFUSED"},
		{windowsErrnos, 1232, Unreachable, "EHOSTUNREACH", "ERROR_HOST_UNREACHABLE"},
		{windowsErrnos, 64, Reset, "ECONNRESET", "ERROR_NETNAME_DELETED: a reset overlapped read"},
		{windowsErrnos, 10040, Other, "", "WSAEMSGSIZE is a truncated read, not a failure class"},
		{windowsErrnos, 111, Other, "", "a Linux number means nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.tbl.goos+"/"+tt.situation, func(t *testing.T) {
			got, name := tt.tbl.classify(tt.errno)
			if got != tt.want || name != tt.wantName {
				t.Errorf("%s errno %d: got %q %q; want %q %q", tt.tbl.goos, tt.errno, got, name, tt.want, tt.wantName)
			}
		})
	}
}

// TestTablesComplete: every name of the bounded set has a class, a constant and a number on every
// platform, and no table names anything outside the set — so the same failure reads the same
// everywhere.
func TestTablesComplete(t *testing.T) {
	set := slices.Sorted(maps.Keys(posixClass))
	if got := slices.Sorted(maps.Keys(posixErrno)); !slices.Equal(got, set) {
		t.Errorf("posixErrno names %v; want %v", got, set)
	}
	for _, tbl := range []table{linuxErrnos, darwinErrnos, windowsErrnos} {
		have := map[string]bool{}
		for e, n := range tbl.names {
			if _, ok := posixClass[n]; !ok {
				t.Errorf("%s: errno %d is named %q, outside the bounded set", tbl.goos, e, n)
			}
			have[n] = true
		}
		for _, n := range set {
			if !have[n] && !absent[tbl.goos][n] {
				t.Errorf("%s: no number for %s", tbl.goos, n)
			}
		}
	}
}

// absent: names a platform's sockets never fail with. Windows has no EPERM or EPIPE for sockets:
// its firewall fails a send with WSAEACCES, and a write on a closed connection with WSAECONNRESET
// or WSAECONNABORTED.
var absent = map[string]map[string]bool{"windows": {"EPERM": true, "EPIPE": true}}

// TestTruncatedTables: only Windows fails a read that the buffer cuts short.
func TestTruncatedTables(t *testing.T) {
	for _, tt := range []struct {
		tbl  table
		want uintptr
	}{{linuxErrnos, 0}, {darwinErrnos, 0}, {windowsErrnos, 10040}} {
		if tt.tbl.truncated != tt.want {
			t.Errorf("%s: truncated %d; want %d", tt.tbl.goos, tt.tbl.truncated, tt.want)
		}
	}
}
