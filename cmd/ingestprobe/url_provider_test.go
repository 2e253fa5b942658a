package main

import (
	"slices"
	"strings"
	"testing"
)

// TestURLCheckProviders runs `url check` on platform URLs as a technician types them: the platform
// is known by its host (or named with --provider), its ingest rules are checked offline, and the
// stream key never comes back.
func TestURLCheckProviders(t *testing.T) {
	const key = "abcd-efgh-ijkl-mnop-qrst"
	tests := []struct {
		name     string
		args     []string
		code     int
		provider string
		codes    []string
		lines    []string // in the checklist
	}{
		{"youtube as YouTube Studio gives it", []string{"rtmp://a.rtmp.youtube.com/live2/" + key}, 0, "youtube", nil,
			[]string{"(provider youtube)", "✔ url  rtmp:// URL well-formed, host, port and application as the youtube ingest takes them", "GO"}},
		{"facebook over plain rtmp", []string{"rtmp://live-api-s.facebook.com:80/rtmp/" + key}, 1, "facebook", []string{"url.scheme_required"},
			[]string{"Facebook Live takes only rtmps://live-api-s.facebook.com:443/rtmp/<stream key>", "NO-GO"}},
		{"facebook with the wrong application", []string{"rtmps://live-api-s.facebook.com:443/live/" + key}, 1, "facebook", []string{"url.wrong_app"},
			[]string{`the application is "live"; Facebook Live takes only "rtmp"`}},
		{"youtube key pasted as the application", []string{"rtmp://a.rtmp.youtube.com/" + key}, 1, "youtube", []string{"url.wrong_app"},
			[]string{"rtmp://a.rtmp.youtube.com/<redacted>", "one part where YouTube Live needs two"}},
		{"--provider twitch on a relay", []string{"--provider", "twitch", "rtmp://relay.example.net/app/" + key}, 0, "twitch", []string{"url.unknown_host"},
			[]string{"GO, with warnings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runStdin(t, "", append([]string{"url", "check"}, tt.args...)...)
			if r.code != tt.code {
				t.Errorf("exit: got %d; want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, l := range tt.lines {
				if !strings.Contains(r.stdout, l) {
					t.Errorf("checklist: want %q in\n%s", l, r.stdout)
				}
			}
			j := runStdin(t, "", append([]string{"url", "check", "--json"}, tt.args...)...)
			d := decode(t, j)
			if got := findingCodes(d); !slices.Equal(got, tt.codes) {
				t.Errorf("findings: got %v; want %v", got, tt.codes)
			}
			if !strings.Contains(j.stdout, `"provider":"`+tt.provider+`"`) && !strings.Contains(j.stdout, `"provider": "`+tt.provider+`"`) {
				t.Errorf("JSON: want provider %q in\n%s", tt.provider, j.stdout)
			}
			for _, out := range []string{r.stdout, r.stderr, j.stdout, j.stderr} {
				if strings.Contains(out, key) {
					t.Errorf("output holds the stream key:\n%s", out)
				}
			}
		})
	}
}

func TestProviderFlagNames(t *testing.T) {
	r := runStdin(t, "", "url", "check", "--provider", "akamai", "rtmp://a.rtmp.youtube.com/live2/k")
	want := `--provider: "akamai" is not defined (known: auto, aws-ivs, facebook, generic, tencent, twitch, youtube)`
	if r.code != exitUsage || !strings.Contains(r.stderr, want) {
		t.Errorf("got exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, want)
	}
}
