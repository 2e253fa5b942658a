//go:build linux && !(mips || mipsle || mips64 || mips64le)

package neterr

import "testing"

// TestLinuxTableIsTheKernels: the Linux table's numbers are the syscall constants of their names.
func TestLinuxTableIsTheKernels(t *testing.T) { checkHostTable(t, linuxErrnos) }
