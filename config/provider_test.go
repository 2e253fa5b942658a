package config

import (
	"slices"
	"testing"
)

// TestExtraPushSuffixes: extra_push_suffixes widens a provider's accepted push targets (a team's own
// DNS or load balancer in front of the ingest) and leaves the provider's own suffixes as they are.
func TestExtraPushSuffixes(t *testing.T) {
	builtinPush := []string{".tlivepush.com", ".livepush.myqcloud.com"}
	tests := []struct {
		name, text string
		provider   string
		wantPush   []string
		wantExtra  []string
		accepted   string // a name the profile must now accept
	}{
		{"on the built-in tencent", "[providers.tencent]\nextra_push_suffixes = [\".lb.example.net\"]\n",
			"tencent", builtinPush, []string{".lb.example.net"}, "edge1.lb.example.net"},
		{"beside overridden push suffixes", "[providers.mycdn]\npush_cname_suffixes = [\".ingest.mycdn.example\"]\nextra_push_suffixes = [\".a.example\", \".b.example\"]\n",
			"mycdn", []string{".ingest.mycdn.example"}, []string{".a.example", ".b.example"}, "lb.b.example"},
		{"not set", "[providers.tencent]\nplayback_cname_suffixes = [\".tlivecdn.com\"]\n",
			"tencent", builtinPush, nil, "x.tlivepush.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			p := c.Profiles()[tt.provider]
			if !slices.Equal(p.PushSuffixes, tt.wantPush) || !slices.Equal(p.ExtraPushSuffixes, tt.wantExtra) {
				t.Errorf("got push %v, extra %v; want push %v, extra %v", p.PushSuffixes, p.ExtraPushSuffixes, tt.wantPush, tt.wantExtra)
			}
			if !p.MatchesPush(tt.accepted) {
				t.Errorf("MatchesPush(%q): got false; want true", tt.accepted)
			}
		})
	}
}

func TestExtraPushSuffixesInvalid(t *testing.T) {
	_, err := Parse([]byte("[providers.tencent]\nextra_push_suffixes = [\".lb.example.net\", \"lb2.example.net\"]\n"))
	want := `: providers.tencent.extra_push_suffixes[1]: "lb2.example.net" must start with "." (like ".tlivepush.com")`
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
}
