//go:build linux

package live

import (
	"context"
	"encoding/hex"
	"flag"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

var record = flag.Bool("record", false, "record testdata/diag_*.hex from a real dump")

// The tcp_info offsets parseDiag reads are those of the kernel's struct, as x/sys lays it out.
func TestTCPInfoOffsets(t *testing.T) {
	var ti unix.TCPInfo
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"unacked", tiUnacked, unsafe.Offsetof(ti.Unacked)},
		{"snd_mss", tiSndMSS, unsafe.Offsetof(ti.Snd_mss)},
		{"last_ack_recv", tiLastAckRecv, unsafe.Offsetof(ti.Last_ack_recv)},
		{"rtt", tiRTT, unsafe.Offsetof(ti.Rtt)},
		{"rttvar", tiRTTVar, unsafe.Offsetof(ti.Rttvar)},
		{"total_retrans", tiTotalRetrans, unsafe.Offsetof(ti.Total_retrans)},
		{"bytes_acked", tiBytesAcked, unsafe.Offsetof(ti.Bytes_acked)},
		{"segs_out", tiSegsOut, unsafe.Offsetof(ti.Segs_out)},
		{"notsent_bytes", tiNotsent, unsafe.Offsetof(ti.Notsent_bytes)},
		{"delivery_rate", tiDeliveryRate, unsafe.Offsetof(ti.Delivery_rate)},
		{"bytes_sent", tiBytesSent, unsafe.Offsetof(ti.Bytes_sent)},
		{"bytes_retrans", tiBytesRetrans, unsafe.Offsetof(ti.Bytes_retrans)},
	} {
		if c.got != c.want {
			t.Errorf("tcpi_%s at %d; struct tcp_info has it at %d", c.name, c.got, c.want)
		}
	}
}

// loopbackPair is a connection on loopback with n bytes sent from the client and read by the server.
func loopbackPair(t *testing.T, network, addr string, n int) (client net.Conn) {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("no %s loopback: %v", network, err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan struct{})
	go func() {
		defer close(done)
		s, err := ln.Accept()
		if err != nil {
			return
		}
		defer s.Close()
		io.Copy(io.Discard, s)
	}()
	c, err := net.DialTimeout(network, ln.Addr().String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); <-done })
	if _, err := c.Write(make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	return c
}

// A real dump finds a loopback connection of this process with the bytes the peer acknowledged,
// over IPv4 and IPv6; with -record it writes the replies to testdata for TestParseRecorded.
func TestDumpLoopback(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, c := range []struct{ network, addr, file string }{{"tcp4", "127.0.0.1:0", "diag_v4.hex"}, {"tcp6", "[::1]:0", "diag_v6.hex"}} {
		t.Run(c.network, func(t *testing.T) {
			const n = 100000
			client := loopbackPair(t, c.network, c.addr, n)
			local := netip.MustParseAddrPort(client.LocalAddr().String())
			remotePort := netip.MustParseAddrPort(client.RemoteAddr().String()).Port()
			src, err := newSource()
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ds := src.(*diagSource)
			var rec []byte
			ds.raw = func(_ uint8, p []byte) {
				if len(p) >= sizeofDiagMsg && uint16(p[4])<<8|uint16(p[5]) == local.Port() {
					rec = append([]byte(nil), p...)
				}
			}
			var got Conn
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				conns, err := src.Dump(context.Background(), []uint16{1, remotePort, 2})
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range conns {
					if x.Local == local {
						got = x
					}
				}
				if got.BytesAcked >= n {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			// The filter: other ports' connections are not in the dump.
			if others, err := src.Dump(context.Background(), []uint16{remotePort + 1}); err != nil || slices.ContainsFunc(others, func(x Conn) bool { return x.Local == local }) {
				t.Errorf("a dump for another port: %v, %d connections, ours among them", err, len(others))
			}
			if got.BytesAcked < n || got.SegsOut == 0 || got.ID == 0 || got.Inode == 0 || got.RTT <= 0 {
				t.Fatalf("got %+v; want the connection with %d bytes acknowledged, segments, a cookie, an inode and an RTT", got, n)
			}
			o, complete := owners(map[uint64]bool{got.Inode: true})
			if !o[got.Inode].own || o[got.Inode].pid != os.Getpid() {
				t.Errorf("owners: %+v (complete %v); want this process", o, complete)
			}
			if *record && rec != nil {
				os.WriteFile("testdata/"+c.file, []byte(hex.EncodeToString(rec)+"\n"), 0o644)
			}
		})
	}
}
