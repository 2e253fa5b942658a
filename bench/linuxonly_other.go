//go:build !linux

package bench

import (
	"errors"
	"fmt"
	"runtime"
)

// errOnlyLinux is what a measurement that needs Linux (/proc, TCP_INFO, network namespaces,
// a parent-death signal) returns elsewhere: an error, so that no phase reports figures it could
// not measure.
func errOnlyLinux(what string) error {
	return fmt.Errorf("%s: only on Linux, not %s: %w", what, runtime.GOOS, errors.ErrUnsupported)
}
