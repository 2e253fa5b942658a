//go:build linux

package lab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIntegrationLab proves the lab does what docs/lab.md says, from the venue's side and with no
// ingestprobe code involved: each firewall action looks to a connecting encoder like the network
// condition it stands for, and Close leaves nothing behind.
func TestIntegrationLab(t *testing.T) {
	l := Start(t, Options{})
	ctx := t.Context()
	to := func(port int) netip.AddrPort { return netip.AddrPortFrom(IngestAddr, uint16(port)) }

	tests := []struct {
		name  string
		rules []Rule
		port  int
		want  error // nil = connects; errTimeout = no answer before the deadline
	}{
		{"open", nil, 1935, nil},
		{"drop is silence", []Rule{DropPort(1935)}, 1935, errTimeout},
		{"drop leaves other ports open", []Rule{DropPort(1935)}, 443, nil},
		{"reset is a refusal", []Rule{ResetPort(1935)}, 1935, syscall.ECONNREFUSED},
		{"admin-prohibited is unreachable", []Rule{ProhibitPort(1935)}, 1935, syscall.EHOSTUNREACH},
		{"drop all", []Rule{DropIngest()}, 80, errTimeout},
		{"reset all", []Rule{ResetIngest()}, 443, syscall.ECONNREFUSED},
		{"prohibit all", []Rule{ProhibitIngest()}, 443, syscall.EHOSTUNREACH},
		{"dns drop leaves the ingest open", []Rule{DropDNS()}, 1935, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetFirewall(ctx, tt.rules...); err != nil {
				t.Fatal(err)
			}
			// The dial timeout is short: only the drop cases wait for it.
			dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			err := l.DialFromVenue(dctx, to(tt.port))
			if !sameError(err, tt.want) {
				t.Errorf("dial port %d with %v: got %v; want %v", tt.port, tt.rules, err, tt.want)
			}
		})
	}

	// UDP rules (SRT), seen from the venue by a datagram to a port nothing listens on: open, the
	// server's kernel answers port unreachable; a drop is silence; a reset is port unreachable
	// from the router; prohibit is admin-prohibited.
	for _, tt := range []struct {
		name  string
		rules []Rule
		want  error
	}{
		{"udp open: the server says port unreachable", nil, syscall.ECONNREFUSED},
		{"udp drop is silence", []Rule{DropUDPPort(9000)}, errTimeout},
		{"udp reset is port unreachable", []Rule{ResetUDPPort(9000)}, syscall.ECONNREFUSED},
		{"udp prohibit is unreachable", []Rule{ProhibitUDPPort(9000)}, syscall.EHOSTUNREACH},
		{"a udp rule leaves tcp alone", []Rule{DropPort(9000)}, syscall.ECONNREFUSED},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetFirewall(ctx, tt.rules...); err != nil {
				t.Fatal(err)
			}
			if err := udpFromVenue(l, to(9000)); !sameError(err, tt.want) {
				t.Errorf("datagram to udp/9000 with %v: got %v; want %v", tt.rules, err, tt.want)
			}
		})
	}

	t.Run("dns", func(t *testing.T) {
		if err := l.SetFirewall(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.queryFromVenue(ctx, NamePush); err != nil {
			t.Errorf("query %s: got %v; want an answer", NamePush, err)
		}
		if err := l.queryFromVenue(ctx, NameMissing); err == nil {
			t.Errorf("query %s: got an answer; want NXDOMAIN", NameMissing)
		}
		if err := l.SetFirewall(ctx, DropDNS()); err != nil {
			t.Fatal(err)
		}
		if err := l.queryFromVenue(ctx, NameOpen); !sameError(err, errTimeout) {
			t.Errorf("query with dns dropped: got %v; want a timeout", err)
		}
		if err := l.SetFirewall(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.StopDNS(); err != nil {
			t.Fatal(err)
		}
		if err := l.queryFromVenue(ctx, NameOpen); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("query with dnsmasq stopped: got %v; want ECONNREFUSED (ICMP port unreachable)", err)
		}
		if err := l.StartDNS(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("resolv.conf", func(t *testing.T) {
		out, err := l.VenueCommand(ctx, "cat", "/etc/resolv.conf").CombinedOutput()
		if err != nil {
			t.Fatalf("cat /etc/resolv.conf in the venue: %v: %s", err, out)
		}
		if want := "nameserver " + ResolverAddr.String(); !strings.Contains(string(out), want) {
			t.Errorf("venue resolv.conf: got %q; want a line %q", out, want)
		}
	})
}

// udpFromVenue sends one datagram to ap from the venue on a connected UDP socket and reads for
// 300 ms: the read returns the ICMP error the datagram met, or times out.
func udpFromVenue(l *Lab, ap netip.AddrPort) error {
	return l.Do(l.Venue, func() error {
		c, err := net.Dial("udp", ap.String())
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err = c.Read(make([]byte, 64))
		return err
	})
}

// TestIntegrationLabClose proves Close removes namespaces, processes and files, and that Sweep
// removes a lab whose builder died without closing it.
func TestIntegrationLabClose(t *testing.T) {
	SkipIfCannotRun(t)
	ctx := t.Context()
	l, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pids := []int{l.dnsmasq.cmd.Process.Pid, l.nginx.cmd.Process.Pid}
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	assertGone(t, l.ID, pids)

	// A lab whose owner is dead: pretend by writing a lab.json naming a PID that is not running.
	l2, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pids = []int{l2.dnsmasq.cmd.Process.Pid, l2.nginx.cmd.Process.Pid}
	t.Cleanup(func() { _ = l2.Close() })
	if err := os.WriteFile(filepath.Join(l2.Dir, "lab.json"), []byte(`{"id":"`+l2.ID+`","owner_pid":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if removed, _ := Sweep(time.Now().Add(-time.Hour), false); slices.Contains(removed, l2.ID) {
		t.Errorf("sweep of labs older than an hour removed %s, made just now", l2.ID)
	}
	removed, err := Sweep(time.Now().Add(time.Second), false)
	if err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if !slices.Contains(removed, l2.ID) {
		t.Fatalf("sweep: removed %v; want %s among them", removed, l2.ID)
	}
	assertGone(t, l2.ID, pids)
}

// errTimeout stands for any way the standard library reports a deadline.
var errTimeout = errors.New("timeout")

func sameError(got, want error) bool {
	var ne net.Error
	switch {
	case want == nil:
		return got == nil
	case want == errTimeout:
		return errors.Is(got, context.DeadlineExceeded) || errors.Is(got, os.ErrDeadlineExceeded) || errors.As(got, &ne) && ne.Timeout()
	}
	return errors.Is(got, want)
}

func assertGone(t *testing.T, id string, pids []int) {
	t.Helper()
	for _, role := range []string{"venue", "router", "server"} {
		if _, err := os.Stat(filepath.Join(netnsDir, Prefix+id+"-"+role)); err == nil {
			t.Errorf("namespace %s%s-%s still exists", Prefix, id, role)
		}
	}
	for _, p := range []string{filepath.Join(etcNetnsDir, Prefix+id+"-venue"), filepath.Join(stateRoot, id)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s still exists", p)
		}
	}
	for _, pid := range pids {
		// A killed child is reaped by its Wait goroutine a moment later: poll, bounded.
		var err error
		for i := 0; i < 100; i++ {
			if err = syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d: got %v from kill -0; want ESRCH (gone)", pid, err)
		}
	}
}
