//go:build !linux

package bench

import "syscall"

// ReadProc reads /proc, which this system does not have.
func ReadProc(pid int) (ProcSample, error) {
	return ProcSample{}, errOnlyLinux("process figures: /proc")
}

// dieWithHarness: other systems have no parent-death signal, so a child is stopped only by the
// harness's own Close (not when the harness is killed). Nil starts it with the defaults.
func dieWithHarness() *syscall.SysProcAttr { return nil }
