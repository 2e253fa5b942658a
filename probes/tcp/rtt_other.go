//go:build !linux

package tcp

import (
	"net"
	"time"
)

// kernelRTT is 0 where TCP_INFO is not read.
func kernelRTT(net.Conn) time.Duration { return 0 }
