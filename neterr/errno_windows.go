package neterr

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// canonical gives a Winsock error code as the syscall constant of the same name. On Windows Go's
// syscall package defines ECONNREFUSED and its kin as invented numbers that no system call
// returns: sockets fail with the WSAE codes, which compared against the syscall constants would
// all read as "other".
func canonical(e syscall.Errno) syscall.Errno {
	switch e {
	case windows.WSAECONNREFUSED:
		return syscall.ECONNREFUSED
	case windows.WSAETIMEDOUT:
		return syscall.ETIMEDOUT
	case windows.WSAEHOSTUNREACH:
		return syscall.EHOSTUNREACH
	case windows.WSAENETUNREACH:
		return syscall.ENETUNREACH
	case windows.WSAEHOSTDOWN:
		return syscall.EHOSTDOWN
	case windows.WSAENETDOWN:
		return syscall.ENETDOWN
	case windows.WSAEADDRNOTAVAIL:
		return syscall.EADDRNOTAVAIL
	case windows.WSAECONNRESET:
		return syscall.ECONNRESET
	case windows.WSAECONNABORTED:
		return syscall.ECONNABORTED
	case windows.WSAEACCES:
		return syscall.EACCES
	case windows.WSAEPROTONOSUPPORT:
		return syscall.EPROTONOSUPPORT
	case windows.WSAEAFNOSUPPORT:
		return syscall.EAFNOSUPPORT
	case windows.WSAESOCKTNOSUPPORT:
		return syscall.ESOCKTNOSUPPORT
	}
	return e
}

func truncated(e syscall.Errno) bool { return e == windows.WSAEMSGSIZE }
