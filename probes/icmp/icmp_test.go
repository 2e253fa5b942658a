package icmp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ingestprobe/ingestprobe/neterr"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

func TestClassify(t *testing.T) {
	sock := func(e error) error {
		return &net.OpError{Op: "listen", Net: "ip4:icmp", Err: os.NewSyscallError("socket", e)}
	}
	tests := []struct {
		err       error
		want      Class
		wantErrno string
	}{
		{nil, OK, ""},
		{sock(syscall.EPERM), Denied, "EPERM"},
		{sock(syscall.EACCES), Denied, "EACCES"},
		{sock(syscall.EPROTONOSUPPORT), Unavailable, "EPROTONOSUPPORT"},
		{&net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.ENETUNREACH)}, Unreachable, "ENETUNREACH"},
		{&net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.EHOSTUNREACH)}, Unreachable, "EHOSTUNREACH"},
		{fmt.Errorf("run: %w", context.Canceled), Canceled, ""},
		{fmt.Errorf("run: %w", context.DeadlineExceeded), Canceled, ""},
		{sock(syscall.EINVAL), Other, ""},
		{errors.New("no errno"), Other, ""},
		// Kept as they were before the errno rules moved to neterr.
		{&net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.EHOSTDOWN)}, Other, "EHOSTDOWN"},
		{&net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.ETIMEDOUT)}, Other, "ETIMEDOUT"},
		{&net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, Canceled, ""},
		{&net.DNSError{Err: "i/o timeout", IsTimeout: true}, Other, ""},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.err != nil {
			name = tt.err.Error()
		}
		t.Run(name, func(t *testing.T) {
			got, errno := Classify(tt.err)
			if got != tt.want || errno != tt.wantErrno {
				t.Errorf("got %q %q; want %q %q", got, errno, tt.want, tt.wantErrno)
			}
		})
	}
}

// attempt is one faked burst: what opening the socket in one mode gives.
type attempt struct {
	setup bool
	st    stats
	err   error
}

// TestRunModes: the unprivileged socket is tried first, the raw one when it is not permitted, and
// when neither opens the result is "unavailable" with both reasons — never a failure of the run.
func TestRunModes(t *testing.T) {
	permDenied := &net.OpError{Op: "listen", Err: os.NewSyscallError("socket", syscall.EACCES)}
	noRaw := &net.OpError{Op: "listen", Err: os.NewSyscallError("socket", syscall.EPERM)}
	good := stats{sent: 5, received: 4, min: time.Millisecond, avg: 2 * time.Millisecond, max: 4 * time.Millisecond, stddev: time.Millisecond}
	tests := []struct {
		name           string
		unpriv, priv   attempt
		wantErr        Class
		wantPrivileged bool
		wantSent       int
		wantLoss       float64
		wantErrnos     [2]string
		privFirst      bool
	}{
		{name: "unprivileged works", unpriv: attempt{setup: true, st: good}, wantSent: 5, wantLoss: 0.2},
		{name: "falls back to raw", unpriv: attempt{err: permDenied}, priv: attempt{setup: true, st: good}, wantPrivileged: true, wantSent: 5, wantLoss: 0.2, wantErrnos: [2]string{"EACCES", ""}},
		{name: "neither", unpriv: attempt{err: permDenied}, priv: attempt{err: noRaw}, wantErr: Unavailable, wantErrnos: [2]string{"EACCES", "EPERM"}},
		{name: "first send refused by local firewall", unpriv: attempt{setup: true, err: &net.OpError{Op: "write", Err: os.NewSyscallError("sendto", syscall.EPERM)}}, wantErr: Denied},
		{name: "deadline ends a burst under way", unpriv: attempt{setup: true, st: stats{sent: 3, received: 3, avg: time.Millisecond}, err: context.DeadlineExceeded}, wantSent: 3},
		{name: "all lost", unpriv: attempt{setup: true, st: stats{sent: 5}}, wantSent: 5, wantLoss: 1},
		{name: "raw socket first when told", privFirst: true, unpriv: attempt{err: permDenied}, priv: attempt{setup: true, st: good}, wantPrivileged: true, wantSent: 5, wantLoss: 0.2},
		{name: "raw first, falls back to the ping socket", privFirst: true, unpriv: attempt{setup: true, st: good}, priv: attempt{err: noRaw}, wantSent: 5, wantLoss: 0.2, wantErrnos: [2]string{"", "EPERM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := New(Config{Address: netip.MustParseAddr("192.0.2.7"), PrivilegedFirst: tt.privFirst})
			p.route = func(context.Context, netip.Addr) error { return nil }
			var modes []bool
			p.ping = func(_ context.Context, _ netip.Addr, privileged bool, _ int, _, _ time.Duration) (stats, bool, error) {
				modes = append(modes, privileged)
				a := tt.unpriv
				if privileged {
					a = tt.priv
				}
				return a.st, a.setup, a.err
			}
			r := p.Run(t.Context())
			if r.Error != tt.wantErr || r.Privileged != tt.wantPrivileged {
				t.Errorf("got error %q privileged %v; want %q %v", r.Error, r.Privileged, tt.wantErr, tt.wantPrivileged)
			}
			if r.Sent != tt.wantSent || r.LossRatio != tt.wantLoss {
				t.Errorf("got sent %d loss %v; want %d %v", r.Sent, r.LossRatio, tt.wantSent, tt.wantLoss)
			}
			if got := [2]string{r.ErrnoUnprivileged, r.ErrnoPrivileged}; got != tt.wantErrnos {
				t.Errorf("got socket errnos %v; want %v", got, tt.wantErrnos)
			}
			if len(modes) == 0 || modes[0] != tt.privFirst {
				t.Errorf("got modes tried %v; want the raw socket first: %v", modes, tt.privFirst)
			}
			if r.Measured() && r.Received > 0 && r.RTTAvgSeconds <= 0 {
				t.Errorf("got avg rtt %v; want it filled", r.RTTAvgSeconds)
			}
		})
	}
}

// TestRunRoute: a destination the kernel has no route for, or one a "prohibit" route refuses, is
// reported at once without any echo sent or ICMP socket opened.
func TestRunRoute(t *testing.T) {
	for _, e := range []syscall.Errno{syscall.ENETUNREACH, syscall.EACCES} {
		t.Run(e.Error(), func(t *testing.T) {
			p := New(Config{Address: netip.MustParseAddr("192.0.2.7")})
			p.route = func(context.Context, netip.Addr) error {
				return &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", e)}
			}
			p.ping = func(context.Context, netip.Addr, bool, int, time.Duration, time.Duration) (stats, bool, error) {
				t.Fatal("ping ran despite the route failure")
				return stats{}, false, nil
			}
			r := p.Run(t.Context())
			if r.Error == OK || r.Errno != neterr.ErrnoName(e) {
				t.Errorf("got %q %q; want a failure class with errno %s", r.Error, r.Errno, neterr.ErrnoName(e))
			}
		})
	}
}

// TestPlan: a deadline too near for the whole burst sends fewer echoes, each with its full reply
// wait, instead of counting the last ones lost for want of time.
func TestPlan(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		left        time.Duration // 0 = no deadline
		wantCount   int
		wantTimeout time.Duration
	}{
		{"no deadline", 0, 5, 1800 * time.Millisecond},
		{"ample", 5 * time.Second, 5, 1800 * time.Millisecond},
		{"tight", 1500 * time.Millisecond, 3, 1400 * time.Millisecond},
		{"shorter than the reply wait", 300 * time.Millisecond, 1, 300 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 200 ms apart, so the arithmetic of fitting a burst into a deadline shows.
			p := New(Config{Address: netip.MustParseAddr("192.0.2.7"), Interval: 200 * time.Millisecond})
			ctx := t.Context()
			if tt.left > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, now.Add(tt.left))
				defer cancel()
				// The context's deadline is in the past for the real clock; plan only reads it.
				ctx = deadlineOnly{ctx}
			}
			count, timeout, ok := p.plan(ctx, now)
			if !ok || count != tt.wantCount || timeout != tt.wantTimeout {
				t.Errorf("got %d echoes in %s (ok %v); want %d in %s", count, timeout, ok, tt.wantCount, tt.wantTimeout)
			}
		})
	}
}

// deadlineOnly hides that a context with a past deadline is done.
type deadlineOnly struct{ context.Context }

func (deadlineOnly) Err() error { return nil }

// TestRunLoopback sends real echoes to 127.0.0.1 in this process: the result must show every echo
// answered, in the mode this process is allowed (unprivileged where ping_group_range includes our
// group, else raw with CAP_NET_RAW), under the context's deadline.
func TestRunLoopback(t *testing.T) {
	p := New(Config{Address: netip.MustParseAddr("127.0.0.1"), Count: 3, Interval: 50 * time.Millisecond})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	r := p.Run(ctx)
	if r.Error == Unavailable {
		t.Skipf("no ICMP socket for this user (ping_group_range %s, no CAP_NET_RAW): %s %s",
			readPingGroupRange(), r.ErrnoUnprivileged, r.ErrnoPrivileged)
	}
	if r.Error != OK || r.Sent != 3 || r.Received != 3 || r.LossRatio != 0 {
		t.Fatalf("got %+v; want 3 of 3 echoes answered", r)
	}
	if r.RTTMinSeconds <= 0 || r.RTTMinSeconds > r.RTTAvgSeconds || r.RTTAvgSeconds > r.RTTMaxSeconds || r.RTTMaxSeconds > 0.1 {
		t.Errorf("got rtt min/avg/max %v/%v/%v; want 0 < min ≤ avg ≤ max < 100 ms on loopback", r.RTTMinSeconds, r.RTTAvgSeconds, r.RTTMaxSeconds)
	}
	// All answered: it ends after the last reply, not after the reply wait.
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("got a run of %s; want it to end once all 3 replies are in (well under a millisecond)", d)
	}
}

// TestRunCanceled: a canceled run returns at once and measures nothing.
func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := New(Config{Address: netip.MustParseAddr("127.0.0.1")}).Run(ctx)
	if r.Error != Canceled || r.Sent != 0 {
		t.Errorf("got %q sent %d; want canceled, nothing sent", r.Error, r.Sent)
	}
}

func readPingGroupRange() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		return "unknown"
	}
	return string(b[:len(b)-1])
}
