// Package neterr classifies network errors into a bounded class and the errno behind it, with
// errors.Is/As only — never by matching message text, which differs between platforms, Go versions
// and locales. The probes (tcp, icmp, clock, rtmp) map its classes onto their own result classes;
// the class values and errno names are safe as metric labels.
//
//	class, errno := neterr.Classify(err)    // neterr.Refused, syscall.ECONNREFUSED
//	name := neterr.ErrnoName(errno)         // "ECONNREFUSED"; "" outside the bounded set
//	neterr.IsDeadline(err)                  // the context's or the connection's deadline passed
//	neterr.Truncated(err)                   // a datagram read longer than the buffer (Windows)
//
// Errnos are compared the same way on every platform: each platform's numbers are read through its
// table (tables.go: Linux, macOS, Windows), so on Windows the Winsock codes sockets fail with are
// given their Unix namesakes and the same classes.
//
// It is a leaf: it imports nothing from this module, so any probe can use it without importing
// another probe.
package neterr

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
)

// Class is the bounded reason a network operation failed. Probes put these values into records, so
// they are a public contract: a value never changes once released.
type Class string

const (
	OK Class = ""
	// Timeout: a deadline passed (the context's or the connection's) or the kernel gave up
	// (ETIMEDOUT): no answer at all, a silent drop or a dead path.
	Timeout Class = "timeout"
	// Refused: ECONNREFUSED. On TCP a reset to the SYN (nothing listens, or a firewall rejects with
	// reset); on a connected UDP socket an ICMP port unreachable.
	Refused Class = "refused"
	// Unreachable: no route, or an ICMP host/network unreachable or admin-prohibited
	// (EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EADDRNOTAVAIL).
	Unreachable Class = "unreachable"
	// Reset: the peer or the path dropped a connection already under way (ECONNRESET,
	// ECONNABORTED, EPIPE).
	Reset Class = "reset"
	// Denied: this host's own firewall or policy refused to send (EPERM, EACCES).
	Denied Class = "denied"
	// Unsupported: this host cannot make the socket asked for (EPROTONOSUPPORT, EAFNOSUPPORT,
	// ESOCKTNOSUPPORT), such as an ICMP socket where the kernel has none.
	Unsupported Class = "unsupported"
	// Resolve: a name did not resolve (a *net.DNSError that is not a timeout).
	Resolve Class = "resolve"
	// Canceled: the caller stopped the operation (context.Canceled).
	Canceled Class = "canceled"
	Other    Class = "other"
)

// Classify turns err into a class and the errno the class was read from. errno is 0 when the class
// did not come from an errno (a deadline, a cancellation, a *net.DNSError) or err carries none. On
// Windows a Winsock code is given as the syscall constant of the same name (WSAECONNREFUSED as
// syscall.ECONNREFUSED, tables.go), so callers compare errnos the same way everywhere.
//
// A cancellation wins over a deadline, and both over an errno: when the run was stopped, the
// errno of the socket it stopped is a consequence, not the reason.
func Classify(err error) (Class, syscall.Errno) {
	if err == nil {
		return OK, 0
	}
	var de *net.DNSError
	var errno syscall.Errno
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled, 0
	case IsDeadline(err):
		return Timeout, 0
	case errors.As(err, &de):
		if de.IsTimeout {
			return Timeout, 0
		}
		return Resolve, 0
	case errors.As(err, &errno):
		errno = canonical(errno)
		return errnoClass(errno), errno
	}
	// No errno: a net.Error may still know it timed out (Go's own resolver and TLS do).
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Timeout, 0
	}
	return Other, 0
}

// IsDeadline reports whether err is a deadline passing: the context's (context.DeadlineExceeded)
// or a connection's (os.ErrDeadlineExceeded, which a *net.OpError wraps).
func IsDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
}

// Truncated reports whether err says only that a datagram read was longer than the buffer: Windows
// fails such a read (WSAEMSGSIZE) where Unix cuts the datagram without an error, so elsewhere it
// is always false. A reader that expects only short packets can skip that one and read on.
func Truncated(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && truncated(errno)
}

// posixName is the name of each of the host's syscall constants in the bounded set.
var posixName = func() map[syscall.Errno]string {
	m := make(map[syscall.Errno]string, len(posixErrno))
	for name, e := range posixErrno {
		m[e] = name
	}
	return m
}()

// errnoClass maps an errno (the host's, canonical) to its class; an errno not listed is Other.
func errnoClass(e syscall.Errno) Class {
	if c, ok := posixClass[ErrnoName(e)]; ok {
		return c
	}
	return Other
}

// ErrnoName is the symbolic name of the errnos Classify knows ("ECONNREFUSED"), or "" for any
// other: a bounded set, safe as a metric label, and the same on every platform (a Winsock code has
// its Unix namesake's name). It takes the platform's number as a system call returned it or the
// syscall constant Classify returned.
func ErrnoName(e syscall.Errno) string {
	if n := host.name(uintptr(e)); n != "" {
		return n
	}
	return posixName[e]
}
