//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/probes/path"
)

// TraceFigures is what the path trace costs on a 3-hop path (the routed lab: venue → router →
// router2 → server) whose second router drops TCP 1935: the wall time of one trace and the SYNs it
// sent, beside a trace of the open port 443 on the same path.
type TraceFigures struct {
	Runs           int  `json:"runs"`
	BlockedMS      Dist `json:"blocked_ms"`
	BlockedSent    int  `json:"blocked_syns"` // SYNs of the last run
	BlockedLastHop int  `json:"blocked_last_hop"`
	OpenMS         Dist `json:"open_ms"`
	OpenSent       int  `json:"open_syns"`
}

// MeasureTrace runs n traces of each port from the lab's venue.
func MeasureTrace(ctx context.Context, n int) (TraceFigures, error) {
	if reason := lab.CannotRun(); reason != "" {
		return TraceFigures{}, errors.New(reason)
	}
	if _, err := lab.Sweep(time.Now(), false); err != nil {
		return TraceFigures{}, err
	}
	l, err := lab.New(ctx, lab.Options{Routed: true})
	if err != nil {
		return TraceFigures{}, err
	}
	defer l.Close()
	if err := l.SetFirewallOn(ctx, l.Router2, lab.DropPort(1935)); err != nil {
		return TraceFigures{}, err
	}
	out := TraceFigures{Runs: n}
	var blocked, open []float64
	for range n {
		for _, port := range []int{1935, 443} {
			var r path.Result
			start := time.Now()
			if err := l.Do(l.Venue, func() error {
				r = path.New(path.Config{Address: netip.AddrPortFrom(lab.IngestAddr, uint16(port))}).Run(ctx)
				return nil
			}); err != nil {
				return out, err
			}
			ms := float64(time.Since(start).Microseconds()) / 1000
			last, _ := r.LastRouter()
			switch {
			case !r.OK:
				return out, fmt.Errorf("trace to port %d: %s", port, r.Reason)
			case port == 1935 && (r.Reached || last.TTL != 2):
				return out, fmt.Errorf("trace to 1935: reached %v, last hop %d; want dropped after hop 2", r.Reached, last.TTL)
			case port == 443 && (!r.Reached || r.ReachedTTL != 3):
				return out, fmt.Errorf("trace to 443: reached %v at %d; want the server at hop 3", r.Reached, r.ReachedTTL)
			case port == 1935:
				blocked = append(blocked, ms)
				out.BlockedSent, out.BlockedLastHop = r.Sent, last.TTL
			default:
				open = append(open, ms)
				out.OpenSent = r.Sent
			}
		}
	}
	out.BlockedMS, out.OpenMS = DistOf(blocked), DistOf(open)
	return out, nil
}
