//go:build !windows && !darwin && !(linux && !(mips || mipsle || mips64 || mips64le))

package neterr

import "runtime"

// host on the Unix platforms without a table of their own (the BSDs, Linux on MIPS, …): the
// syscall constants, which on Unix are the numbers the kernel returns.
var host = func() table {
	t := table{goos: runtime.GOOS, names: make(map[uintptr]string, len(posixErrno))}
	for name, e := range posixErrno {
		t.names[uintptr(e)] = name
	}
	return t
}()
