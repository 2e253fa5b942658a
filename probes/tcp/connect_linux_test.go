package tcp

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// silentListener is a loopback listener whose accept queue is full: the kernel drops further SYNs,
// so a connect to it stays in SYN_SENT like a connect through a firewall that drops silently —
// made without leaving loopback. (listen(2) with a backlog of 0 queues one connection; one
// connection that is never accepted fills it.)
func silentListener(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(ln) })
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(ln, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*unix.SockaddrInet4).Port))
	filler, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(filler) })
	if err := unix.Connect(filler, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
	return ap
}

// TestConnectSilentTimeout: the kernel path waits out a dropped SYN until ctx's deadline and
// calls it a timeout. (The clock starts at connect(2), a little after the deadline was set, so
// the time waited is a little under the 200 ms; half of it tells a wait from a failure at once.)
func TestConnectSilentTimeout(t *testing.T) {
	ap := silentListener(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	r := New(Config{Address: ap}).Run(ctx)
	if r.OK || r.Error != Timeout || r.ConnectSeconds < 0.1 {
		t.Errorf("got %+v; want a timeout after waiting out (most of) the 200 ms deadline", r)
	}
}

// TestConnectSilentCancel: canceling the context ends a connect in SYN_SENT at once (the socket is
// shut down, which wakes the poll), long before the deadline, as canceled; TestMain's goleak sees
// that nothing is left behind.
func TestConnectSilentCancel(t *testing.T) {
	ap := silentListener(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	timer := time.AfterFunc(50*time.Millisecond, cancel)
	defer timer.Stop()
	r := New(Config{Address: ap}).Run(ctx)
	if r.OK || r.Error != Canceled || r.ConnectSeconds >= 20 {
		t.Errorf("got %+v; want canceled well before the 30 s deadline", r)
	}
	// Already canceled before the connect: nothing is sent, canceled at once.
	if r = New(Config{Address: ap}).Run(ctx); r.Error != Canceled {
		t.Errorf("canceled context: got %+v; want canceled", r)
	}
}

// TestConnectIPv6Loopback: the kernel path speaks IPv6 too (skipped where ::1 is not configured).
func TestConnectIPv6Loopback(t *testing.T) {
	ln, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no IPv6 socket here: %v", err)
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}); err != nil {
		t.Skipf("::1 is not configured here: %v", err)
	}
	if err := unix.Listen(ln, 8); err != nil {
		t.Fatal(err)
	}
	sa, _ := unix.Getsockname(ln)
	ap := netip.AddrPortFrom(netip.IPv6Loopback(), uint16(sa.(*unix.SockaddrInet6).Port))
	if r := New(Config{Address: ap}).Run(t.Context()); !r.OK || r.Address != "::1" {
		t.Errorf("got %+v; want a connection to ::1", r)
	}
}

// TestConnectBeyondThreadWaits: when threadWaits connects already wait on their own threads, the
// next goes through Go's dialer — same result, the kernel's RTT included — and takes no token.
// 40 connects to a silent port at once hold at most threadWaits tokens and all end as timeouts.
func TestConnectBeyondThreadWaits(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	open := netip.MustParseAddrPort(ln.Addr().String())
	for range threadWaits {
		threadTokens <- struct{}{}
	}
	r := New(Config{Address: open}).Run(t.Context())
	for range threadWaits {
		<-threadTokens
	}
	if !r.OK || r.RTTSeconds <= 0 || r.ConnectSeconds <= 0 {
		t.Errorf("through the dialer: got %+v; want a connection with connect time and kernel RTT", r)
	}

	silent := silentListener(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var timeouts, most atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := int64(len(threadTokens)); n > most.Load() {
				most.Store(n)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := New(Config{Address: silent}).Run(ctx); r.Error == Timeout {
				timeouts.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if timeouts.Load() != 40 || most.Load() > threadWaits || most.Load() == 0 {
		t.Errorf("got %d timeouts of 40 and at most %d tokens held; want 40 and between 1 and %d", timeouts.Load(), most.Load(), threadWaits)
	}
	if len(threadTokens) != 0 {
		t.Errorf("%d tokens still held after every connect ended", len(threadTokens))
	}
}
