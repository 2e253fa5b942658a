//go:build !linux

package bench

import (
	"context"
	"time"
)

// MeasurePreflightDropped needs the lab (network namespaces, nftables).
func MeasurePreflightDropped(ctx context.Context, bin string, n int, timeout time.Duration, trace string) (Preflight, error) {
	return Preflight{}, errOnlyLinux("preflight dropped: the lab's network namespaces")
}
