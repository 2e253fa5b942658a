package live

import (
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Replies recorded from a real dump (go test -run TestDumpLoopback -record on Linux, x86-64): a
// loopback connection of 100000 bytes, every byte acknowledged.
func TestParseRecorded(t *testing.T) {
	for _, c := range []struct{ file, local string }{{"diag_v4.hex", "127.0.0.1"}, {"diag_v6.hex", "::1"}} {
		b, err := os.ReadFile("testdata/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := parseDiag(raw)
		if err != nil || !ok {
			t.Fatalf("%s: ok %v, err %v", c.file, ok, err)
		}
		if got.Local.Addr().String() != c.local || got.Remote.Addr().String() != c.local || got.Remote.Port() == 0 {
			t.Errorf("%s: addresses %s → %s", c.file, got.Local, got.Remote)
		}
		if got.BytesAcked < 100000 || got.SegsOut == 0 || got.ID == 0 || got.Inode == 0 || got.RTT <= 0 {
			t.Errorf("%s: %+v; want 100000 bytes acknowledged, segments, cookie, inode, RTT", c.file, got)
		}
		// A shorter tcp_info (an older kernel) reads the fields it has; a cut header is an error.
		short := append([]byte(nil), raw...)
		if _, ok, err := parseDiag(short[:sizeofDiagMsg-1]); err == nil || ok {
			t.Errorf("%s: a cut header parsed", c.file)
		}
		// A socket in another state is not a connection.
		short[1] = 10 // TCP_LISTEN
		if _, ok, _ := parseDiag(short); ok {
			t.Errorf("%s: a listening socket parsed as a connection", c.file)
		}
	}
}
