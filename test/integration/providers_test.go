//go:build linux

package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/internal/lab"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestIntegrationProviders runs the binary with the platform profiles pointed at the lab: the
// config lists .lab.test as the team's own name in front of YouTube's and Facebook's ingests
// (extra_push_suffixes), so open.lab.test is "their" host and nginx on 10.231.2.10:1935 "their"
// ingest. The rules run through the real pipeline, the RTMP probe connects to real nginx-rtmp with
// the Enhanced RTMP offer, and nothing is sent to a platform.
func TestIntegrationProviders(t *testing.T) {
	l := lab.Start(t, lab.Options{RTMPServer: "application live { live on; }\n\t\tapplication live2 { live on; }\n\t\tapplication rtmp { live on; }"})
	if !l.RTMP {
		t.Skip("integration: needs nginx's RTMP module (apt-get install libnginx-mod-rtmp)")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	conf := "[providers.youtube]\nextra_push_suffixes = [\".lab.test\"]\n[providers.facebook]\nextra_push_suffixes = [\".lab.test\"]\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.toml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		config   string
		provider string
		url      string
		exit     int
		verdict  record.Verdict
		codes    []string // errors and warnings
		lines    []string // in the checklist
	}{
		{
			name: "youtube through the team's own name: GO, and nginx announces no codecs", config: cfg, provider: "youtube",
			url: "rtmp://" + lab.NameOpen + "/live2/" + streamKey, exit: 0, verdict: record.Go,
			lines: []string{"(provider youtube)", "host, port and application as the youtube ingest takes them",
				"rtmp connect to 10.231.2.10 port 1935: the application accepted the connection; Enhanced RTMP: none announced"},
		},
		{
			// The network and the ingest are fine — the probe connects to the live app — but
			// YouTube would refuse the application: the URL doctor says so before the show.
			name: "youtube with the wrong application", config: cfg, provider: "youtube",
			url: "rtmp://" + lab.NameOpen + "/live/" + streamKey, exit: 1, verdict: record.NoGo, codes: []string{"url.wrong_app"},
			lines: []string{`the application is "live"; YouTube Live takes only "live2"`, "rtmp connect to 10.231.2.10 port 1935: the application accepted the connection"},
		},
		{
			name: "facebook over plain RTMP", config: cfg, provider: "facebook",
			url: "rtmp://" + lab.NameOpen + "/rtmp/" + streamKey, exit: 1, verdict: record.NoGo, codes: []string{"url.scheme_required"},
			lines: []string{"Facebook Live takes only rtmps://live-api-s.facebook.com:443/rtmp/<stream key>"},
		},
		{
			name: "youtube without the team's name declared: a warning", config: empty, provider: "youtube",
			url: "rtmp://" + lab.NameOpen + "/live2/" + streamKey, exit: 0, verdict: record.Warn, codes: []string{"url.unknown_host"},
			lines: []string{"open.lab.test is not a known YouTube Live ingest host", "GO, with warnings"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetFirewall(t.Context()); err != nil {
				t.Fatal(err)
			}
			args := []string{"check", "--config", tt.config, "--provider", tt.provider, "--rtmp", "connect", "--timeout", probeTimeout.String()}
			j := runCheck(t, l, bin, append(slices.Clone(args), "--json", tt.url)...)
			if j.exit != tt.exit {
				t.Errorf("exit code: got %d; want %d\nstderr: %s", j.exit, tt.exit, j.stderr)
			}
			rec := j.record(t)
			if rec.Verdict != tt.verdict || rec.Provider != tt.provider {
				t.Errorf("verdict %s, provider %q; want %s, %q", rec.Verdict, rec.Provider, tt.verdict, tt.provider)
			}
			var codes []string
			for _, f := range rec.Findings {
				if f.Severity != record.Info {
					codes = append(codes, f.Code)
				}
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("findings: got %v; want %v\n%s", codes, tt.codes, j.stdout)
			}
			if x := rec.Results.RTMP; x == nil || !x.OK || !x.Connected() || len(x.Codecs) != 0 || x.EnhancedRefused {
				t.Errorf("rtmp result: got %+v; want connected to nginx with the offer, nothing announced, nothing refused", x)
			}
			h := runCheck(t, l, bin, append(args, tt.url)...)
			for _, line := range tt.lines {
				if !strings.Contains(h.stdout, line) {
					t.Errorf("checklist: want %q in\n%s", line, h.stdout)
				}
			}
			t.Logf("checklist:\n%s", h.stdout)
		})
	}
}
