//go:build linux

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestIntegrationPath runs `check` in the routed lab (venue → router → router2 → server) and checks
// that a blocked or rejected ingest port is traced, and the hop that drops or rejects it named.
func TestIntegrationPath(t *testing.T) {
	l := lab.Start(t, lab.Options{Routed: true, IPv6: true})
	bin := buildBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	url := "rtmp://" + lab.NameOpen + "/live/" + streamKey
	check := func(t *testing.T, extra ...string) run {
		args := append([]string{"check", "--config", cfg, "--json", "--timeout", probeTimeout.String()}, extra...)
		return runCheck(t, l, bin, append(args, url)...)
	}
	firewall := func(t *testing.T, ns string, rules ...lab.Rule) {
		t.Helper()
		if err := l.SetFirewallOn(ctx, ns, rules...); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := l.SetFirewallOn(context.Background(), ns); err != nil {
				t.Errorf("clear firewall: %v", err)
			}
		})
	}

	t.Run("nothing blocked: go, no trace", func(t *testing.T) {
		r := check(t)
		rec := r.expect(t, 0, record.Go, nil)
		if n := len(rec.Results.Path); n != 0 {
			t.Errorf("traces: got %d; want none when the ingest port connects (trace auto)", n)
		}
	})
	t.Run("--trace always on an open port", func(t *testing.T) {
		r := check(t, "--trace", "always")
		rec := r.expect(t, 0, record.Go, nil)
		if len(rec.Results.Path) != 1 || !rec.Results.Path[0].Reached || rec.Results.Path[0].ReachedTTL != 3 {
			t.Errorf("traces: got %+v; want one, reaching the server at hop 3", rec.Results.Path)
		}
	})
	t.Run("router 2 drops 1935", func(t *testing.T) {
		firewall(t, l.Router2, lab.DropPort(1935))
		r := check(t)
		r.expect(t, 1, record.NoGo, []string{"tcp.blocked"})
		f := r.finding(t, "tcp.blocked")
		wantEvidence(t, f, "last_hop", map[string]any{"ttl": 2, "address": lab.Router2Core.String()})
		wantEvidence(t, f, "alt_reached_ttl", 3)
		for _, s := range []string{"port 1935 is silently dropped after hop 2 (" + lab.Router2Core.String() + ")", "port 443 reaches the server at hop 3"} {
			if !strings.Contains(f.Message, s) {
				t.Errorf("message %q: want %q", f.Message, s)
			}
		}
		if max := probeTimeout + 3*time.Second; r.wall > max {
			t.Errorf("wall time: got %s; want under %s (the timeout + 3 s)", r.wall, max)
		}
		t.Logf("measured: check with 1935 dropped at router 2, traced, returned in %.3f s wall (probe timeout %s)", r.wall.Seconds(), probeTimeout)
	})
	t.Run("router 1 rejects 1935 with admin-prohibited", func(t *testing.T) {
		firewall(t, l.Router, lab.ProhibitPort(1935))
		r := check(t)
		r.expect(t, 1, record.NoGo, []string{"tcp.rejected"})
		f := r.finding(t, "tcp.rejected")
		wantEvidence(t, f, "rejected_by", map[string]any{"ttl": 2, "hop": 1, "address": lab.RouterVenue.String(),
			"icmp_type": 3, "icmp_code": 13, "reason": "communication administratively prohibited", "kind": "firewall"})
		if want := "rejected by " + lab.RouterVenue.String() + " (hop 1) with ICMP communication administratively prohibited"; !strings.Contains(f.Message, want) {
			t.Errorf("message %q: want %q", f.Message, want)
		}
	})
	t.Run("router 2 drops 1935, human output", func(t *testing.T) {
		firewall(t, l.Router2, lab.DropPort(1935))
		r := runCheck(t, l, bin, "check", "--config", cfg, "--timeout", probeTimeout.String(), url)
		for _, want := range []string{"path 10.231.2.10 port 1935: 10.231.1.1 → 10.231.3.2 → * (dropped after hop 2",
			// Hop 1 of the second trace may be "*": router 1 limits the ICMP errors it sends to one
			// destination (6, then one a second), and the first trace spent them.
			"path 10.231.2.10 port 443: ", " → 10.231.3.2 → 10.231.2.10 (reaches the server at hop 3", "NO-GO"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("checklist: want %q in\n%s", want, r.stdout)
			}
		}
		t.Logf("checklist:\n%s", r.stdout)
	})
	t.Run("core link at MTU 1280, fragmentation-needed dropped: PMTU black hole", func(t *testing.T) {
		if !l.RTMP {
			t.Skip("integration: needs nginx's RTMP module (libnginx-mod-rtmp) for a handshake")
		}
		firewall(t, l.Router, lab.DropFragNeeded())
		firewall(t, l.Router2, lab.DropFragNeeded())
		if err := l.SetCoreMTU(ctx, 1280); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := l.SetCoreMTU(context.Background(), 1500); err != nil {
				t.Errorf("restore mtu: %v", err)
			}
		})
		r := check(t)
		rec := r.expect(t, 1, record.NoGo, []string{"net.mtu_blackhole"})
		f := r.finding(t, "net.mtu_blackhole")
		// The path carries 1280-byte packets: segments of up to 1240 bytes (less TCP options).
		best, _ := f.Evidence["largest_working_mss"].(float64)
		if best < 1200 || best > 1240 {
			t.Errorf("largest_working_mss: got %v; want 1200 to 1240", f.Evidence["largest_working_mss"])
		}
		if mtu, _ := f.Evidence["suggested_mtu"].(float64); mtu != best+40 || mtu > 1280 {
			t.Errorf("suggested_mtu: got %v; want largest_working_mss + 40, at most 1280", f.Evidence["suggested_mtu"])
		}
		if !strings.Contains(f.Remedy, "ICMP type 3 code 4") {
			t.Errorf("remedy %q: want it to name ICMP type 3 code 4", f.Remedy)
		}
		if rec.Results.RTMP == nil || rec.Results.RTMP.OK || len(rec.Results.RTMPSegments) < 2 {
			t.Errorf("rtmp: got %+v and retries %+v; want the stalled session and at least two retries", rec.Results.RTMP, rec.Results.RTMPSegments)
		}
		for _, s := range rec.Results.RTMPSegments {
			t.Logf("retry with max_segment %d: ok %v (%s %s)", s.MaxSegment, s.OK, s.Phase, s.Error)
		}
		t.Logf("measured: check on the black-holed path returned in %.3f s wall (probe timeout %s)", r.wall.Seconds(), probeTimeout)
	})
	t.Run("IPv6 dropped on a host with A and AAAA", func(t *testing.T) {
		dual := "rtmp://" + lab.NameDual + "/live/" + streamKey
		r := runCheck(t, l, bin, "check", "--config", cfg, "--json", "--timeout", probeTimeout.String(), dual)
		rec := r.expect(t, 0, record.Go, nil)
		if rec.Results.RTMPOther == nil || rec.Results.RTMPOther.Address != lab.IngestAddr6.String() || !rec.Results.RTMPOther.OK {
			t.Errorf("other family's handshake: got %+v; want it on %s, ok", rec.Results.RTMPOther, lab.IngestAddr6)
		}

		firewall(t, l.Router, lab.DropIngest6())
		r = runCheck(t, l, bin, "check", "--config", cfg, "--json", "--timeout", probeTimeout.String(), dual)
		r.expect(t, 0, record.Warn, []string{"net.ipv6_broken"})
		f := r.finding(t, "net.ipv6_broken")
		if want := "[" + lab.IngestAddr6.String() + "] port 1935 timed out"; !strings.Contains(f.Message, want) {
			t.Errorf("message %q: want %q", f.Message, want)
		}
		// The IPv6 ingest port is traced: router 1 passes nothing to it.
		wantEvidence(t, f, "last_hop", map[string]any{"ttl": 1, "address": lab.RouterVenue6.String()})
		wantEvidence(t, f, "addresses", map[string]any{lab.IngestAddr.String(): "connects, RTMP handshake completes",
			lab.IngestAddr6.String(): "timed out after 2.0 s"})

		// The checklist shows both families.
		r = runCheck(t, l, bin, "check", "--config", cfg, "--timeout", probeTimeout.String(), dual)
		for _, want := range []string{"tcp  10.231.2.10 port 1935 connected", "tcp  [fd31:2::10] port 1935 no answer", "net.ipv6_broken", "GO, with warnings"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("checklist: want %q in\n%s", want, r.stdout)
			}
		}
		t.Logf("checklist:\n%s", r.stdout)
	})
}
