package diagnose

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
	"github.com/ingestprobe/ingestprobe/provider"
	"github.com/ingestprobe/ingestprobe/record"
)

// TestProviderRuleFindings runs URLs through the URL doctor with their provider's ingest rules, as
// the pipeline does, and checks the findings a technician reads: the code, its severity, and that
// message and remedy say what to change.
func TestProviderRuleFindings(t *testing.T) {
	const key = "q2w3-e4r5-t6y7-secret"
	type want struct {
		code     string
		sev      record.Severity
		contains []string // in the message or the remedy
	}
	tests := []struct {
		name, provider, url string
		want                []want
	}{
		{"youtube as given", "", "rtmp://a.rtmp.youtube.com/live2/" + key, nil},
		{"youtube rtmps as given", "", "rtmps://a.rtmps.youtube.com:443/live2/" + key, nil},
		{"facebook rtmp://", "", "rtmp://live-api-s.facebook.com:80/rtmp/" + key,
			[]want{{"url.scheme_required", record.Error, []string{"Facebook Live does not take rtmp://", "RTMPS", "Facebook Live takes only rtmps://live-api-s.facebook.com:443/rtmp/"}}}},
		{"facebook wrong app", "facebook", "rtmps://live-api-s.facebook.com:443/live/" + key,
			[]want{{"url.wrong_app", record.Error, []string{`the application is "live"`, `"rtmp"`, "rtmps://live-api-s.facebook.com:443/rtmp/<stream key>"}}}},
		{"ivs rtmp://", "", "rtmp://a1b2c3d4e5f6.global-contribute.live-video.net/app/sk_" + key,
			[]want{{"url.scheme_required", record.Error, []string{"Amazon IVS does not take rtmp://", "rtmps://<channel ingest endpoint>:443/app/", "insecureIngest", `provider = "generic"`}}}},
		{"youtube rtmp:// to the rtmps host", "", "rtmp://a.rtmps.youtube.com/live2/" + key,
			[]want{{"url.wrong_host", record.Error, []string{"a.rtmps.youtube.com is YouTube Live's rtmps:// ingest", "rtmp://a.rtmp.youtube.com/live2/<stream key>"}}}},
		{"youtube wrong port", "", "rtmps://a.rtmps.youtube.com:1935/live2/" + key,
			[]want{{"url.wrong_port", record.Error, []string{"listens on port 443", "says port 1935", "leave the port out"}}}},
		{"twitch wrong port for rtmp", "", "rtmp://sfo.contribute.live-video.net:443/app/live_" + key,
			[]want{{"url.wrong_port", record.Error, []string{"Twitch's rtmp:// ingest listens on port 1935"}}}},
		{"youtube named on a relay", "youtube", "rtmp://relay.example.net/live2/" + key,
			[]want{{"url.unknown_host", record.Warning, []string{"relay.example.net is not a known YouTube Live ingest host", "extra_push_suffixes in [providers.youtube]", `provider = "generic"`}}}},
		{"youtube on an IP address", "youtube", "rtmp://192.0.2.7/live2/" + key,
			[]want{{"url.unknown_host", record.Warning, []string{"192.0.2.7 is an IP address", "use its host name"}}}},
		{"youtube key without application", "", "rtmp://a.rtmp.youtube.com/" + key,
			[]want{{"url.wrong_app", record.Error, []string{"one part where YouTube Live needs two", "/live2/<stream key>"}}}},
		{"youtube without a path", "", "rtmp://a.rtmp.youtube.com",
			[]want{{"url.wrong_app", record.Error, []string{`the URL has no application: YouTube Live's is "live2"`}},
				{"url.missing_param", record.Error, []string{"no stream key", "rtmp://a.rtmp.youtube.com/live2/<stream key>"}}}},
		{"a front keeps its host in the remedy", "youtube", "rtmp://relay.example.net/live/" + key,
			[]want{{"url.unknown_host", record.Warning, nil}, {"url.wrong_app", record.Error, []string{"Use rtmp://relay.example.net/live2/<stream key>"}}}},
		{"twitch without key", "", "rtmp://ingest.global-contribute.live-video.net/app",
			[]want{{"url.missing_param", record.Error, []string{"no stream key", "rtmp://ingest.global-contribute.live-video.net/app/<stream key>", "Twitch Creator Dashboard"}}}},
		{"generic has no rules", "generic", "rtmp://a.rtmp.youtube.com/whatever/" + key, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ingesturl.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			prof, ok := provider.Resolve(tt.provider, u, provider.Builtin())
			if !ok {
				t.Fatalf("provider %q unknown", tt.provider)
			}
			l := ingesturl.LintURL(u, ingesturl.LintOptions{Ingest: prof.IngestRules()})
			fs := Findings(Input{URL: u, Provider: prof, Results: record.Results{URL: &l}})
			var got []string
			for _, f := range fs {
				got = append(got, f.Code)
			}
			var codes []string
			for _, w := range tt.want {
				codes = append(codes, w.code)
			}
			if !slices.Equal(got, codes) {
				t.Fatalf("findings: got %v; want %v", got, codes)
			}
			for i, w := range tt.want {
				f := fs[i]
				if f.Severity != w.sev {
					t.Errorf("%s: severity %s; want %s", f.Code, f.Severity, w.sev)
				}
				for _, c := range w.contains {
					if !strings.Contains(f.Message, c) && !strings.Contains(f.Remedy, c) {
						t.Errorf("%s: want %q in\nmessage: %s\nremedy: %s", f.Code, c, f.Message, f.Remedy)
					}
				}
				if f.Evidence["provider"] != prof.Name || f.Evidence["host"] != u.Host {
					t.Errorf("%s: evidence %v; want provider %s and host %s", f.Code, f.Evidence, prof.Name, u.Host)
				}
			}
			b, _ := json.Marshal(fs)
			if strings.Contains(string(b), key) {
				t.Errorf("findings hold the stream key: %s", b)
			}
		})
	}
}

// The findings follow the profile the target resolved to: a configured front makes a lab name the
// platform's, and nothing is said for a profile without rules.
func TestProviderRuleFindingsFront(t *testing.T) {
	prof := provider.Builtin()[provider.YouTube]
	prof.ExtraPushSuffixes = []string{".lab.test"}
	u, _ := ingesturl.Parse("rtmp://open.lab.test/live2/k")
	l := ingesturl.LintURL(u, ingesturl.LintOptions{Ingest: prof.IngestRules()})
	if fs := Findings(Input{URL: u, Provider: prof, Results: record.Results{URL: &l}}); len(fs) != 0 {
		t.Errorf("findings: got %+v; want none", fs)
	}
}
