//go:build !linux && !windows

package live

import (
	"fmt"
	"runtime"
)

// newSource: macOS (and the BSDs) give no statistics of another process's TCP connection to an
// unprivileged reader — no inet_diag, no per-connection extended statistics — so the watch says
// it is not available rather than report nothing.
func newSource() (Source, error) {
	return nil, fmt.Errorf("%w (%s has no per-connection TCP statistics of other processes; run the agent on the encoder under Linux, or under Windows as administrator)", ErrUnavailable, runtime.GOOS)
}
