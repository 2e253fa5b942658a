//go:build linux

package lab

import (
	"context"
	"fmt"
	"os/exec"
)

// Shape limits the venue's uplink — the router's link toward the server — to rate (tc syntax:
// "3mbit") with a token bucket filter. tbf is in every kernel (netem is not): the queue holds at
// most 50 ms of packets at the rate, as a real uplink's buffer would. Shape again to change the
// rate; Unshape removes it.
func (l *Lab) Shape(ctx context.Context, rate string) error {
	tc, err := exec.LookPath("tc")
	if err != nil {
		return fmt.Errorf("lab: shaping needs tc (apt-get install iproute2): %w", err)
	}
	// burst: at least rate/HZ, and a few full-size packets so one burst passes at once.
	_, err = l.run(ctx, l.tools.IP, []string{"netns", "exec", l.Router, tc, "qdisc", "replace", "dev", "server0", "root",
		"tbf", "rate", rate, "burst", "32kb", "latency", "50ms"}, "")
	if err == nil {
		l.logf("shaping: router → server at %s", rate)
	}
	return err
}

// Unshape removes Shape's limit.
func (l *Lab) Unshape(ctx context.Context) error {
	tc, err := exec.LookPath("tc")
	if err != nil {
		return err
	}
	_, err = l.run(ctx, l.tools.IP, []string{"netns", "exec", l.Router, tc, "qdisc", "del", "dev", "server0", "root"}, "")
	return err
}
