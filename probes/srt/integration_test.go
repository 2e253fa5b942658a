package srt

import (
	"bytes"
	"context"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/srtlive"
)

// The listener's passphrase, and a stream id, as a crew would configure them.
const (
	livePassphrase = "venue-pass-0123"
	liveStreamID   = "#!::r=live/show,m=publish"
)

func probeLive(t *testing.T, addr netip.AddrPort, cfg Config, timeout time.Duration) Result {
	t.Helper()
	cfg.Address = addr
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	r := New(cfg).Run(ctx)
	t.Logf("%+v", r)
	return r
}

// TestIntegrationSRTLiveTransmit runs the probe against Haivision's own listener,
// srt-live-transmit (libsrt 1.5), on loopback.
func TestIntegrationSRTLiveTransmit(t *testing.T) {
	srtlive.Require(t)
	const timeout = 2 * time.Second
	tests := []struct {
		name     string
		listener srtlive.Config
		cfg      Config
		check    func(t *testing.T, r Result)
	}{
		{
			name: "right passphrase", listener: srtlive.Config{Passphrase: livePassphrase},
			cfg: Config{StreamID: liveStreamID, Passphrase: livePassphrase},
			check: func(t *testing.T, r Result) {
				if !r.OK || r.Error != OK {
					t.Fatalf("got ok=%v error=%q reason=%q; want accepted", r.OK, r.Error, r.RejectReason)
				}
				if r.RTTSeconds <= 0 || r.RTTSeconds > 0.5 {
					t.Errorf("rtt: got %v s; want a loopback round trip", r.RTTSeconds)
				}
				if r.KMState != KMSecured || r.KeyLength != 16 {
					t.Errorf("key material: got state %q, %d bytes; want secured, 16", r.KMState, r.KeyLength)
				}
				if r.PeerVersion == "" || r.PeerVersion[:2] != "1." {
					t.Errorf("peer version: got %q; want the listener's 1.x", r.PeerVersion)
				}
				if r.LatencySeconds < 0.12 {
					t.Errorf("latency: got %v s; want at least the 120 ms announced", r.LatencySeconds)
				}
			},
		},
		{
			name: "AES-256 from pbkeylen", listener: srtlive.Config{Passphrase: livePassphrase, Options: map[string]string{"pbkeylen": "32"}},
			cfg: Config{Passphrase: livePassphrase},
			check: func(t *testing.T, r Result) {
				if !r.OK || r.KeyLength != 32 || r.ListenerKL != 32 {
					t.Errorf("got ok=%v key %d (listener advertised %d); want accepted with the advertised 32", r.OK, r.KeyLength, r.ListenerKL)
				}
			},
		},
		{
			name: "no passphrase, open listener", listener: srtlive.Config{},
			cfg: Config{StreamID: liveStreamID},
			check: func(t *testing.T, r Result) {
				if !r.OK {
					t.Errorf("got error %q; want accepted", r.Error)
				}
			},
		},
		{
			name: "wrong passphrase", listener: srtlive.Config{Passphrase: livePassphrase},
			cfg: Config{StreamID: liveStreamID, Passphrase: "not-the-venue-pass"},
			check: func(t *testing.T, r Result) {
				if r.Error != Rejected || r.RejectReason != RejectBadSecret || r.RejectCode != 10 || r.Phase != PhaseConclusion {
					t.Errorf("got %q %q code %d at %s; want rejected bad_secret 10 at conclusion", r.Error, r.RejectReason, r.RejectCode, r.Phase)
				}
			},
		},
		{
			name: "no passphrase to a protected listener", listener: srtlive.Config{Passphrase: livePassphrase},
			cfg: Config{StreamID: liveStreamID},
			check: func(t *testing.T, r Result) {
				if r.Error != Rejected || r.RejectReason != RejectUnsecure || r.RejectCode != 11 {
					t.Errorf("got %q %q code %d; want rejected unsecure 11", r.Error, r.RejectReason, r.RejectCode)
				}
			},
		},
		{
			name: "passphrase to an open listener", listener: srtlive.Config{},
			cfg: Config{Passphrase: livePassphrase},
			check: func(t *testing.T, r Result) {
				if r.Error != Rejected || r.RejectReason != RejectUnsecure {
					t.Errorf("got %q %q km %q; want rejected unsecure", r.Error, r.RejectReason, r.KMState)
				}
			},
		},
		{
			// Encryption not enforced: libsrt accepts the connection and says in KMRSP that it
			// could not unwrap the key; an encoder (enforcing, libsrt's default) gives up.
			name: "wrong passphrase, encryption not enforced", listener: srtlive.Config{Passphrase: livePassphrase, Options: map[string]string{"enforcedencryption": "false"}},
			cfg: Config{Passphrase: "not-the-venue-pass"},
			check: func(t *testing.T, r Result) {
				if r.Error != Rejected || r.RejectReason != RejectBadSecret || r.KMState != KMBad {
					t.Errorf("got %q %q km %q; want rejected bad_secret, km bad_secret", r.Error, r.RejectReason, r.KMState)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := srtlive.Start(t, tt.listener)
			start := time.Now()
			r := probeLive(t, l.Addr, tt.cfg, timeout)
			if el := time.Since(start); el > timeout/2 {
				t.Errorf("took %s; want an answer well within the %s timeout", el, timeout)
			}
			tt.check(t, r)
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		addr := srtlive.ClosedUDPPort(t)
		start := time.Now()
		r := probeLive(t, addr, Config{StreamID: liveStreamID}, timeout)
		if r.Error != Refused || r.Errno != "ECONNREFUSED" {
			t.Errorf("got %q %q; want refused ECONNREFUSED (ICMP port unreachable)", r.Error, r.Errno)
		}
		if el := time.Since(start); el > timeout/2 {
			t.Errorf("took %s; want the ICMP answer at once", el)
		}
	})
}

// TestIntegrationLibsrtCallerStreamID checks the stream id's wire form against libsrt itself:
// srt-live-transmit as the caller sends a stream id to the tests' listener, which must decode it
// with the word order the probe encodes with.
func TestIntegrationLibsrtCallerStreamID(t *testing.T) {
	srtlive.Require(t)
	f := startFake(t, &fakeListener{})
	const sid = "#!::h=push.example.com,r=live/show1,m=publish" // 46 bytes: not a whole number of words
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, srtlive.Path(), "-a:no", "file://con", "srt://"+f.addr.String()+"?mode=caller&streamid="+sid)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	waitFor(t, "srt-live-transmit's conclusion", func() bool { _, c, _, _, _ := f.stats(); return c > 0 })
	_, _, _, sids, _ := f.stats()
	if len(sids) == 0 || sids[0] != sid {
		t.Errorf("listener decoded stream ids %q; want %q\n%s", sids, sid, out.String())
	}
}
