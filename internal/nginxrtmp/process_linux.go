//go:build linux

package nginxrtmp

import (
	"os"
	"syscall"
)

// ownProcessGroup starts nginx in its own process group, so a master that ignores SIGTERM is
// killed with its worker.
func ownProcessGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killProcessGroup sends SIGKILL to the group ownProcessGroup made: the master and its worker.
func killProcessGroup(p *os.Process) { _ = syscall.Kill(-p.Pid, syscall.SIGKILL) }
