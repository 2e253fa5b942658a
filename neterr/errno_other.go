//go:build !windows

package neterr

import "syscall"

// canonical is the errno itself: on Unix the syscall constants are the numbers the kernel returns.
func canonical(e syscall.Errno) syscall.Errno { return e }

// truncated is false: a datagram longer than the buffer is cut without an error.
func truncated(syscall.Errno) bool { return false }
