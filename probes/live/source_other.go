//go:build !linux

package live

import (
	"fmt"
	"runtime"
)

// newSource: macOS (and the BSDs) give no statistics of another process's TCP connection to an
// unprivileged reader — no inet_diag, no per-connection extended statistics — so the watch says it
// is not available rather than report nothing. Windows has them (GetExtendedTcpTable and
// GetPerTcpConnectionEStats, with collection enabled per connection as administrator), but this
// build does not read them yet.
func newSource() (Source, error) {
	if runtime.GOOS == "windows" {
		return nil, fmt.Errorf("%w (reading the encoder's connection on Windows — GetPerTcpConnectionEStats — is not implemented in this version)", ErrUnavailable)
	}
	return nil, fmt.Errorf("%w (%s has no per-connection TCP statistics of other processes; run the agent on the encoder under Linux)", ErrUnavailable, runtime.GOOS)
}
