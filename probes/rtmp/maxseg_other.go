//go:build !unix

package rtmp

import (
	"errors"
	"syscall"
)

// maxSegment fails the dial: this system cannot lower TCP_MAXSEG before a connect, and a retry
// that silently ran with the full segment size would prove nothing.
func maxSegment(int) func(network, address string, c syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("rtmp: TCP_MAXSEG cannot be set on this system")
	}
}
