package provider

import (
	"slices"
	"testing"

	"github.com/ingestprobe/ingestprobe/ingesturl"
)

func TestMatchesPushWithExtraSuffixes(t *testing.T) {
	p := Builtin()[Tencent]
	p.ExtraPushSuffixes = []string{".ingest.example.net"}
	tests := []struct {
		name string
		want bool
	}{
		{"push.example.com.tlivepush.com", true},          // the provider's own suffix
		{"push.example.com.livepush.myqcloud.com.", true}, // legacy, with the root dot
		{"lb1.ingest.example.net", true},                  // an extra suffix
		{"LB1.Ingest.Example.Net", true},                  // DNS names are case-insensitive
		{"ingest.example.net", true},                      // the suffix's own name
		{"lb1.example.net", false},                        // outside both
		{"play.example.com.tlivecdn.com", false},          // a playback domain
		{"eviltlivepush.com", false},                      // a suffix matches at a label boundary
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.MatchesPush(tt.name); got != tt.want {
				t.Errorf("MatchesPush(%q): got %v; want %v", tt.name, got, tt.want)
			}
		})
	}
	want := []string{".tlivepush.com", ".livepush.myqcloud.com", ".ingest.example.net"}
	if got := p.AcceptedPushSuffixes(); !slices.Equal(got, want) {
		t.Errorf("AcceptedPushSuffixes: got %v; want %v", got, want)
	}
	if got := Builtin()[Tencent].PushSuffixes; slices.Contains(got, ".ingest.example.net") {
		t.Errorf("built-in push suffixes: got %v; the extra suffix must not leak into them", got)
	}
}

// An extra suffix is a team's own domain: it must not make "auto" take a URL on that domain for
// the provider's (which would, for Tencent, demand txSecret and txTime).
func TestResolveAutoIgnoresExtraSuffixes(t *testing.T) {
	profiles := Builtin()
	tc := profiles[Tencent]
	tc.ExtraPushSuffixes = []string{".ingest.example.net"}
	profiles[Tencent] = tc
	tests := []struct {
		url, want string
	}{
		{"rtmp://lb1.ingest.example.net/live/show", Generic},
		{"rtmp://push.example.com.tlivepush.com/live/show", Tencent},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := ingesturl.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := Resolve(Auto, u, profiles); !ok || got.Name != tt.want {
				t.Errorf("Resolve(auto): got %q, %v; want %q", got.Name, ok, tt.want)
			}
		})
	}
}
