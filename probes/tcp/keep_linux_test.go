package tcp

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestKeepHandsTheConnectionOver: with Keep set, the connection that was measured is the one
// handed over — the server sees one client, and bytes written on it arrive — through the kernel
// connect and through Go's dialer alike; without Keep the server sees the connection closed.
func TestKeepHandsTheConnectionOver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := netip.MustParseAddrPort(ln.Addr().String())
	for _, viaDialer := range []bool{false, true} {
		name := "kernel connect"
		if viaDialer {
			name = "Go's dialer"
		}
		t.Run(name, func(t *testing.T) {
			if viaDialer {
				for range threadWaits {
					threadTokens <- struct{}{}
				}
			}
			var kept net.Conn
			r := New(Config{Address: addr, Keep: func(c net.Conn) { kept = c }}).Run(t.Context())
			if viaDialer {
				for range threadWaits {
					<-threadTokens
				}
			}
			if !r.OK || r.ConnectSeconds <= 0 || kept == nil {
				t.Fatalf("got %+v, kept %v; want a measured connect handed over", r, kept)
			}
			defer kept.Close()
			srv, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			if got := srv.RemoteAddr().String(); got != kept.LocalAddr().String() {
				t.Errorf("server sees %s; want the kept connection %s", got, kept.LocalAddr())
			}
			if _, err := kept.Write([]byte("C0")); err != nil {
				t.Fatal(err)
			}
			_ = srv.SetDeadline(time.Now().Add(2 * time.Second))
			b := make([]byte, 2)
			if _, err := io.ReadFull(srv, b); err != nil || string(b) != "C0" {
				t.Errorf("server read %q, %v; want the bytes written on the kept connection", b, err)
			}
		})
	}
	t.Run("without Keep", func(t *testing.T) {
		if r := New(Config{Address: addr}).Run(t.Context()); !r.OK {
			t.Fatalf("got %+v; want ok", r)
		}
		srv, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		_ = srv.SetDeadline(time.Now().Add(2 * time.Second))
		if n, err := srv.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("got %d bytes, %v; want EOF: the probe closes its connection", n, err)
		}
	})
}
