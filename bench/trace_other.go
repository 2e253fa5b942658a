//go:build !linux

package bench

import "context"

// TraceFigures: see trace_linux.go.
type TraceFigures struct {
	Runs           int  `json:"runs"`
	BlockedMS      Dist `json:"blocked_ms"`
	BlockedSent    int  `json:"blocked_syns"`
	BlockedLastHop int  `json:"blocked_last_hop"`
	OpenMS         Dist `json:"open_ms"`
	OpenSent       int  `json:"open_syns"`
}

// MeasureTrace needs the lab (network namespaces, nftables) and Linux's IP_RECVERR.
func MeasureTrace(ctx context.Context, n int) (TraceFigures, error) {
	return TraceFigures{}, errOnlyLinux("path trace: the lab's network namespaces")
}
