//go:build linux

package integration

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/internal/srtlive"
	"github.com/ingestprobe/ingestprobe/record"
)

// The SRT listener's passphrase and the stream id: secrets, checked absent from every output
// (runCheck checks the RTMP ones).
const (
	srtPassphrase = "lab-venue-pass-0123"
	srtWrongPass  = "lab-wrong-pass-9876"
	srtStream     = "labsrt5e1f"
	srtPort       = 9000
)

// TestIntegrationSRT runs the binary in the venue against Haivision's srt-live-transmit listening
// on the ingest address in the server namespace, through the router's firewall: the scenarios of
// docs/lab.md's SRT table.
func TestIntegrationSRT(t *testing.T) {
	srtlive.Require(t)
	l := lab.Start(t, lab.Options{})
	bin := buildBinary(t)
	ctx := t.Context()
	srtURL := func(host, pass string) string {
		u := "srt://" + host + ":9000?streamid=#!::h=" + lab.NameOpen + ",r=live/" + srtStream + ",m=publish&latency=200"
		if pass != "" {
			u += "&passphrase=" + pass
		}
		return u
	}
	tests := []struct {
		name     string
		listener bool // srt-live-transmit runs on the ingest address, protected by srtPassphrase
		rules    []lab.Rule
		url      string
		exit     int
		verdict  record.Verdict
		codes    []string
		check    func(t *testing.T, r run)
	}{
		{
			name: "right passphrase", listener: true, url: srtURL(lab.NameOpen, srtPassphrase), exit: 0, verdict: record.Go,
			check: func(t *testing.T, r run) {
				s := r.record(t).Results.SRT
				if s == nil || !s.OK || s.RTTSeconds <= 0 || s.PeerVersion == "" {
					t.Errorf("srt result: got %+v; want accepted, with an RTT and the listener's version", s)
				}
				t.Logf("measured: SRT handshake through the lab's router, rtt %.3f ms, conclusion %.3f ms, listener SRT %s",
					s.RTTSeconds*1000, s.ConclusionSeconds*1000, s.PeerVersion)
			},
		},
		{
			name: "wrong passphrase", listener: true, url: srtURL(lab.NameOpen, srtWrongPass), exit: 1, verdict: record.NoGo, codes: []string{"srt.rejected"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "srt.rejected")
				if !strings.Contains(f.Message, "wrong passphrase") {
					t.Errorf("message %q: want it to say wrong passphrase", f.Message)
				}
				wantEvidence(t, f, "reject_reason", "bad_secret")
				wantEvidence(t, f, "reject_code", 10.0)
			},
		},
		{
			name: "no passphrase to a protected listener", listener: true, url: srtURL(lab.NameOpen, ""), exit: 1, verdict: record.NoGo, codes: []string{"srt.rejected"},
			check: func(t *testing.T, r run) {
				if f := r.finding(t, "srt.rejected"); !strings.Contains(f.Message, "a passphrase is required") {
					t.Errorf("message %q: want it to say a passphrase is required", f.Message)
				}
			},
		},
		{
			// The server's kernel answers ICMP port unreachable: at once, not after the timeout.
			name: "nothing listening", url: srtURL(lab.NameOpen, srtPassphrase), exit: 1, verdict: record.NoGo, codes: []string{"srt.unreachable"},
			check: func(t *testing.T, r run) {
				wantEvidence(t, r.finding(t, "srt.unreachable"), "errno", "ECONNREFUSED")
				if r.wall > probeTimeout {
					t.Errorf("wall time: got %s; want the ICMP answer well within the %s timeout", r.wall, probeTimeout)
				}
			},
		},
		{
			// The venue firewall drops UDP 9000 while TCP 443 and 80 pass: waited out, and said so.
			name: "UDP 9000 dropped", listener: true, rules: []lab.Rule{lab.DropUDPPort(srtPort)}, url: srtURL(lab.NameOpen, srtPassphrase),
			exit: 1, verdict: record.NoGo, codes: []string{"srt.timeout"},
			check: func(t *testing.T, r run) {
				f := r.finding(t, "srt.timeout")
				wantEvidence(t, f, "open_ports", []any{80.0, 443.0})
				wantEvidence(t, f, "phase", "induction")
				if !strings.Contains(f.Message, "while TCP 443 on the same server connects") || !strings.Contains(f.Remedy, "UDP 9000") {
					t.Errorf("finding %q → %q: want TCP connecting named, and UDP 9000 in the remedy", f.Message, f.Remedy)
				}
				d := time.Duration(r.record(t).DurationSeconds * float64(time.Second))
				if min := probeTimeout - 100*time.Millisecond; d < min {
					t.Errorf("record duration: got %s; want at least %s (the drop must be waited out)", d, min)
				}
				if max := probeTimeout + 3*time.Second; r.wall > max {
					t.Errorf("wall time: got %s; want under %s", r.wall, max)
				}
				t.Logf("measured: check with UDP 9000 dropped returned in %.3f s wall (probe timeout %s; record duration_seconds %.3f; %d handshake packets sent)",
					r.wall.Seconds(), probeTimeout, r.record(t).DurationSeconds, r.record(t).Results.SRT.Sends)
			},
		},
		{
			name: "everything dropped", listener: true, rules: []lab.Rule{lab.DropIngest()}, url: srtURL(lab.NameOpen, srtPassphrase),
			exit: 1, verdict: record.NoGo, codes: []string{"srt.timeout"},
			check: func(t *testing.T, r run) {
				if f := r.finding(t, "srt.timeout"); !strings.Contains(f.Message, "nothing else on the server answered") {
					t.Errorf("message %q: want it to say nothing else answered", f.Message)
				}
			},
		},
		{
			name: "UDP 9000 rejected with admin-prohibited", listener: true, rules: []lab.Rule{lab.ProhibitUDPPort(srtPort)}, url: srtURL(lab.NameOpen, srtPassphrase),
			exit: 1, verdict: record.NoGo, codes: []string{"srt.unreachable"},
			check: func(t *testing.T, r run) {
				wantEvidence(t, r.finding(t, "srt.unreachable"), "errno", "EHOSTUNREACH")
			},
		},
	}
	// An empty config, as in TestIntegrationCheck: a developer's own config must not change what
	// the lab measures.
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetFirewall(ctx, tt.rules...); err != nil {
				t.Fatal(err)
			}
			if tt.listener {
				// A listener per case: srt-live-transmit closes its socket while a caller is
				// connected and reopens it after, so an accepted case must not leave the next
				// one a closed port. It is ready when it answers an induction, asked from the
				// server namespace itself so the firewall rules do not matter.
				srtlive.Start(t, srtlive.Config{Addr: netip.AddrPortFrom(lab.IngestAddr, srtPort), Passphrase: srtPassphrase, Prefix: l.ServerPrefix(),
					Do: func(f func() error) error { return l.Do(l.Server, f) }})
			}
			r := runCheck(t, l, bin, "check", "--config", cfg, "--json", "--timeout", probeTimeout.String(), tt.url)
			for _, secret := range []string{srtPassphrase, srtWrongPass, srtStream} {
				if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
					t.Errorf("output holds the secret %q:\n%s\n%s", secret, r.stdout, r.stderr)
				}
			}
			rec := r.expect(t, tt.exit, tt.verdict, tt.codes)
			if !strings.Contains(rec.URL, "streamid=<redacted>") {
				t.Errorf("record url %q: want the stream id redacted", rec.URL)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}

	// The wrong passphrase as a venue technician reads it: the checklist, not the JSON.
	t.Run("wrong passphrase, human output", func(t *testing.T) {
		if err := l.SetFirewall(ctx); err != nil {
			t.Fatal(err)
		}
		srtlive.Start(t, srtlive.Config{Addr: netip.AddrPortFrom(lab.IngestAddr, srtPort), Passphrase: srtPassphrase, Prefix: l.ServerPrefix(),
			Do: func(f func() error) error { return l.Do(l.Server, f) }})
		r := runCheck(t, l, bin, "check", "--config", cfg, "--timeout", probeTimeout.String(), srtURL(lab.NameOpen, srtWrongPass))
		for _, want := range []string{"streamid=<redacted>&latency=200&passphrase=<redacted>", "srt.rejected", "wrong passphrase", "NO-GO"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("checklist: want %q in\n%s", want, r.stdout)
			}
		}
		t.Logf("checklist:\n%s", r.stdout)
	})
}
