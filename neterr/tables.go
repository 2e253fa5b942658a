package neterr

import "syscall"

// The errno tables: per platform, the numbers its socket calls fail with and the POSIX name each
// one is given. They are plain data, in files every platform compiles, so the tests check all
// three on any machine (tables_test.go); errno_<os>_test.go checks each against the platform's
// own constants where it runs (Windows: under Wine in CI). Classify reads the host's table
// (host_*.go) and returns the host's syscall constant of that name, so a WSAECONNREFUSED on
// Windows and an ECONNREFUSED on Linux and macOS are the same class, the same errno name in
// records and metric labels, and compare equal to syscall.ECONNREFUSED.
//
// A name added here needs its class in posixClass and its constant in posixErrno; the tests fail
// until every table has it (or lists it as absent in tables_test.go).

// table is one platform's errnos.
type table struct {
	goos  string
	names map[uintptr]string // the platform's number → its POSIX name
	// truncated is the code a datagram read longer than the buffer fails with; 0 where such a
	// read is cut without an error (Linux, macOS).
	truncated uintptr
}

// posixClass is the class of each name in the bounded set.
var posixClass = map[string]Class{
	"ECONNREFUSED":    Refused,
	"ETIMEDOUT":       Timeout,
	"EHOSTUNREACH":    Unreachable,
	"ENETUNREACH":     Unreachable,
	"EHOSTDOWN":       Unreachable,
	"ENETDOWN":        Unreachable,
	"EADDRNOTAVAIL":   Unreachable,
	"ECONNRESET":      Reset,
	"ECONNABORTED":    Reset,
	"EPIPE":           Reset,
	"EPERM":           Denied,
	"EACCES":          Denied,
	"EPROTONOSUPPORT": Unsupported,
	"EAFNOSUPPORT":    Unsupported,
	"ESOCKTNOSUPPORT": Unsupported,
}

// posixErrno is the host's syscall constant of each name: what Classify returns. On Windows these
// are numbers Go's syscall package invented (no system call returns them); Classify maps the
// Winsock codes onto them.
var posixErrno = map[string]syscall.Errno{
	"ECONNREFUSED":    syscall.ECONNREFUSED,
	"ETIMEDOUT":       syscall.ETIMEDOUT,
	"EHOSTUNREACH":    syscall.EHOSTUNREACH,
	"ENETUNREACH":     syscall.ENETUNREACH,
	"EHOSTDOWN":       syscall.EHOSTDOWN,
	"ENETDOWN":        syscall.ENETDOWN,
	"EADDRNOTAVAIL":   syscall.EADDRNOTAVAIL,
	"ECONNRESET":      syscall.ECONNRESET,
	"ECONNABORTED":    syscall.ECONNABORTED,
	"EPIPE":           syscall.EPIPE,
	"EPERM":           syscall.EPERM,
	"EACCES":          syscall.EACCES,
	"EPROTONOSUPPORT": syscall.EPROTONOSUPPORT,
	"EAFNOSUPPORT":    syscall.EAFNOSUPPORT,
	"ESOCKTNOSUPPORT": syscall.ESOCKTNOSUPPORT,
}

// linuxErrnos: the generic Linux numbering (asm-generic/errno.h), which every Linux architecture
// Go supports uses except MIPS (host_other.go reads the syscall constants there).
var linuxErrnos = table{goos: "linux", names: map[uintptr]string{
	1:   "EPERM",
	13:  "EACCES",
	32:  "EPIPE",
	93:  "EPROTONOSUPPORT",
	94:  "ESOCKTNOSUPPORT",
	97:  "EAFNOSUPPORT",
	99:  "EADDRNOTAVAIL",
	100: "ENETDOWN",
	101: "ENETUNREACH",
	103: "ECONNABORTED",
	104: "ECONNRESET",
	110: "ETIMEDOUT",
	111: "ECONNREFUSED",
	112: "EHOSTDOWN",
	113: "EHOSTUNREACH",
}}

// darwinErrnos: macOS (sys/errno.h, the BSD numbering).
var darwinErrnos = table{goos: "darwin", names: map[uintptr]string{
	1:  "EPERM",
	13: "EACCES",
	32: "EPIPE",
	43: "EPROTONOSUPPORT",
	44: "ESOCKTNOSUPPORT",
	47: "EAFNOSUPPORT",
	49: "EADDRNOTAVAIL",
	50: "ENETDOWN",
	51: "ENETUNREACH",
	53: "ECONNABORTED",
	54: "ECONNRESET",
	60: "ETIMEDOUT",
	61: "ECONNREFUSED",
	64: "EHOSTDOWN",
	65: "EHOSTUNREACH",
}}

// windowsErrnos: the Winsock codes (winerror.h, WSAE* = 10000 + the BSD number) that Go's socket
// calls return on Windows, and the Win32 codes an overlapped socket operation can complete with
// instead (Go returns the completion's code as it is: a reset read reads ERROR_NETNAME_DELETED).
// golang.org/x/sys/windows names the WSAE constants; errno_windows_test.go checks these numbers
// against them.
var windowsErrnos = table{goos: "windows", truncated: 10040 /* WSAEMSGSIZE */, names: map[uintptr]string{
	10013: "EACCES",          // WSAEACCES: this host's firewall or policy (also a send to a broadcast address)
	10043: "EPROTONOSUPPORT", // WSAEPROTONOSUPPORT
	10044: "ESOCKTNOSUPPORT", // WSAESOCKTNOSUPPORT
	10047: "EAFNOSUPPORT",    // WSAEAFNOSUPPORT
	10049: "EADDRNOTAVAIL",   // WSAEADDRNOTAVAIL
	10050: "ENETDOWN",        // WSAENETDOWN
	10051: "ENETUNREACH",     // WSAENETUNREACH
	10053: "ECONNABORTED",    // WSAECONNABORTED
	10054: "ECONNRESET",      // WSAECONNRESET
	10060: "ETIMEDOUT",       // WSAETIMEDOUT
	10061: "ECONNREFUSED",    // WSAECONNREFUSED
	10064: "EHOSTDOWN",       // WSAEHOSTDOWN
	10065: "EHOSTUNREACH",    // WSAEHOSTUNREACH
	64:    "ECONNRESET",      // ERROR_NETNAME_DELETED: an overlapped read or write on a reset connection
	65:    "EACCES",          // ERROR_NETWORK_ACCESS_DENIED
	121:   "ETIMEDOUT",       // ERROR_SEM_TIMEOUT: an overlapped operation on a connection that timed out
	1225:  "ECONNREFUSED",    // ERROR_CONNECTION_REFUSED
	1231:  "ENETUNREACH",     // ERROR_NETWORK_UNREACHABLE
	1232:  "EHOSTUNREACH",    // ERROR_HOST_UNREACHABLE
	1234:  "ECONNREFUSED",    // ERROR_PORT_UNREACHABLE: a UDP datagram answered by an ICMP port unreachable
	1236:  "ECONNABORTED",    // ERROR_CONNECTION_ABORTED
}}

// name is the POSIX name of the platform's errno e, or "".
func (t table) name(e uintptr) string { return t.names[e] }

// classify is the class and POSIX name of the platform's errno e: Other and "" outside the table.
func (t table) classify(e uintptr) (Class, string) {
	n := t.names[e]
	if n == "" {
		return Other, ""
	}
	return posixClass[n], n
}

// canonical is the host's syscall constant named like e in the host's table, or e itself when the
// table has no name for it (the caller keeps the number; its name is "").
func canonical(e syscall.Errno) syscall.Errno {
	if n := host.name(uintptr(e)); n != "" {
		return posixErrno[n]
	}
	return e
}

func truncated(e syscall.Errno) bool { return host.truncated != 0 && uintptr(e) == host.truncated }
