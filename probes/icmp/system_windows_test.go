package icmp

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// TestAPIEchoLoopback: on Windows the default probe measures through the ICMP API (IcmpSendEcho2,
// Icmp6SendEcho2), without a raw socket, with the same result fields as on Linux.
func TestAPIEchoLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			if addr == "::1" && underWine() {
				if h, _, err := procIcmp6CreateFile.Call(); windows.Handle(h) == windows.InvalidHandle {
					t.Skipf("Wine has no Icmp6CreateFile (%v); real Windows has", err)
				} else {
					procIcmpCloseHandle.Call(h)
				}
			}
			p := New(Config{Address: netip.MustParseAddr(addr), Count: 3, Interval: 50 * time.Millisecond})
			// The raw socket is not to be used: the unprivileged mode must measure.
			p.listen = func(bool, bool, uint16) (packetConn, uint16, error) {
				t.Error("the raw socket was tried")
				return nil, 0, errRawForbidden
			}
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
			defer cancel()
			start := time.Now()
			r := p.Run(ctx)
			if r.Error != OK || r.Privileged || r.Sent != 3 || r.Received != 3 || r.LossRatio != 0 {
				t.Fatalf("got %+v; want 3 of 3 echoes answered through the ICMP API (privileged false)", r)
			}
			if r.RTTMinSeconds <= 0 || r.RTTMinSeconds > r.RTTAvgSeconds || r.RTTAvgSeconds > r.RTTMaxSeconds || r.RTTMaxSeconds > 0.5 {
				t.Errorf("got rtt min/avg/max %v/%v/%v; want 0 < min ≤ avg ≤ max on loopback", r.RTTMinSeconds, r.RTTAvgSeconds, r.RTTMaxSeconds)
			}
			if d := time.Since(start); d > 900*time.Millisecond {
				t.Errorf("got a run of %s; want it to end once all 3 replies are in", d)
			}
		})
	}
}

// TestAPIEchoCanceled: a canceled context ends an API burst at once, with every request's event
// closed (goleak in TestMain checks the AfterFunc goroutine).
func TestAPIEchoCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st, setup, err := apiEcho(ctx, netip.MustParseAddr("127.0.0.1"), 3, time.Hour, time.Hour)
	if !setup || err == nil || st.sent != 0 {
		t.Errorf("got %+v setup %v err %v; want the API set up, nothing sent, the context's error", st, setup, err)
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]uint32{-time.Second: 0, 0: 0, time.Microsecond: 1, time.Millisecond: 1, 1500 * time.Microsecond: 2, time.Second: 1000} {
		if got := millis(d); got != want {
			t.Errorf("millis(%s): got %d; want %d", d, got, want)
		}
	}
}
