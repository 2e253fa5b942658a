package rtmp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// singleAccept is a receiver that takes one connection, as `ffmpeg -listen 1` does: it accepts
// once, closes its listener and serves that connection with handle.
func singleAccept(t *testing.T, handle func(f *fakeConn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		handle(&fakeConn{Conn: c, br: br, chunks: newChunkReader(br), done: done})
	})
	t.Cleanup(func() {
		ln.Close()
		close(done)
		wg.Wait()
	})
	return netip.MustParseAddrPort(ln.Addr().String())
}

// TestSessionOnHandedConnection: with Config.Conn the session continues on that connection, so a
// receiver that takes one connection is published to; it has no TCP connect of its own.
func TestSessionOnHandedConnection(t *testing.T) {
	addr := singleAccept(t, script{}.serve)
	conn, err := net.Dial("tcp", addr.String()) // the TCP probe's connection
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	r := New(Config{Address: addr, URL: mustURL(t, "rtmp", "127.0.0.1", addr.Port()), Level: LevelPublish, Conn: conn, Hold: testHold}).Run(ctx)
	if !r.OK || r.Phase != PhaseHold || !r.ReusedConnection || r.ConnectSeconds != 0 {
		t.Errorf("got %+v; want a held publish on the handed connection (reused, no connect time)", r)
	}
}

// TestSessionDialsWithoutConnection is the failure the hand-over prevents: a second connection to
// a receiver that already took one is refused.
func TestSessionDialsWithoutConnection(t *testing.T) {
	addr := singleAccept(t, func(f *fakeConn) { f.drain() })
	first, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	time.Sleep(50 * time.Millisecond) // let the receiver take the first and close its listener
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	r := New(Config{Address: addr, URL: mustURL(t, "rtmp", "127.0.0.1", addr.Port())}).Run(ctx)
	if r.OK || r.Phase != PhaseConnect || r.ReusedConnection {
		t.Errorf("got %+v; want the session's own connect to fail", r)
	}
}

// TestUnusedConnectionClosed: a connection handed over to a probe that does not use it (level
// off) is closed by Run; the probe owns it.
func TestUnusedConnectionClosed(t *testing.T) {
	got := make(chan error, 1)
	addr := singleAccept(t, func(f *fakeConn) {
		_ = f.SetDeadline(time.Now().Add(2 * time.Second))
		_, err := f.br.ReadByte()
		got <- err
	})
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	New(Config{Address: addr, URL: mustURL(t, "rtmp", "127.0.0.1", addr.Port()), Level: LevelOff, Conn: conn}).Run(t.Context())
	if err := <-got; err != io.EOF {
		t.Errorf("server read %v; want EOF: the probe closes a connection it did not use", err)
	}
}

// TestHandedConnectionClosedWhileIdle: a handed connection the server closed before the session
// began (it sat idle while other connects ran) is not taken for a server that refuses RTMP: the
// session dials its own.
func TestHandedConnectionClosedWhileIdle(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := startFake(t, nil, func(f *fakeConn) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first || f.handshake() != nil {
			return // the first connection is dropped at once
		}
		f.drain()
	})
	conn, err := net.Dial("tcp", srv.addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("got %v; want the server's close", err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	r := New(Config{Address: srv.addr(), URL: mustURL(t, "rtmp", "127.0.0.1", srv.addr().Port()), Level: LevelHandshake, Conn: conn}).Run(ctx)
	if !r.OK || r.ReusedConnection {
		t.Errorf("got %+v; want a handshake on a new connection", r)
	}
}
