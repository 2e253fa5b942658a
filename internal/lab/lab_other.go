//go:build !linux

package lab

import "runtime"

// CannotRun says why this host cannot build a lab: the lab is made of Linux network namespaces,
// veth pairs and nftables, which exist only on Linux.
func CannotRun() string {
	return "integration: the lab needs Linux network namespaces; this is " + runtime.GOOS
}
