package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ingestprobe/ingestprobe/internal/srtlive"
)

// The secrets of the SRT URLs here: none may appear in anything the command writes.
const (
	srtPassphrase = "venue-pass-0123"
	srtWrongPass  = "wrong-pass-9876"
	srtStreamName = "showSRT7f3a"
)

var srtStreamID = "#!::h=push.example.com,r=live/" + srtStreamName + ",m=publish"

// TestSRTNoSecretInOutput: check, url check and config validate on srt:// URLs, as checklist and
// JSON with debug logs, never write the stream id or the passphrase. The target is a loopback UDP
// port nothing listens on, so the handshake meets ICMP port unreachable at once.
func TestSRTNoSecretInOutput(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Go turns ICMP errors off on Windows UDP sockets: nothing listening is a timeout there")
	}
	addr := srtlive.ClosedUDPPort(t)
	raw := fmt.Sprintf("srt://%s?streamid=%s&passphrase=%s&latency=200", addr, srtStreamID, srtPassphrase)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("[[targets]]\nname = \"srt-feed\"\nurl = %q\n", raw)), 0o600); err != nil {
		t.Fatal(err)
	}
	runs := []struct {
		name string
		args []string
	}{
		{"check URL", []string{"check", raw, "--timeout", "2s"}},
		{"check config", []string{"check", "--config", cfg, "--timeout", "2s"}},
		{"url check", []string{"url", "check", raw}},
	}
	for _, run := range runs {
		for _, format := range [][]string{nil, {"--json"}} {
			args := run.args
			a := append(append(slices.Clone(args), format...), "--log-level", "debug")
			t.Run(run.name+strings.Join(format, ""), func(t *testing.T) {
				start := time.Now()
				r := runStdin(t, "", a...)
				if args[0] == "check" && (r.code != 1 || !strings.Contains(r.stdout, "srt.unreachable")) {
					t.Errorf("exit %d; want 1 with srt.unreachable:\n%s\n%s", r.code, r.stdout, r.stderr)
				}
				if el := time.Since(start); el > 2*time.Second {
					t.Errorf("took %s; ICMP port unreachable must end the check at once", el)
				}
				noSRTSecret(t, r.stdout, r.stderr)
				if !strings.Contains(r.stdout, "streamid=<redacted>&passphrase=<redacted>&latency=200") {
					t.Errorf("stdout shows no redacted srt:// URL:\n%s", r.stdout)
				}
			})
		}
	}
	r := runStdin(t, "", "config", "validate", cfg)
	noSRTSecret(t, r.stdout, r.stderr)
}

func passParam(pass string) string {
	if pass == "" {
		return ""
	}
	return "&passphrase=" + pass
}

func noSRTSecret(t *testing.T, outs ...string) {
	t.Helper()
	for _, s := range []string{srtPassphrase, srtWrongPass, srtStreamName, "live/", "#!::"} {
		for _, out := range outs {
			if strings.Contains(out, s) {
				t.Errorf("output contains the secret %q:\n%s", s, out)
			}
		}
	}
}

// TestIntegrationSRTCheck runs check against Haivision's srt-live-transmit on loopback, as a crew
// would: the right passphrase is GO with an SRT round trip, a wrong or missing one is NO-GO with
// srt.rejected saying so in words. Each case gets its own listener: srt-live-transmit closes its
// listening socket while a caller is connected and opens it again after, so a check right after
// an accepted one would meet ICMP port unreachable.
func TestIntegrationSRTCheck(t *testing.T) {
	srtlive.Require(t)
	url := func(pass string) string {
		return "srt://ADDR?streamid=" + srtStreamID + passParam(pass)
	}
	for _, tt := range []struct {
		name, url string
		code      int
		verdict   string
		finding   string // "" = none
		message   string
	}{
		{"right passphrase", url(srtPassphrase), 0, "go", "", ""},
		{"wrong passphrase", url(srtWrongPass), 1, "no-go", "srt.rejected", "rejected the connection: wrong passphrase"},
		{"no passphrase", url(""), 1, "no-go", "srt.rejected", "rejected the connection: a passphrase is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := srtlive.Start(t, srtlive.Config{Passphrase: srtPassphrase})
			r := runStdin(t, "", "check", "--json", "--timeout", "2s", "--log-level", "debug", strings.Replace(tt.url, "ADDR", l.Addr.String(), 1))
			noSRTSecret(t, r.stdout, r.stderr)
			var doc checkDoc
			if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Targets) != 1 {
				t.Fatalf("decode: %v\n%s\n%s", err, r.stdout, r.stderr)
			}
			tg := doc.Targets[0]
			var srtResult map[string]any
			for _, res := range tg.Results {
				if res["probe"] == "srt" {
					srtResult = res
				}
			}
			if r.code != tt.code || tg.Verdict != tt.verdict || srtResult == nil {
				t.Fatalf("exit %d verdict %s srt %v; want %d %s and an srt result\n%s", r.code, tg.Verdict, srtResult, tt.code, tt.verdict, r.stdout)
			}
			if tt.finding == "" {
				if len(tg.Findings) != 0 || srtResult["ok"] != true || srtResult["rtt_seconds"].(float64) <= 0 {
					t.Errorf("got findings %v, srt %v; want none, ok, an RTT", tg.Findings, srtResult)
				}
				return
			}
			var found bool
			for _, f := range tg.Findings {
				if f.Code == tt.finding && strings.Contains(f.Message, tt.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("findings %+v; want %s saying %q", tg.Findings, tt.finding, tt.message)
			}
		})
	}
}
