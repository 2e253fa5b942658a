//go:build !linux

package nginxrtmp

import (
	"os"
	"syscall"
)

// Require skips every test on other systems, so nginx is never started there; these exist only so
// that the package (imported by tests of other packages) compiles everywhere.

func ownProcessGroup() *syscall.SysProcAttr { return nil }

func killProcessGroup(p *os.Process) { _ = p.Kill() }
