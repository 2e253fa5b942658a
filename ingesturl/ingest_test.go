package ingesturl

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// testRules is a made-up platform: RTMPS on 443 at .s.example.net, RTMP on 1935 at .p.example.net,
// application "in". The real platforms' rules are table-tested in package provider.
func testRules() *IngestRules {
	return &IngestRules{
		Provider: "example", Title: "Example Live", App: "in",
		Ingests: []Ingest{
			{Scheme: "rtmps", Port: 443, Hosts: []string{".s.example.net"}, Example: "rtmps://a.s.example.net:443/in/<stream key>"},
			{Scheme: "rtmp", Port: 1935, Hosts: []string{".p.example.net"}, Example: "rtmp://a.p.example.net/in/<stream key>"},
		},
	}
}

func TestLintIngest(t *testing.T) {
	const key = "k3y5ecret"
	tests := []struct {
		name   string
		url    string
		fronts []string
		want   []Issue
		rules  string // the lint's ingest_rules: "" when the rules said nothing
	}{
		{"as the platform gives it", "rtmps://a.s.example.net:443/in/" + key, nil, nil, "example"},
		{"the other scheme, its own host", "rtmp://a.p.example.net/in/" + key, nil, nil, "example"},
		{"host names compare without case", "rtmp://A.P.Example.NET/in/" + key, nil, nil, "example"},
		{"rtmp:// to the rtmps host", "rtmp://a.s.example.net/in/" + key, nil,
			[]Issue{{Kind: IngestHostScheme, Found: "rtmps", Want: "rtmp"}}, "example"},
		{"a host that is not the platform's", "rtmp://relay.example.org/in/" + key, nil,
			[]Issue{{Kind: IngestHost}}, "example"},
		{"an IP literal", "rtmp://192.0.2.7/in/" + key, nil, []Issue{{Kind: IngestHost}}, "example"},
		{"a declared front is the platform's", "rtmp://edge.lb.example.org/in/" + key, []string{".lb.example.org"}, nil, "example"},
		{"the wrong port", "rtmps://a.s.example.net:1935/in/" + key, nil,
			[]Issue{{Kind: IngestPort, Found: "1935", Want: "443"}}, "example"},
		{"the wrong application", "rtmp://a.p.example.net/live/" + key, nil,
			[]Issue{{Kind: IngestApp, Found: "live", Want: "in"}}, "example"},
		{"no stream key", "rtmp://a.p.example.net/in", nil, []Issue{{Kind: IngestKeyMissing}}, "example"},
		{"no stream key, trailing slash", "rtmp://a.p.example.net/in/", nil, []Issue{{Kind: IngestKeyMissing}}, "example"},
		// The one segment is the application or the key: it is never repeated.
		{"one segment that is not the application", "rtmp://a.p.example.net/" + key, nil,
			[]Issue{{Kind: IngestApp, Want: "in", Reason: ReasonOneSegment}}, "example"},
		{"no path at all", "rtmp://a.p.example.net", nil,
			[]Issue{{Kind: IngestApp, Want: "in"}, {Kind: IngestKeyMissing}}, "example"},
		{"the key in the query (YouTube's ?backup=1 form)", "rtmp://a.p.example.net/in?backup=1/" + key, nil, nil, "example"},
		{"several at once", "rtmps://relay.example.org:8443/live/" + key, nil,
			[]Issue{{Kind: IngestHost}, {Kind: IngestPort, Found: "8443", Want: "443"}, {Kind: IngestApp, Found: "live", Want: "in"}}, "example"},
		{"srt, which the platform does not document: no claim", "srt://a.p.example.net:9000?streamid=" + key, nil, nil, ""},
		{"https is judged by the scheme lint, not here", "https://a.p.example.net/in/" + key, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			r := testRules()
			r.Fronts = tt.fronts
			l := LintURL(u, LintOptions{Ingest: r})
			var got []Issue
			for _, i := range l.Issues {
				if i.Kind.IsIngest() {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("issues: got %+v; want %+v", got, tt.want)
			}
			if l.IngestRules != tt.rules {
				t.Errorf("ingest_rules: got %q; want %q", l.IngestRules, tt.rules)
			}
			b, _ := json.Marshal(l)
			if strings.Contains(string(b), key) {
				t.Errorf("the lint holds the stream key: %s", b)
			}
		})
	}
}

func TestLintIngestRefusedScheme(t *testing.T) {
	r := &IngestRules{Provider: "tlsonly", App: "rtmp",
		Ingests: []Ingest{{Scheme: "rtmps", Port: 443, Hosts: []string{".live.example.net"}}}}
	tests := []struct {
		url  string
		want []Issue
	}{
		// The scheme is what to change; the host and port are not judged for a scheme refused.
		{"rtmp://x.live.example.net:80/rtmp/key", []Issue{{Kind: IngestScheme, Found: "rtmp", Want: "rtmps"}}},
		// The application is judged whatever the scheme.
		{"rtmp://x.live.example.net/live/key", []Issue{{Kind: IngestScheme, Found: "rtmp", Want: "rtmps"}, {Kind: IngestApp, Found: "live", Want: "rtmp"}}},
		{"rtmps://x.live.example.net/rtmp/key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			l := LintURL(u, LintOptions{Ingest: r})
			if !slices.Equal(l.Issues, tt.want) {
				t.Errorf("issues: got %+v; want %+v", l.Issues, tt.want)
			}
		})
	}
}

func TestMatchSuffix(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"a.rtmp.youtube.com", true},
		{"a.rtmp.youtube.com.", true},
		{"rtmp.youtube.com", true}, // the suffix's own name
		{"A.RTMP.YOUTUBE.COM", true},
		{"a.rtmps.youtube.com", false},
		{"evilrtmp.youtube.com", false}, // at a label boundary only
	}
	for _, tt := range tests {
		if got := MatchSuffix(tt.name, []string{".rtmp.youtube.com"}); got != tt.want {
			t.Errorf("MatchSuffix(%q): got %v; want %v", tt.name, got, tt.want)
		}
	}
}
