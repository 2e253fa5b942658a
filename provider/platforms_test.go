package provider

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

// TestPlatformRules pins every platform's ingest rule to a URL it takes and to URLs it does not,
// offline: nothing here contacts a platform. want lists the ingest issue kinds, in order.
func TestPlatformRules(t *testing.T) {
	const key = "xq7m-2k9d-secret"
	k := ingesturl.IngestKeyMissing
	tests := []struct {
		provider, url string
		want          []ingesturl.IssueKind
	}{
		// YouTube: live2; RTMP on 1935 at *.rtmp.youtube.com, RTMPS on 443 at *.rtmps.youtube.com.
		{YouTube, "rtmp://a.rtmp.youtube.com/live2/" + key, nil},
		{YouTube, "rtmp://b.rtmp.youtube.com/live2?backup=1/" + key, nil},
		{YouTube, "rtmps://a.rtmps.youtube.com:443/live2/" + key, nil},
		{YouTube, "rtmps://b.rtmps.youtube.com/live2/" + key, nil},
		{YouTube, "rtmp://a.rtmp.youtube.com/live/" + key, []ingesturl.IssueKind{ingesturl.IngestApp}},
		{YouTube, "rtmp://a.rtmp.youtube.com/live2", []ingesturl.IssueKind{k}},
		{YouTube, "rtmp://a.rtmps.youtube.com/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestHostScheme}},
		{YouTube, "rtmps://a.rtmp.youtube.com/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestHostScheme}},
		{YouTube, "rtmps://a.rtmps.youtube.com:1935/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{YouTube, "rtmp://a.rtmp.youtube.com:443/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{YouTube, "rtmp://x.youtube.com/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestHost}},
		// Facebook: RTMPS only, on 443, application rtmp.
		{Facebook, "rtmps://live-api-s.facebook.com:443/rtmp/" + key, nil},
		{Facebook, "rtmps://rtmp-api.facebook.com:443/rtmp/FB-" + key + "?s_bl=1&s_sw=0", nil},
		{Facebook, "rtmps://live-api-s.facebook.com/rtmp/" + key, nil}, // 443 is rtmps's own port
		{Facebook, "rtmp://live-api-s.facebook.com:80/rtmp/" + key, []ingesturl.IssueKind{ingesturl.IngestScheme}},
		{Facebook, "rtmp://live-api-s.facebook.com/live/" + key, []ingesturl.IssueKind{ingesturl.IngestScheme, ingesturl.IngestApp}},
		{Facebook, "rtmps://live-api-s.facebook.com:1935/rtmp/" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{Facebook, "rtmps://live-api-s.facebook.com:443/live2/" + key, []ingesturl.IssueKind{ingesturl.IngestApp}},
		{Facebook, "rtmps://www.facebook.com:443/rtmp/" + key, []ingesturl.IssueKind{ingesturl.IngestHost}},
		// Twitch: application app, RTMP on 1935 and RTMPS on 443 at its ingest servers.
		{Twitch, "rtmp://ingest.global-contribute.live-video.net/app/live_" + key, nil},
		{Twitch, "rtmps://ingest.global-contribute.live-video.net/app/live_" + key, nil},
		{Twitch, "rtmp://sfo.contribute.live-video.net/app/live_" + key + "?bandwidthtest=true", nil},
		{Twitch, "rtmp://live-fra.twitch.tv/app/live_" + key, nil},
		{Twitch, "rtmp://sfo.contribute.live-video.net/live/live_" + key, []ingesturl.IssueKind{ingesturl.IngestApp}},
		{Twitch, "rtmps://sfo.contribute.live-video.net:1935/app/live_" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{Twitch, "rtmp://sfo.contribute.live-video.net:443/app/live_" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{Twitch, "rtmp://ingest.example.com/app/live_" + key, []ingesturl.IssueKind{ingesturl.IngestHost}},
		{Twitch, "rtmp://sfo.contribute.live-video.net/app/", []ingesturl.IssueKind{k}},
		// Amazon IVS: RTMPS on 443 (or SRT on 9000), application app; plain RTMP refused by default.
		{AWSIVS, "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:443/app/sk_us-west-2_" + key, nil},
		{AWSIVS, "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net/app/sk_us-west-2_" + key, nil},
		{AWSIVS, "srt://a1b2c3d4e5f6.srt.live-video.net:9000?streamid=" + key, nil},
		{AWSIVS, "rtmp://a1b2c3d4e5f6.global-contribute.live-video.net/app/sk_" + key, []ingesturl.IssueKind{ingesturl.IngestScheme}},
		{AWSIVS, "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:1935/app/sk_" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{AWSIVS, "rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:443/live/sk_" + key, []ingesturl.IssueKind{ingesturl.IngestApp}},
		{AWSIVS, "srt://a1b2c3d4e5f6.srt.live-video.net:10080?streamid=" + key, []ingesturl.IssueKind{ingesturl.IngestPort}},
		{AWSIVS, "srt://a1b2c3d4e5f6.global-contribute.live-video.net:9000?streamid=" + key, []ingesturl.IssueKind{ingesturl.IngestHostScheme}},
		// Tencent and generic have no ingest rules.
		{Tencent, "rtmp://push.example.com/whatever/" + key, nil},
		{Generic, "rtmp://push.example.com/whatever", nil},
	}
	profiles := Builtin()
	for _, tt := range tests {
		t.Run(tt.provider+" "+strings.ReplaceAll(tt.url, key, "KEY"), func(t *testing.T) {
			u, err := ingesturl.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			l := ingesturl.LintURL(u, ingesturl.LintOptions{Ingest: profiles[tt.provider].IngestRules()})
			var got []ingesturl.IssueKind
			for _, i := range l.Issues {
				if i.Kind.IsIngest() {
					got = append(got, i.Kind)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("issues: got %v; want %v (%+v)", got, tt.want, l.Issues)
			}
		})
	}
}

// TestResolveAutoPlatforms: "auto" knows a platform by its host.
func TestResolveAutoPlatforms(t *testing.T) {
	tests := []struct{ url, want string }{
		{"rtmp://a.rtmp.youtube.com/live2/k", YouTube},
		{"rtmps://b.rtmps.youtube.com:443/live2/k", YouTube},
		{"rtmps://live-api-s.facebook.com:443/rtmp/k", Facebook},
		{"rtmp://live-api-s.facebook.com:80/rtmp/k", Facebook}, // so the wrong scheme is caught
		{"rtmps://rtmp-api.facebook.com:443/rtmp/k", Facebook},
		{"rtmp://live-fra.twitch.tv/app/k", Twitch},
		{"rtmp://sfo.contribute.live-video.net/app/k", Twitch},
		// Twitch's default ingest ends in Amazon IVS's suffix: the longer match wins.
		{"rtmp://ingest.global-contribute.live-video.net/app/k", Twitch},
		{"rtmps://a1b2c3d4e5f6.global-contribute.live-video.net:443/app/k", AWSIVS},
		{"srt://a1b2c3d4e5f6.srt.live-video.net:9000", AWSIVS},
		{"rtmp://push.example.com.tlivepush.com/live/k", Tencent},
		{"rtmp://a.rtmp.youtube.com/live2/k?txSecret=x&txTime=5C271099", Tencent}, // signed first
		{"rtmp://push.example.com/live/k", Generic},
		{"rtmp://youtube.com.example.net/live2/k", Generic}, // at a label boundary only
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := ingesturl.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := Resolve(Auto, u, Builtin()); !ok || got.Name != tt.want {
				t.Errorf("Resolve(auto): got %q, %v; want %q", got.Name, ok, tt.want)
			}
		})
	}
}

// TestIngestRulesFronts: a team's own name in front of a platform (extra_push_suffixes) is taken
// for the platform's host, and the rules carry the profile's name.
func TestIngestRulesFronts(t *testing.T) {
	p := Builtin()[YouTube]
	p.ExtraPushSuffixes = []string{".lab.test"}
	r := p.IngestRules()
	if r.Provider != YouTube || !slices.Equal(r.Fronts, []string{".lab.test"}) {
		t.Fatalf("rules: got provider %q fronts %v; want youtube, [.lab.test]", r.Provider, r.Fronts)
	}
	u, _ := ingesturl.Parse("rtmp://open.lab.test/live2/k")
	if l := ingesturl.LintURL(u, ingesturl.LintOptions{Ingest: r}); len(l.Issues) != 0 {
		t.Errorf("issues: got %+v; want none for a declared front", l.Issues)
	}
	if Builtin()[YouTube].Ingest.Fronts != nil {
		t.Errorf("the built-in rules must not keep a configured front")
	}
	if Builtin()[Generic].IngestRules() != nil {
		t.Errorf("generic: got ingest rules; want none")
	}
}

// TestProvidersDocumented keeps docs/providers.md in step with the profiles: each platform's
// section names its hosts, ports and application.
func TestProvidersDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/providers.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, name := range Names()[1:] {
		p := Builtin()[name]
		if !strings.Contains(doc, "`"+name+"`") {
			t.Errorf("%s: not named in docs/providers.md", name)
		}
		if p.Ingest == nil {
			continue
		}
		want := []string{"`" + p.Ingest.App + "`"}
		for _, in := range p.Ingest.Ingests {
			want = append(want, in.Scheme+"://", strconv.Itoa(in.Port))
			for _, h := range in.Hosts {
				want = append(want, strings.TrimPrefix(h, "."))
			}
		}
		for _, w := range want {
			if !strings.Contains(doc, w) {
				t.Errorf("%s: docs/providers.md does not mention %q", name, w)
			}
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{Auto, AWSIVS, Facebook, Generic, Tencent, Twitch, YouTube}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names: got %v; want %v", got, want)
	}
}
