//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
)

// MeasurePreflightDropped times `check --timeout T` from the lab's venue while the venue firewall
// silently drops TCP 1935: the verdict can only come after T, and should come right after it —
// with trace "off"; with "auto" the dropped port is traced after T (probes/path), which the
// verdict waits for.
func MeasurePreflightDropped(ctx context.Context, bin string, n int, timeout time.Duration, trace string) (Preflight, error) {
	if reason := lab.CannotRun(); reason != "" {
		return Preflight{}, errors.New(reason)
	}
	if _, err := lab.Sweep(time.Now(), false); err != nil {
		return Preflight{}, err
	}
	l, err := lab.New(ctx, lab.Options{})
	if err != nil {
		return Preflight{}, err
	}
	defer l.Close()
	if err := l.SetFirewall(ctx, lab.DropPort(1935)); err != nil {
		return Preflight{}, err
	}
	url := "rtmp://" + lab.NameOpen + "/live/stream"
	p, err := timeCheck(ctx, n, "no-go", func(ctx context.Context) *exec.Cmd {
		return l.VenueCommand(ctx, bin, "check", "--config", "/dev/null", "--json", "--timeout", timeout.String(), "--trace", trace, url)
	})
	p.TimeoutMS = float64(timeout) / float64(time.Millisecond)
	p.Variant = "--trace " + trace
	if err == nil && !slices.Contains(p.Codes, "tcp.blocked") {
		err = fmt.Errorf("dropped 1935: findings %v; want tcp.blocked", p.Codes)
	}
	return p, err
}
