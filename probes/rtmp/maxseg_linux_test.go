//go:build linux

package rtmp

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// MaxSegment is set before the connect: the server side of the connection sees the lowered MSS
// (it announces the segment size it may send), and the result says the session ran with it.
func TestMaxSegment(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer c.Close()
		raw, _ := c.(*net.TCPConn).SyscallConn()
		mss := -1
		_ = raw.Control(func(fd uintptr) { mss, _ = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG) })
		got <- mss
	}()
	u, err := ingesturl.Parse("rtmp://127.0.0.1/live/key")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	r := New(Config{Address: netip.MustParseAddrPort(ln.Addr().String()), URL: u, MaxSegment: 1000}).Run(ctx)
	if mss := <-got; mss <= 0 || mss > 1000 {
		t.Errorf("server side MSS: got %d; want 1 to 1000", mss)
	}
	if r.MaxSegment != 1000 {
		t.Errorf("result max_segment: got %d; want 1000", r.MaxSegment)
	}
}
